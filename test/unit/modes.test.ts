import { parseConfig } from "../../stacks/config";
import {
  cniPlatform,
  effectiveIntent,
  istioCharts,
  localityPlan,
  namespaceLabels,
  usesWaypoint,
  WAYPOINT_STRICT_NOTE,
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
  it("sends an ambient namespace's services through the waypoint with the ambient label, never in sidecar mode", () => {
    expect(namespaceLabels("ambient", true).ambient).toEqual({
      "istio.io/dataplane-mode": "ambient",
      "istio.io/use-waypoint": "waypoint",
    });
    expect(namespaceLabels("sidecar", true).ambient).toEqual({});
  });
});

describe("localityPlan", () => {
  it.each([
    ["sidecar", "strict", false, true, "PreferClose"],
    ["sidecar", "failover", false, true, "PreferClose"],
    ["sidecar", "off", false, true, undefined],
    ["ambient", "strict", false, false, "PreferClose"],
    ["ambient", "failover", false, false, "PreferClose"],
    ["ambient", "off", false, false, undefined],
    ["ambient", "strict", true, true, "PreferClose"],
    ["ambient", "failover", true, true, "PreferClose"],
    ["ambient", "off", true, true, undefined],
  ] as const)(
    "%s/%s, waypoint %s: DestinationRules %s, trafficDistribution %s",
    (mode, intent, waypoint, rules, distribution) => {
      const plan = localityPlan(mode, intent, "v1.32.0", [], waypoint);
      expect(plan.destinationRules).toBe(rules);
      expect(plan.trafficDistribution).toBe(distribution);
    },
  );

  it("warns that strict behaves as failover in ambient without a waypoint", () => {
    expect(localityPlan("ambient", "strict", "v1.32.0", [], false).warnings).toEqual([
      expect.stringContaining(
        "locality `strict` in ambient mode behaves as `failover` with `waypoint: never`",
      ),
    ]);
    expect(localityPlan("ambient", "failover", "v1.32.0", [], false).warnings).toEqual([]);
    expect(localityPlan("sidecar", "strict", "v1.32.0", [], false).warnings).toEqual([]);
  });

  it("says what strict through the waypoint holds, and where it fails over", () => {
    expect(localityPlan("ambient", "strict", "v1.32.0", [], true).warnings).toEqual([WAYPOINT_STRICT_NOTE]);
    expect(WAYPOINT_STRICT_NOTE).toContain("while it is not, they fail over to another zone's replica");
    expect(localityPlan("ambient", "failover", "v1.32.0", [], true).warnings).toEqual([]);
  });

  it("warns when strict locality leaves a zone without reviews", () => {
    expect(localityPlan("sidecar", "strict", "v1.32.0", ["zone-d"], false).warnings).toEqual([
      expect.stringContaining("no reviews version lives in zone-d"),
    ]);
  });

  it("leaves trafficDistribution out where the API server would drop it", () => {
    expect(localityPlan("sidecar", "strict", "v1.30.0", [], false).trafficDistribution).toBeUndefined();
  });

  it("names the mechanism in force", () => {
    expect(localityPlan("sidecar", "strict", "v1.32.0", [], false).mechanism).toContain(
      "DestinationRule localityLbSetting",
    );
    expect(localityPlan("ambient", "strict", "v1.32.0", [], false).mechanism).toContain(
      "trafficDistribution: PreferClose",
    );
    expect(localityPlan("ambient", "strict", "v1.32.0", [], true).mechanism).toContain(
      "read by a zonal waypoint (a ready replica per zone)",
    );
  });
});

describe("usesWaypoint and effectiveIntent", () => {
  it.each([
    ["sidecar", "strict", "always", false],
    ["ambient", "strict", "auto", true],
    ["ambient", "failover", "auto", false],
    ["ambient", "off", "auto", false],
    ["ambient", "failover", "always", true],
    ["ambient", "off", "always", true],
    ["ambient", "strict", "never", false],
  ] as const)("%s/%s with waypoint %s: %s", (mode, intent, choice, expected) => {
    expect(usesWaypoint(mode, intent, choice)).toBe(expected);
  });

  it("carries strict in ambient only through a waypoint", () => {
    expect(effectiveIntent("ambient", "strict", true)).toBe("strict");
    expect(effectiveIntent("ambient", "strict", false)).toBe("failover");
    expect(effectiveIntent("sidecar", "strict", false)).toBe("strict");
    expect(effectiveIntent("ambient", "off", false)).toBe("off");
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
