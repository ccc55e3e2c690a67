import { deploymentSpec, workloadSpecs } from "../../components/bookinfo";
import { minikubeStartCommand, topologyLabels } from "../../components/cluster";
import { chartReference, istioValues, MODE_ANNOTATION } from "../../components/istio";
import { destinationRuleSpec, localityLbSetting, OUTLIER_DETECTION } from "../../components/locality";

const istioArgs = {
  version: "1.26.6",
  hub: "docker.io/istio",
  ingressGateway: true,
  ingressServiceType: "NodePort" as const,
};

describe("minikubeStartCommand", () => {
  const line = minikubeStartCommand({
    profile: "lab",
    nodes: 3,
    cpus: 2,
    memoryMb: 4096,
    driver: "podman",
    containerRuntime: "cri-o",
    kubernetesVersion: "v1.32.0",
  });

  it("starts the seed's cluster under its own profile", () => {
    expect(line).toBe(
      "minikube start --profile=lab --nodes=3 --cpus=2 --memory=4096 --driver=podman --container-runtime=cri-o " +
        "--kubernetes-version=v1.32.0 --cni=kindnet --embed-certs",
    );
  });
});

describe("topologyLabels", () => {
  it("puts a shared region beside the zone", () => {
    expect(topologyLabels("zone-b", "region-1")).toEqual({
      "topology.kubernetes.io/region": "region-1",
      "topology.kubernetes.io/zone": "zone-b",
    });
  });
});

describe("istioValues", () => {
  it("installs istiod with its defaults in sidecar mode and the ambient profile in ambient mode", () => {
    expect(istioValues("istiod", { ...istioArgs, mode: "sidecar" })).toEqual({
      global: { hub: "docker.io/istio", tag: "1.26.6" },
    });
    expect(istioValues("istiod", { ...istioArgs, mode: "ambient" })).toEqual({
      profile: "ambient",
      global: { hub: "docker.io/istio", tag: "1.26.6" },
    });
  });

  it("gives cni the ambient profile, and the minikube platform only when asked", () => {
    expect(istioValues("cni", { ...istioArgs, mode: "ambient" })).toEqual({
      profile: "ambient",
      global: { hub: "docker.io/istio", tag: "1.26.6" },
    });
    expect(istioValues("cni", { ...istioArgs, mode: "ambient", cniPlatform: "minikube" })).toMatchObject({
      global: { platform: "minikube" },
    });
  });

  it("pins ztunnel's own image fields", () => {
    expect(istioValues("ztunnel", { ...istioArgs, mode: "ambient" })).toMatchObject({
      hub: "docker.io/istio",
      tag: "1.26.6",
    });
  });

  it("gives the gateway a Service that does not wait for an external address, and a mode annotation", () => {
    expect(istioValues("gateway", { ...istioArgs, mode: "ambient" })).toEqual({
      service: { type: "NodePort" },
      podAnnotations: { [MODE_ANNOTATION]: "ambient" },
    });
  });

  it("leaves base at its defaults", () => {
    expect(istioValues("base", { ...istioArgs, mode: "ambient" })).toEqual({});
  });
});

describe("chartReference", () => {
  it("names the chart in the repository", () => {
    expect(chartReference("istiod", { repository: "https://charts.example" }, "1.26.6")).toEqual({
      chart: "istiod",
      version: "1.26.6",
      repositoryOpts: { repo: "https://charts.example" },
    });
  });
  it("points at the chart's folder in a local directory", () => {
    expect(chartReference("ztunnel", { directory: "/charts/istio-1.26.6" }, "1.26.6")).toEqual({
      chart: "/charts/istio-1.26.6/ztunnel",
    });
  });
});

describe("localityLbSetting", () => {
  const zones = ["zone-a", "zone-b", "zone-c"];

  it("strict: each zone distributes 100 % to itself", () => {
    expect(localityLbSetting("strict", zones)).toEqual({
      enabled: true,
      distribute: [
        { from: "*/zone-a/*", to: { "*/zone-a/*": 100 } },
        { from: "*/zone-b/*", to: { "*/zone-b/*": 100 } },
        { from: "*/zone-c/*", to: { "*/zone-c/*": 100 } },
      ],
    });
  });

  it("failover: own zone first, by failover priority", () => {
    expect(localityLbSetting("failover", zones)).toEqual({
      enabled: true,
      failoverPriority: ["topology.kubernetes.io/region", "topology.kubernetes.io/zone"],
    });
  });

  it("off: disabled for the host, overriding the mesh default", () => {
    expect(localityLbSetting("off", zones)).toEqual({ enabled: false });
  });
});

