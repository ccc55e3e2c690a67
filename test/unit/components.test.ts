import { deploymentSpec, workloadSpecs } from "../../stacks/workloads";
import { minikubeStartCommand, topologyLabels } from "../../components/cluster";
import { chartReference, istioValues, mergeHelmValues } from "../../stacks/istio-releases";
import { MODE_ANNOTATION } from "../../stacks/contract";
import { destinationRuleSpec, localityLbSetting, OUTLIER_DETECTION } from "../../stacks/destination-rules";

const istioArgs = {
  version: "1.26.6",
  hub: "docker.io/istio",
  ingressGateway: true,
  ingressServiceType: "NodePort" as const,
};

describe("minikubeStartCommand", () => {
  const line = minikubeStartCommand({
    provider: "minikube",
    region: "region-1",
    nodeZones: {},
    profile: "lab",
    nodes: 3,
    cpus: 2,
    memoryMb: 4096,
    driver: "podman",
    containerRuntime: "cri-o",
    kubernetesVersion: "v1.32.0",
  });

  it("starts the blog's cluster (3 podman nodes, cri-o, kindnet) under its own profile", () => {
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

  it("sizes istiod like Istio's demo profile in a laptop lab, and leaves production requests elsewhere", () => {
    expect(istioValues("istiod", { ...istioArgs, mode: "sidecar", labSizedIstiod: true })).toEqual({
      global: { hub: "docker.io/istio", tag: "1.26.6" },
      pilot: { resources: { requests: { cpu: "10m", memory: "100Mi" } } },
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

describe("mergeHelmValues", () => {
  const program = {
    global: { hub: "docker.io/istio", tag: "1.26.6" },
    pilot: { env: { PILOT_A: "a" }, replicaCount: 1 },
    meshConfig: { extensionProviders: [{ name: "program" }] },
  };

  it("keeps the program's keys the user leaves alone and merges maps key by key", () => {
    const merged = mergeHelmValues(program, { pilot: { env: { PILOT_X: "1" } }, global: { tag: "1.27.0" } });
    expect(merged).toEqual({
      global: { hub: "docker.io/istio", tag: "1.27.0" },
      pilot: { env: { PILOT_A: "a", PILOT_X: "1" }, replicaCount: 1 },
      meshConfig: { extensionProviders: [{ name: "program" }] },
    });
  });

  it("lets the user's lists and scalars replace the program's, as Helm does", () => {
    const merged = mergeHelmValues(program, {
      meshConfig: { extensionProviders: [{ name: "user" }] },
      pilot: { replicaCount: 2, env: null },
      global: "replaced",
    });
    expect(merged.meshConfig).toEqual({ extensionProviders: [{ name: "user" }] });
    expect(merged.pilot).toEqual({ replicaCount: 2, env: null });
    expect(merged.global).toBe("replaced");
  });

  it("leaves the program's values as they are without user values, and does not change them", () => {
    expect(mergeHelmValues(program, undefined)).toEqual(program);
    mergeHelmValues(program, { pilot: { env: { PILOT_X: "1" } } });
    expect(program.pilot.env).toEqual({ PILOT_A: "a" });
  });
});

describe("localityLbSetting", () => {
  const zones = ["zone-a", "zone-b", "zone-c"];

  it("strict: each zone of the region distributes 100 % to itself", () => {
    expect(localityLbSetting("strict", zones, "region-1")).toEqual({
      enabled: true,
      distribute: [
        { from: "region-1/zone-a/*", to: { "region-1/zone-a/*": 100 } },
        { from: "region-1/zone-b/*", to: { "region-1/zone-b/*": 100 } },
        { from: "region-1/zone-c/*", to: { "region-1/zone-c/*": 100 } },
      ],
    });
  });

  it("failover: own zone first, by failover priority, whatever the region", () => {
    expect(localityLbSetting("failover", zones, "region-1")).toEqual({
      enabled: true,
      failoverPriority: ["topology.kubernetes.io/region", "topology.kubernetes.io/zone"],
    });
  });

  it("off: disabled for the host, overriding the mesh default", () => {
    expect(localityLbSetting("off", zones, "region-1")).toEqual({ enabled: false });
  });
});

describe("destinationRuleSpec", () => {
  it("targets the service's FQDN and carries the blog's outlier detection", () => {
    const spec = destinationRuleSpec("reviews", "bookinfo", "strict", ["zone-a"], "us-east1");
    expect(spec).toEqual({
      host: "reviews.bookinfo.svc.cluster.local",
      trafficPolicy: {
        loadBalancer: {
          localityLbSetting: {
            enabled: true,
            distribute: [{ from: "us-east1/zone-a/*", to: { "us-east1/zone-a/*": 100 } }],
          },
        },
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

  it("pins each reviews version to its zone with the blog's images", () => {
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
  const spec = deploymentSpec(productpage, "ambient", 2, 7) as any;
  const pod = spec.template.spec;
  const container = pod.containers[0];

  it("never takes the last ready pod of a zone away during a rollout", () => {
    expect(spec.replicas).toBe(2);
    expect(spec.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    expect(spec.minReadySeconds).toBe(7);
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
      (deploymentSpec(productpage, "sidecar", 2, 7) as any).template.metadata.annotations[MODE_ANNOTATION],
    ).toBe("sidecar");
  });

  it("keeps an ambient pod free of a sidecar even while the namespace still asks for injection", () => {
    expect(spec.template.metadata.labels["sidecar.istio.io/inject"]).toBe("false");
    expect((deploymentSpec(productpage, "sidecar", 2, 7) as any).template.metadata.labels).not.toHaveProperty(
      "sidecar.istio.io/inject",
    );
  });

  it("selects on labels that never change with the mode", () => {
    expect(spec.selector.matchLabels).toEqual({ app: "productpage", version: "v1", zone: "zone-b" });
    expect((deploymentSpec(productpage, "sidecar", 2, 7) as any).selector).toEqual(spec.selector);
  });

  it("says where it serves from", () => {
    expect(container.env).toContainEqual({ name: "CLUSTER_NAME", value: "zone-b" });
    expect(container.ports).toEqual([{ name: "http", containerPort: 9080 }]);
  });
});
