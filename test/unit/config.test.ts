import {
  ConfigError,
  defaultNodeZones,
  MinikubeClusterConfig,
  minikubeNodeNames,
  parseConfig,
  RawConfig,
  StackConfig,
  supportsTrafficDistribution,
} from "../../stacks/config";

function minikubeCluster(config: StackConfig): MinikubeClusterConfig {
  if (config.cluster.provider !== "minikube")
    throw new Error(`expected minikube, got ${config.cluster.provider}`);
  return config.cluster;
}

function problemsOf(raw: RawConfig): string[] {
  try {
    parseConfig(raw, "sidecar");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("defaults", () => {
  const config = parseConfig({}, "sidecar");

  it("builds the blog's lab on supported versions: minikube with 3 nodes in 3 zones on Kubernetes v1.36.5, Istio 1.30.5 from blob.istio.io, Bookinfo 1.20.2", () => {
    expect(config.dataplaneMode).toBe("sidecar");
    expect(config.locality).toBe("strict");
    expect(config.zones).toEqual(["zone-a", "zone-b", "zone-c"]);
    expect(config.cluster).toMatchObject({
      provider: "minikube",
      nodes: 3,
      cpus: 2,
      memoryMb: 4096,
      driver: "podman",
      kubernetesVersion: "v1.36.5",
    });
    expect(config.istio.version).toBe("1.30.5");
    expect(config.istio.chartRepository).toBe("https://blob.istio.io/istio-release/charts");
    expect(config.istio.ingressGateway).toBe(true);
    expect(config.bookinfo).toMatchObject({
      namespace: "bookinfo",
      imageTag: "1.20.2",
      replicasPerZone: 1,
      minReadySeconds: 10,
    });
    expect(config.bookinfo.reviewsZones).toEqual({ v1: "zone-a", v2: "zone-b", v3: "zone-c" });
  });

  it("derives the minikube profile from the stack, so both stacks can exist side by side", () => {
    expect(minikubeCluster(parseConfig({}, "sidecar")).profile).toBe("istio-locality-sidecar");
    expect(minikubeCluster(parseConfig({}, "ambient")).profile).toBe("istio-locality-ambient");
  });

  it("maps minikube node i to zone i mod N", () => {
    expect(config.cluster.nodeZones).toEqual({
      "istio-locality-sidecar": "zone-a",
      "istio-locality-sidecar-m02": "zone-b",
      "istio-locality-sidecar-m03": "zone-c",
    });
    expect(defaultNodeZones(minikubeNodeNames("p", 4), ["a", "b"])).toEqual({
      p: "a",
      "p-m02": "b",
      "p-m03": "a",
      "p-m04": "b",
    });
  });

  it("picks the container runtime minikube recommends for the driver", () => {
    expect(minikubeCluster(config).containerRuntime).toBe("cri-o");
    expect(minikubeCluster(parseConfig({ cluster: { driver: "docker" } }, "s")).containerRuntime).toBe(
      "docker",
    );
  });

  it("keeps defaults for keys left out of an object", () => {
    const partial = parseConfig({ cluster: { nodes: 4 }, istio: { ingressGateway: false } }, "s");
    expect(minikubeCluster(partial).cpus).toBe(2);
    expect(partial.istio.version).toBe("1.30.5");
  });

  it("keeps the program's Helm values unless the user gives some, by chart", () => {
    expect(config.istio.values).toEqual({});
    const values = { istiod: { pilot: { env: { PILOT_X: "1" } } }, cni: {} };
    expect(parseConfig({ istio: { values } }, "s").istio.values).toEqual(values);
  });

  it("wraps reviews versions over fewer zones", () => {
    expect(
      parseConfig({ zones: ["east", "west"], cluster: { nodes: 2 } }, "s").bookinfo.reviewsZones,
    ).toEqual({
      v1: "east",
      v2: "west",
      v3: "east",
    });
  });

  it("defaults existing clusters to nodes that are already labelled", () => {
    const existing = parseConfig({ cluster: { provider: "existing", kubeconfig: __filename } }, "s");
    expect(existing.cluster.nodeZones).toBe("labelled");
  });
});

describe("validation", () => {
  it.each<[string, RawConfig, string]>([
    [
      "unknown mode",
      { dataplaneMode: "ambiant" },
      "`istio-locality:dataplaneMode` is `ambiant`; expected `sidecar` or `ambient`",
    ],
    [
      "unknown locality",
      { locality: "nearest" },
      "`istio-locality:locality` is `nearest`; expected one of `strict`, `failover`, `off`",
    ],
    ["no zones", { zones: [] }, "`istio-locality:zones` is `[]`; expected a non-empty list of zone names"],
    [
      "duplicate zones",
      { zones: ["zone-a", "zone-a"] },
      '`istio-locality:zones` is `["zone-a","zone-a"]`; expected distinct zone names; `zone-a` appears twice',
    ],
    [
      "a reviews version in an unknown zone",
      { bookinfo: { reviewsZones: { v2: "zone-x" } } },
      "`istio-locality:bookinfo.reviewsZones.v2` is `zone-x`; expected one of the zones (one of `zone-a`, `zone-b`, `zone-c`)",
    ],
    [
      "a rollout that never waits for the mesh",
      { bookinfo: { minReadySeconds: 0 } },
      "`istio-locality:bookinfo.minReadySeconds` is `0`; expected an integer from 1 to 600",
    ],
    [
      "an unknown reviews version",
      { bookinfo: { reviewsZones: { v4: "zone-a" } } },
      "`istio-locality:bookinfo.reviewsZones.v4` is `zone-a`; expected a key among one of `v1`, `v2`, `v3`",
    ],
    [
      "more zones than minikube nodes",
      { zones: ["a", "b", "c", "d"] },
      '`istio-locality:zones` is `["a","b","c","d"]`; expected at most 3 zones, one per minikube node (`cluster.nodes` is 3)',
    ],
    [
      "a Kubernetes version without trafficDistribution in ambient",
      { dataplaneMode: "ambient", cluster: { kubernetesVersion: "v1.30.4" }, istio: { version: "1.26.8" } },
      "`istio-locality:cluster.kubernetesVersion` is `v1.30.4`; expected v1.31 or newer: ambient locality needs Service `spec.trafficDistribution`",
    ],
    [
      "a malformed Kubernetes version",
      { cluster: { kubernetesVersion: "1.32" } },
      "`istio-locality:cluster.kubernetesVersion` is `1.32`; expected a Kubernetes version such as `v1.36.5`",
    ],
    [
      "a malformed Istio version",
      { istio: { version: "v1.26.6" } },
      "`istio-locality:istio.version` is `v1.26.6`; expected an Istio version such as `1.30.5`",
    ],
    [
      "an unknown cluster provider",
      { cluster: { provider: "kind" } },
      "`istio-locality:cluster.provider` is `kind`; expected `minikube` or `existing`",
    ],
    [
      "an existing cluster without kubeconfig",
      { cluster: { provider: "existing" } },
      "`istio-locality:cluster.kubeconfig` is not set; expected the path of a kubeconfig file when `cluster.provider` is `existing`",
    ],
    [
      "a node mapped to an unknown zone",
      { cluster: { provider: "existing", kubeconfig: __filename, nodeZones: { "node-1": "zone-q" } } },
      "`istio-locality:cluster.nodeZones.node-1` is `zone-q`; expected one of the zones",
    ],
    [
      "a node map with minikube",
      { cluster: { nodeZones: { a: "zone-a" } } },
      '`istio-locality:cluster.nodeZones` is `{"a":"zone-a"}`; expected no value with minikube',
    ],
    [
      "an unknown driver",
      { cluster: { driver: "kvm2" } },
      "`istio-locality:cluster.driver` is `kvm2`; expected `podman` or `docker`",
    ],
    [
      "too few nodes",
      { cluster: { nodes: 0 } },
      "`istio-locality:cluster.nodes` is `0`; expected an integer from 1 to 20",
    ],
    [
      "a namespace that is no DNS label",
      { bookinfo: { namespace: "Book_Info" } },
      "`istio-locality:bookinfo.namespace` is `Book_Info`; expected a DNS label",
    ],
    [
      "Helm values that are no object",
      { istio: { values: ["istiod"] } },
      '`istio-locality:istio.values` is `["istiod"]`; expected an object of Helm values by chart (one of `base`, `istiod`, `cni`, `ztunnel`, `gateway`)',
    ],
    [
      "Helm values for an unknown chart",
      { istio: { values: { "istio-base": { base: {} } } } },
      '`istio-locality:istio.values.istio-base` is `{"base":{}}`; expected a chart name as key, one of `base`, `istiod`, `cni`, `ztunnel`, `gateway`',
    ],
    [
      "Helm values of a chart that are no object",
      { istio: { values: { istiod: "pilot.env.X=1" } } },
      "`istio-locality:istio.values.istiod` is `pilot.env.X=1`; expected an object of Helm values for the `istiod` chart",
    ],
    [
      "Helm values of a chart that are a list",
      { istio: { values: { gateway: [{ service: {} }] } } },
      '`istio-locality:istio.values.gateway` is `[{"service":{}}]`; expected an object of Helm values for the `gateway` chart',
    ],
    [
      "an unknown waypoint choice",
      { waypoint: "on" },
      "`istio-locality:waypoint` is `on`; expected one of `auto`, `always`, `never`",
    ],
    [
      "an unknown mTLS mode",
      { mtls: "STRICT" },
      "`istio-locality:mtls` is `STRICT`; expected `permissive` or `strict`",
    ],
    [
      "Gateway API CRDs from a file that does not exist",
      { istio: { gatewayApiCrds: "/nowhere/standard-install.yaml" } },
      "`istio-locality:istio.gatewayApiCrds` is `/nowhere/standard-install.yaml`; expected an http(s) URL, `installed`, or a readable file or folder of the Gateway API CRDs (/nowhere/standard-install.yaml: no such file)",
    ],
    [
      "an unknown ingress Service type",
      { istio: { ingressServiceType: "ExternalName" } },
      "`istio-locality:istio.ingressServiceType` is `ExternalName`; expected one of `NodePort`, `ClusterIP`, `LoadBalancer`",
    ],
  ])("rejects %s with a message naming key, value and what is allowed", (_, raw, message) => {
    const problems = problemsOf(raw);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  it("allows old Kubernetes in ambient when locality is off", () => {
    expect(() =>
      parseConfig(
        {
          dataplaneMode: "ambient",
          locality: "off",
          cluster: { kubernetesVersion: "v1.30.0" },
          istio: { version: "1.26.8" },
        },
        "s",
      ),
    ).not.toThrow();
  });

  it("names every problem at once", () => {
    const problems = problemsOf({ dataplaneMode: "ambiant", locality: "nearest", zones: [] });
    expect(problems.map((p) => p.split("`")[1])).toEqual([
      "istio-locality:dataplaneMode",
      "istio-locality:locality",
      "istio-locality:zones",
    ]);
  });

  it("puts every problem into the error message", () => {
    expect(() => parseConfig({ dataplaneMode: "ambiant" }, "s")).toThrow(
      /invalid configuration:\n {2}- `istio-locality:dataplaneMode` is `ambiant`/,
    );
  });
});

describe("supportsTrafficDistribution", () => {
  it.each([
    ["v1.30.9", false],
    ["v1.31.0", true],
    ["v1.32.0", true],
    ["v2.0.0", true],
    ["garbage", false],
  ])("%s → %s", (version, expected) => {
    expect(supportsTrafficDistribution(version)).toBe(expected);
  });
});

describe("an existing cluster's kubeconfig", () => {
  const existing = (kubeconfig: unknown): RawConfig => ({ cluster: { provider: "existing", kubeconfig } });

  it.each([
    ["a missing file", "/no/such/kubeconfig", "(/no/such/kubeconfig: no such file)"],
    ["a folder", __dirname, `(${__dirname}: it is not a file)`],
  ])("is refused when it is %s, before anything reads it", (_, file, why) => {
    expect(problemsOf(existing(file))).toEqual([
      `\`istio-locality:cluster.kubeconfig\` is \`${file}\`; expected a readable kubeconfig file ${why}`,
    ]);
  });

  it("is judged where the program runs: a relative path from the project folder", () => {
    const seen: string[] = [];
    parseConfig(existing("kube/config"), "s", (file) => {
      seen.push(file);
      return undefined;
    });
    expect(seen).toEqual(["kube/config"]);
  });

  it("is not read for minikube, whose kubeconfig the program writes itself", () => {
    const files = jest.fn(() => "never");
    parseConfig({ cluster: { kubeconfig: "/ignored" } }, "s", files);
    expect(files).not.toHaveBeenCalled();
  });
});
