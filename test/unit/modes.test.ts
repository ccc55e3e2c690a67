import { parseConfig } from "../../stacks/config";
import {
  cniPlatform,
  istioCharts,
  localityPlan,
  namespaceLabels,
  zonesWithoutReviews,
} from "../../stacks/modes";

describe("istioCharts", () => {
  it.each([
    ["sidecar", true, ["base", "istiod", "gateway"]],
    ["ambient", true, ["base", "istiod", "cni", "ztunnel", "gateway"]],
    ["sidecar", false, ["base", "istiod"]],
    ["ambient", false, ["base", "istiod", "cni", "ztunnel"]],
  ] as const)("%s with gateway=%s installs %j in order", (mode, gateway, charts) => {
    expect(istioCharts(mode, gateway)).toEqual(charts);
  });
});

describe("namespaceLabels", () => {
  it("enrols sidecar namespaces by injection and no ambient label", () => {
    expect(namespaceLabels("sidecar")).toEqual({ injection: { "istio-injection": "enabled" }, ambient: {} });
  });
  it("enrols ambient namespaces by the dataplane label and no injection label", () => {
    expect(namespaceLabels("ambient")).toEqual({
      injection: {},
      ambient: { "istio.io/dataplane-mode": "ambient" },
    });
  });
});

describe("localityPlan", () => {
  it.each([
    ["sidecar", "strict", true, "PreferClose"],
    ["sidecar", "failover", true, "PreferClose"],
    ["sidecar", "off", true, undefined],
    ["ambient", "strict", false, "PreferClose"],
    ["ambient", "failover", false, "PreferClose"],
    ["ambient", "off", false, undefined],
  ] as const)("%s/%s: DestinationRules %s, trafficDistribution %s", (mode, intent, rules, distribution) => {
    const plan = localityPlan(mode, intent, "v1.32.0", []);
    expect(plan.destinationRules).toBe(rules);
    expect(plan.trafficDistribution).toBe(distribution);
  });

  it("warns that strict behaves as failover in ambient", () => {
    expect(localityPlan("ambient", "strict", "v1.32.0", []).warnings).toEqual([
      expect.stringContaining("locality `strict` in ambient mode behaves as `failover`"),
    ]);
    expect(localityPlan("ambient", "failover", "v1.32.0", []).warnings).toEqual([]);
    expect(localityPlan("sidecar", "strict", "v1.32.0", []).warnings).toEqual([]);
  });

  it("warns when strict locality leaves a zone without reviews", () => {
    expect(localityPlan("sidecar", "strict", "v1.32.0", ["zone-d"]).warnings).toEqual([
      expect.stringContaining("no reviews version lives in zone-d"),
    ]);
  });

  it("leaves trafficDistribution out where the API server would drop it", () => {
    expect(localityPlan("sidecar", "strict", "v1.30.0", []).trafficDistribution).toBeUndefined();
  });

  it("names the mechanism in force", () => {
    expect(localityPlan("sidecar", "strict", "v1.32.0", []).mechanism).toContain(
      "DestinationRule localityLbSetting",
    );
    expect(localityPlan("ambient", "strict", "v1.32.0", []).mechanism).toContain(
      "trafficDistribution: PreferClose",
    );
  });
});

describe("zonesWithoutReviews", () => {
  it("finds zones no reviews version lives in", () => {
    const config = parseConfig({ zones: ["a", "b", "c", "d"], cluster: { nodes: 4 } }, "s");
    expect(zonesWithoutReviews(config)).toEqual(["d"]);
    expect(zonesWithoutReviews(parseConfig({}, "s"))).toEqual([]);
  });
});

describe("cniPlatform", () => {
  it.each([
    [{ driver: "podman" }, undefined],
    [{ driver: "docker" }, "minikube"],
    [{ driver: "docker", containerRuntime: "containerd" }, undefined],
    [{ driver: "podman", containerRuntime: "docker" }, "minikube"],
    [{ provider: "existing", kubeconfig: __filename, driver: "docker" }, undefined],
  ])("%j → %s (only the Docker runtime keeps netns under /var/run/docker/netns)", (cluster, platform) => {
    expect(cniPlatform(parseConfig({ cluster }, "s"))).toBe(platform);
  });
});