describe("destinationRuleSpec", () => {
  it("targets the service's FQDN and carries the seed's outlier detection", () => {
    const spec = destinationRuleSpec("reviews", "bookinfo", "strict", ["zone-a"]);
    expect(spec).toEqual({
      host: "reviews.bookinfo.svc.cluster.local",
      trafficPolicy: {
        loadBalancer: { localityLbSetting: localityLbSetting("strict", ["zone-a"]) },
        outlierDetection: { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s" },
      },
    });
    expect(OUTLIER_DETECTION).toEqual({ consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s" });
  });
});

describe("workloadSpecs", () => {
  const specs = workloadSpecs({
    zones: ["zone-a", "zone-b", "zone-c"],
    imageTag: "1.20.2",
    reviewsZones: { v1: "zone-a", v2: "zone-b", v3: "zone-c" },
    clientImage: "curlimages/curl:8.16.0",
  });
  const byName = new Map(specs.map((s) => [s.name, s]));

  it("runs details, ratings, productpage and a client in every zone", () => {
    for (const zone of ["zone-a", "zone-b", "zone-c"]) {
      for (const app of ["details", "ratings", "productpage", "client"]) {
        expect(byName.get(`${app}-${zone}`)).toMatchObject({ app, zone, env: { CLUSTER_NAME: zone } });
      }
    }
  });

  it("pins each reviews version to its zone with the seed's images", () => {
    expect(byName.get("reviews-v1")).toMatchObject({
      zone: "zone-a",
      image: "docker.io/istio/examples-bookinfo-reviews-v1:1.20.2",
      env: { CLUSTER_NAME: "zone-a" },
    });
    expect(byName.get("reviews-v2")?.zone).toBe("zone-b");
    expect(byName.get("reviews-v3")?.zone).toBe("zone-c");
  });

  it("has nothing else", () => {
    expect(specs).toHaveLength(3 * 4 + 3);
  });
});

describe("deploymentSpec", () => {
  const [productpage] = workloadSpecs({
    zones: ["zone-b"],
    imageTag: "1.20.2",
    reviewsZones: { v1: "zone-b", v2: "zone-b", v3: "zone-b" },
    clientImage: "curl",
  }).filter((w) => w.app === "productpage");
  const spec = deploymentSpec(productpage, "ambient", 2) as any;
  const pod = spec.template.spec;
  const container = pod.containers[0];

  it("never takes the last ready pod of a zone away during a rollout", () => {
    expect(spec.replicas).toBe(2);
    expect(spec.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    expect(spec.minReadySeconds).toBeGreaterThan(0);
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: "/health", port: "http" } });
  });

  it("drains: a preStop delay well inside the grace period", () => {
    expect(container.lifecycle.preStop.exec.command).toEqual(["sleep", "10"]);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
  });

  it("pins the pod to its zone with required node affinity", () => {
    expect(
      pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
    ).toEqual([
      { matchExpressions: [{ key: "topology.kubernetes.io/zone", operator: "In", values: ["zone-b"] }] },
    ]);
  });

  it("restarts pods on a mode change through a pod-template annotation", () => {
    expect(spec.template.metadata.annotations[MODE_ANNOTATION]).toBe("ambient");
    expect(
      (deploymentSpec(productpage, "sidecar", 2) as any).template.metadata.annotations[MODE_ANNOTATION],
    ).toBe("sidecar");
  });

  it("selects on labels that never change with the mode", () => {
    expect(spec.selector.matchLabels).toEqual({ app: "productpage", version: "v1", zone: "zone-b" });
    expect((deploymentSpec(productpage, "sidecar", 2) as any).selector).toEqual(spec.selector);
  });

  it("says where it serves from", () => {
    expect(container.env).toContainEqual({ name: "CLUSTER_NAME", value: "zone-b" });
    expect(container.ports).toEqual([{ name: "http", containerPort: 9080 }]);
  });
});
