import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  FAKE_KUBECONFIG,
  GATEWAY_API_CRDS,
  ISTIO_CHART_INDEX,
  ProgramRun,
  runUnderMocks,
} from "../helpers/program";
import { shippedStackConfig } from "../helpers/stacks";
import * as yaml from "js-yaml";
import { DEFAULTS, REGION_LABEL, ZONE_LABEL } from "../../stacks/contract";
import { WAYPOINT_STRICT_NOTE } from "../../stacks/modes";
import { NODE_AGENTS_RECORD } from "../../stacks/istio-releases";
import { FetchText, TokenChallenge } from "../../stacks/charts";
import type { NodeLabels } from "../../readers/nodes";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SERVICE = "kubernetes:core/v1:Service";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const SERVICE_PATCH = "kubernetes:core/v1:ServicePatch";
const NODE_PATCH = "kubernetes:core/v1:NodePatch";
const CUSTOM = (kind: string) => `kubernetes:networking.istio.io/v1:${kind}`;

const names = (run: ProgramRun, type: string) =>
  run
    .byType(type)
    .map((r) => r.name)
    .sort();
const release = (run: ProgramRun, chart: string) => run.get(`istio-${chart}`).inputs;
/** The logical names a resource depends on directly. */
const directDependencies = (run: ProgramRun, name: string) =>
  run
    .get(name)
    .dependencies.map((urn) => run.resources.find((r) => r.urn === urn)?.name)
    .filter((dependency) => dependency !== undefined);
/** Every Istio custom resource of a sidecar stack with the ingress gateway. */
const ISTIO_RESOURCES = [
  "bookinfo-gateway",
  "bookinfo-routes",
  ...["details", "ratings", "reviews", "productpage"].map((service) => `locality-${service}-rule`),
];

describe.each(["sidecar", "ambient"] as const)("the shipped %s stack", (stack) => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runUnderMocks(shippedStackConfig(stack), { stack });
  });

  it("is configured by its stack file", () => {
    expect(run.outputs.dataplaneMode).toBe(stack);
    expect(run.outputs.locality).toBe("strict");
  });

  it("creates the blog's minikube cluster under the stack's own profile", () => {
    const minikube = run.get("cluster-minikube").inputs;
    expect(minikube.create).toContain(
      `minikube start --profile=istio-locality-${stack} --nodes=3 --cpus=2 --memory=4096`,
    );
    expect(minikube.create).toContain("--driver=podman");
    expect(minikube.create).toContain("--kubernetes-version=v1.36.5");
    expect(minikube.delete).toContain(`minikube delete --profile=istio-locality-${stack}`);
    expect(minikube.triggers).toEqual(
      expect.arrayContaining([`istio-locality-${stack}`, 3, "podman", "v1.36.5"]),
    );
  });

  it("writes the cluster's kubeconfig to a file named by the profile alone, not the default kubeconfig", () => {
    const minikube = run.get("cluster-minikube").inputs;
    expect(minikube.environment).toEqual({
      KUBECONFIG: path.join(os.homedir(), ".kube", `istio-locality-${stack}.yaml`),
    });
    expect(minikube.create).toMatch(/^mkdir -p "\$\(dirname "\$KUBECONFIG"\)" && minikube start /);
  });

  it("labels each node with its zone and the shared region", () => {
    const patches = run.byType(NODE_PATCH).map((r) => r.inputs.metadata);
    expect(patches).toEqual([
      {
        name: `istio-locality-${stack}`,
        labels: { "topology.kubernetes.io/region": "region-1", "topology.kubernetes.io/zone": "zone-a" },
      },
      {
        name: `istio-locality-${stack}-m02`,
        labels: { "topology.kubernetes.io/region": "region-1", "topology.kubernetes.io/zone": "zone-b" },
      },
      {
        name: `istio-locality-${stack}-m03`,
        labels: { "topology.kubernetes.io/region": "region-1", "topology.kubernetes.io/zone": "zone-c" },
      },
    ]);
  });

  it("puts every Kubernetes resource on the explicit provider", () => {
    const provider = run.get("cluster-provider");
    const kubernetesResources = run.resources.filter(
      (r) => r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes",
    );
    expect(kubernetesResources.length).toBeGreaterThan(40);
    for (const resource of kubernetesResources) {
      expect([resource.name, resource.provider]).toEqual([
        resource.name,
        `${provider.urn}::${provider.name}-id`,
      ]);
    }
    expect(provider.inputs.kubeconfig).toBeDefined();
  });

  it("lets every Kubernetes object go with the minikube cluster, so destroy deletes only the cluster", () => {
    const minikube = run.get("cluster-minikube");
    const inCluster = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
    expect(inCluster.map((r) => r.type)).toContain(RELEASE);
    for (const resource of inCluster)
      expect([resource.name, resource.deletedWith]).toEqual([resource.name, minikube.urn]);
    expect(minikube.deletedWith).toBe("");
  });

  it("installs every chart at the pinned version, from the official repository, in its namespace", () => {
    for (const release of run.byType(RELEASE)) {
      expect(release.inputs.version).toBe("1.30.5");
      expect(release.inputs.repositoryOpts).toEqual({
        repo: "https://blob.istio.io/istio-release/charts",
      });
    }
    expect(release(run, "base")).toMatchObject({
      name: "istio-base",
      chart: "base",
      namespace: "istio-system",
    });
    expect(release(run, "istiod")).toMatchObject({
      name: "istiod",
      chart: "istiod",
      namespace: "istio-system",
    });
    expect(release(run, "gateway")).toMatchObject({
      name: "istio-ingress",
      chart: "gateway",
      namespace: "istio-ingress",
    });
  });

  it("installs Istio in the documented order, after the zone labels", () => {
    for (const node of ["", "-m02", "-m03"]) {
      expect(run.dependsOn("istio-base", `cluster-zone-istio-locality-${stack}${node}`)).toBe(true);
    }
    expect(run.dependsOn("istio-istiod", "istio-base")).toBe(true);
    expect(run.dependsOn("istio-gateway", "istio-istiod")).toBe(true);
  });

  it("deploys a ready replica of details, ratings, productpage and a client in every zone", () => {
    for (const zone of ["zone-a", "zone-b", "zone-c"]) {
      for (const app of ["details", "ratings", "productpage", "client"]) {
        const spec = run.get(`bookinfo-${app}-${zone}`).inputs.spec;
        expect(spec.replicas).toBe(1);
        expect(
          spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
            .nodeSelectorTerms[0].matchExpressions[0].values,
        ).toEqual([zone]);
      }
    }
  });

  it("pins each reviews version to its zone", () => {
    const zoneOf = (name: string) =>
      run.get(name).inputs.spec.template.spec.affinity.nodeAffinity
        .requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values;
    expect([
      zoneOf("bookinfo-reviews-v1"),
      zoneOf("bookinfo-reviews-v2"),
      zoneOf("bookinfo-reviews-v3"),
    ]).toEqual([["zone-a"], ["zone-b"], ["zone-c"]]);
  });

  it("rolls every Deployment without losing a ready pod", () => {
    for (const deployment of run.byType(DEPLOYMENT)) {
      expect(deployment.inputs.spec.strategy).toEqual({
        type: "RollingUpdate",
        rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
      });
      expect(deployment.inputs.spec.minReadySeconds).toBe(10);
      expect(deployment.inputs.spec.template.metadata.annotations["istio-locality.dev/dataplane-mode"]).toBe(
        stack,
      );
    }
  });

  it("serves Bookinfo on named http ports", () => {
    expect(names(run, SERVICE)).toEqual([
      "bookinfo-details",
      "bookinfo-productpage",
      "bookinfo-ratings",
      "bookinfo-reviews",
    ]);
    for (const service of run.byType(SERVICE)) {
      expect(service.inputs.spec.ports).toEqual([{ name: "http", port: 9080, targetPort: 9080 }]);
    }
  });

  it("keeps every Bookinfo service in-zone through trafficDistribution", () => {
    const patches = run
      .byType(SERVICE_PATCH)
      .map((r) => [r.inputs.metadata.name, r.inputs.spec.trafficDistribution]);
    expect(patches.sort()).toEqual([
      ["details", "PreferClose"],
      ["productpage", "PreferClose"],
      ["ratings", "PreferClose"],
      ["reviews", "PreferClose"],
    ]);
  });

  it("routes productpage through the ingress gateway", () => {
    expect(run.get("bookinfo-gateway").inputs.spec.selector).toEqual({ istio: "ingress" });
    expect(run.get("bookinfo-routes").inputs.spec.http[0].route[0].destination).toEqual({
      host: "productpage",
      port: { number: 9080 },
    });
    expect(run.dependsOn("bookinfo-gateway", "istio-base")).toBe(true);
  });

  it("exports what a user needs", () => {
    expect(run.outputs).toMatchObject({
      zones: ["zone-a", "zone-b", "zone-c"],
      nodeZones: {
        [`istio-locality-${stack}`]: "zone-a",
        [`istio-locality-${stack}-m02`]: "zone-b",
        [`istio-locality-${stack}-m03`]: "zone-c",
      },
      bookinfoNamespace: "bookinfo",
      migration: "none",
    });
    expect(run.outputs.kubeconfig).toContain("kind: Config");
    expect(run.outputs.productpage).toContain(
      `minikube service istio-ingress --profile=istio-locality-${stack}`,
    );
  });
});

describe("sidecar mode", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runUnderMocks(shippedStackConfig("sidecar"));
  });

  it("installs base, istiod and the gateway, without ambient components or profile", () => {
    expect(run.outputs.istioReleases).toEqual(["istio-base", "istiod", "istio-ingress"]);
    expect(names(run, RELEASE)).toEqual(["istio-base", "istio-gateway", "istio-istiod"]);
    // A minikube lab: istiod is sized like Istio's demo profile.
    expect(release(run, "istiod").values).toEqual({
      global: { hub: "docker.io/istio", tag: "1.30.5" },
      pilot: { resources: { requests: { cpu: "10m", memory: "100Mi" } } },
    });
  });

  it("labels the namespace for injection and not for ambient", () => {
    expect(run.get("bookinfo-injection-label").inputs.metadata.labels).toEqual({
      "istio-injection": "enabled",
    });
    expect(run.get("bookinfo-ambient-label").inputs.metadata.labels).toEqual({});
  });

  it("creates pods only once istiod's injection webhook exists", () => {
    expect(run.dependsOn("bookinfo-injection-label", "istio-istiod")).toBe(true);
    expect(run.dependsOn("bookinfo-reviews-v1", "bookinfo-injection-label")).toBe(true);
  });

  it("renders strict locality as a DestinationRule per service, with outlier detection", () => {
    const rules = run.byType(CUSTOM("DestinationRule"));
    expect(rules.map((r) => r.inputs.metadata.name).sort()).toEqual([
      "details-locality",
      "productpage-locality",
      "ratings-locality",
      "reviews-locality",
    ]);
    const reviews = run.get("locality-reviews-rule").inputs;
    expect(reviews.metadata.namespace).toBe("bookinfo");
    expect(reviews.spec).toEqual({
      host: "reviews.bookinfo.svc.cluster.local",
      trafficPolicy: {
        loadBalancer: {
          localityLbSetting: {
            enabled: true,
            distribute: [
              { from: "region-1/zone-a/*", to: { "region-1/zone-a/*": 100 } },
              { from: "region-1/zone-b/*", to: { "region-1/zone-b/*": 100 } },
              { from: "region-1/zone-c/*", to: { "region-1/zone-c/*": 100 } },
            ],
          },
        },
        outlierDetection: { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s" },
      },
    });
    expect(run.dependsOn("locality-reviews-rule", "istio-base")).toBe(true);
    expect(run.outputs.localityMechanism).toContain("DestinationRule");
  });
});

describe("ambient mode", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runUnderMocks(shippedStackConfig("ambient"), { stack: "ambient" });
  });

  it("adds cni and ztunnel and puts istiod and cni on the ambient profile", () => {
    expect(run.outputs.istioReleases).toEqual([
      "istio-base",
      "istiod",
      "istio-cni",
      "ztunnel",
      "istio-ingress",
    ]);
    expect(release(run, "istiod").values.profile).toBe("ambient");
    expect(release(run, "cni")).toMatchObject({
      name: "istio-cni",
      chart: "cni",
      namespace: "istio-system",
      values: { profile: "ambient" },
    });
    expect(release(run, "ztunnel")).toMatchObject({
      name: "ztunnel",
      chart: "ztunnel",
      namespace: "istio-system",
    });
  });

  it("keeps the Docker-runtime netns path out of cni on podman/cri-o", () => {
    expect(release(run, "cni").values.global.platform).toBeUndefined();
  });

  it("installs ztunnel after istiod and cni", () => {
    expect(run.dependsOn("istio-ztunnel", "istio-istiod")).toBe(true);
    expect(run.dependsOn("istio-ztunnel", "istio-cni")).toBe(true);
    expect(run.dependsOn("istio-cni", "istio-istiod")).toBe(true);
  });

  it("waits for ambient's node agents on every zoned node before the ambient label, a record of it in istio-system", () => {
    const record = run.get("istio-node-agents");
    expect(record.type).toBe("kubernetes:core/v1:ConfigMap");
    expect(record.inputs.metadata).toMatchObject({ name: NODE_AGENTS_RECORD, namespace: "istio-system" });
    expect(record.inputs.data).toEqual({ zones: "zone-a,zone-b,zone-c", releases: "istio-cni=1,ztunnel=1" });
    expect(record.hooks).toEqual({
      beforeCreate: ["istio-node-agents-check"],
      beforeUpdate: ["istio-node-agents-check"],
    });
    expect(run.dependsOn("istio-node-agents", "istio-ztunnel")).toBe(true);
    expect(run.dependsOn("istio-node-agents", "istio-cni")).toBe(true);
    expect(run.dependsOn("bookinfo-ambient-label", "istio-node-agents")).toBe(true);
  });

  it("labels the namespace ambient, through the waypoint, and removes injection, in the migration order", () => {
    expect(run.get("bookinfo-ambient-label").inputs.metadata.labels).toEqual({
      "istio.io/dataplane-mode": "ambient",
      "istio.io/use-waypoint": "waypoint",
    });
    expect(run.get("bookinfo-injection-label").inputs.metadata.labels).toEqual({});
    expect(run.dependsOn("bookinfo-ambient-label", "istio-ztunnel")).toBe(true);
    expect(run.dependsOn("bookinfo-ambient-label", "istio-gateway")).toBe(true);
    expect(run.dependsOn("bookinfo-ambient-label", "bookinfo-waypoint-zones")).toBe(true);
    expect(run.dependsOn("bookinfo-injection-label", "bookinfo-ambient-label")).toBe(true);
    for (const deployment of run.byType(DEPLOYMENT)) {
      expect(run.dependsOn(deployment.name, "bookinfo-injection-label")).toBe(true);
    }
  });

  it("keeps strict strict through a zonal waypoint: one replica per zone, spread, awaited ready in every zone", () => {
    const gateway = run.get("bookinfo-waypoint-gateway").inputs;
    expect(gateway).toMatchObject({
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "Gateway",
      metadata: { name: "waypoint", namespace: "bookinfo" },
      spec: {
        gatewayClassName: "istio-waypoint",
        infrastructure: { parametersRef: { group: "", kind: "ConfigMap", name: "waypoint-zones" } },
        listeners: [{ name: "mesh", port: 15008, protocol: "HBONE" }],
      },
    });
    const deployment = yaml.load(run.get("bookinfo-waypoint-parameters").inputs.data.deployment) as any;
    expect(deployment.spec).toMatchObject({
      replicas: 3,
      minReadySeconds: 10,
      strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    });
    expect(deployment.spec.template.spec.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: ZONE_LABEL,
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: { "gateway.networking.k8s.io/gateway-name": "waypoint" } },
      },
    ]);
    const budget = run.get("bookinfo-waypoint-zones").inputs;
    expect(budget.metadata.annotations).toEqual({
      "pulumi.com/waitFor": "jsonpath={.status.currentHealthy}=3",
    });
    // One replica at a time may go, so a drain of a waypoint's node completes.
    expect(budget.spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: { "gateway.networking.k8s.io/gateway-name": "waypoint" } },
    });
    // Istio 1.26's template says 2 s: the waypoint gets the grace period of the pods behind it.
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBe(45);
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBe(
      run.get("bookinfo-details-zone-a").inputs.spec.template.spec.terminationGracePeriodSeconds,
    );
    expect(run.dependsOn("bookinfo-waypoint-gateway", "istio-istiod")).toBe(true);
    expect(run.dependsOn("bookinfo-waypoint-gateway", "bookinfo-waypoint-parameters")).toBe(true);
    expect(run.outputs).toMatchObject({ carriedIntent: "strict", waypoint: "waypoint.bookinfo" });
  });

  it("installs the Gateway API CRDs, pinned, before istiod, and keeps them when the stack stops using them", () => {
    const crds = run.byType("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition");
    expect(crds.map((crd) => crd.inputs.metadata.name)).toEqual([
      "gatewayclasses.gateway.networking.k8s.io",
      "gateways.gateway.networking.k8s.io",
    ]);
    for (const crd of crds) {
      expect(crd.inputs.metadata.annotations).toEqual({
        "gateway.networking.k8s.io/bundle-version": "v1.5.1",
      });
      expect(run.dependsOn("istio-istiod", crd.name)).toBe(true);
      expect(run.dependsOn(crd.name, "cluster-zone-istio-locality-ambient")).toBe(true);
      expect(crd.retainOnDelete).toBe(true);
    }
  });

  it("keeps the DestinationRules, which the waypoint applies, beside trafficDistribution", () => {
    expect(names(run, CUSTOM("DestinationRule"))).toEqual(
      ["details", "productpage", "ratings", "reviews"].map((service) => `locality-${service}-rule`),
    );
    expect(run.get("locality-reviews-distribution").inputs.spec).toEqual({
      trafficDistribution: "PreferClose",
    });
    expect(run.outputs.localityMechanism).toContain("read by a zonal waypoint");
  });

  it("says at preview what strict through the waypoint holds", () => {
    expect(run.warnings).toEqual([WAYPOINT_STRICT_NOTE]);
  });
});

describe("a stack that sets `bookinfo.minReadySeconds`", () => {
  it("rolls every Deployment, the waypoint's included, with it", async () => {
    const run = await runUnderMocks(
      { ...shippedStackConfig("ambient"), bookinfo: { minReadySeconds: 3 } },
      { stack: "ambient" },
    );
    expect(new Set(run.byType(DEPLOYMENT).map((d) => d.inputs.spec.minReadySeconds))).toEqual(new Set([3]));
    const waypoint = yaml.load(run.get("bookinfo-waypoint-parameters").inputs.data.deployment) as any;
    expect(waypoint.spec.minReadySeconds).toBe(3);
  });
});

describe("ambient mode without a waypoint (`waypoint: never`)", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runUnderMocks({ ...shippedStackConfig("ambient"), waypoint: "never" }, { stack: "ambient" });
  });

  it("uses trafficDistribution and no DestinationRule, Gateway API CRDs or waypoint", () => {
    expect(run.byType(CUSTOM("DestinationRule"))).toEqual([]);
    expect(run.resources.filter((r) => /waypoint|gateway-api/.test(r.name))).toEqual([]);
    expect(run.get("bookinfo-ambient-label").inputs.metadata.labels).toEqual({
      "istio.io/dataplane-mode": "ambient",
    });
    expect(run.outputs).toMatchObject({ carriedIntent: "failover", waypoint: "none" });
    expect(run.outputs.localityMechanism).toContain("trafficDistribution: PreferClose");
  });

  it("warns at preview that strict behaves as failover", () => {
    expect(run.warnings).toEqual([expect.stringContaining("`strict` in ambient mode behaves as `failover`")]);
  });
});

describe("the waypoint and mTLS choices", () => {
  it("a waypoint with any intent on request, none in sidecar mode", async () => {
    const failover = await runUnderMocks({
      dataplaneMode: "ambient",
      locality: "failover",
      waypoint: "always",
    });
    expect(failover.outputs).toMatchObject({ carriedIntent: "failover", waypoint: "waypoint.bookinfo" });
    const sidecar = await runUnderMocks({ waypoint: "always" });
    expect(sidecar.resources.filter((r) => /waypoint|gateway-api/.test(r.name))).toEqual([]);
  });

  it("Gateway API CRDs the cluster already has are left alone", async () => {
    const run = await runUnderMocks({ dataplaneMode: "ambient", istio: { gatewayApiCrds: "installed" } });
    expect(run.resources.filter((r) => r.name.startsWith("istio-gateway-api"))).toEqual([]);
    expect(run.outputs.waypoint).toBe("waypoint.bookinfo");
  });

  it("strict mTLS: one mesh-wide PeerAuthentication, judged by istiod; permissive: none", async () => {
    const strict = await runUnderMocks({ mtls: "strict" });
    expect(strict.get("istio-mtls").inputs).toMatchObject({
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      metadata: { name: "default", namespace: "istio-system" },
      spec: { mtls: { mode: "STRICT" } },
    });
    expect(strict.dependsOn("istio-mtls", "istio-istiod")).toBe(true);
    expect(strict.outputs.mtls).toBe("strict");
    const permissive = await runUnderMocks({});
    expect(permissive.byType("kubernetes:security.istio.io/v1:PeerAuthentication")).toEqual([]);
    expect(strict.byType("kubernetes:security.istio.io/v1:PeerAuthentication")).toHaveLength(1);
    expect(permissive.outputs.mtls).toBe("permissive");
  });
});

describe("ambient's node agents, checked during the run", () => {
  it("are checked by the record's hook, in istio-system over the stack's zones, with the cluster's kubeconfig", async () => {
    const check = jest.fn(() => Promise.resolve());
    const run = await runUnderMocks(shippedStackConfig("ambient"), { stack: "ambient", nodeAgents: check });
    // The engine, not the program, decides when the hook runs: declaring the stack checks nothing.
    expect(check).not.toHaveBeenCalled();
    await run.runHook("istio-node-agents-check");
    expect(check).toHaveBeenCalledTimes(1);
    expect(check.mock.calls[0]).toEqual([FAKE_KUBECONFIG, "istio-system", ["zone-a", "zone-b", "zone-c"]]);
  });

  it("fail the hook with the check's cause, which the engine reports as the step's failure", async () => {
    const cause = new Error("ztunnel on node m03 (zone-c): its DaemonSet controller placed no pod there");
    const run = await runUnderMocks(shippedStackConfig("ambient"), {
      stack: "ambient",
      nodeAgents: () => Promise.reject(cause),
    });
    await expect(run.runHook("istio-node-agents-check")).rejects.toBe(cause);
  });

  it("are never checked in sidecar mode, which has none", async () => {
    const check = jest.fn(() => Promise.resolve());
    const sidecar = await runUnderMocks(shippedStackConfig("sidecar"), { nodeAgents: check });
    expect(check).not.toHaveBeenCalled();
    expect(sidecar.resources.map((r) => r.name)).not.toContain("istio-node-agents");
  });
});

describe("switching mode on a live stack", () => {
  let sidecar: ProgramRun;
  let ambient: ProgramRun;
  let intoAmbient: ProgramRun;
  let backToSidecar: ProgramRun;
  beforeAll(async () => {
    sidecar = await runUnderMocks(shippedStackConfig("sidecar"));
    ambient = await runUnderMocks(shippedStackConfig("ambient"), { stack: "sidecar" });
    intoAmbient = await runUnderMocks(shippedStackConfig("ambient"), {
      stack: "sidecar",
      previousMode: "sidecar",
    });
    backToSidecar = await runUnderMocks(shippedStackConfig("sidecar"), { previousMode: "ambient" });
  });

  it("reads the mode of its previous run from its own stack", () => {
    expect(sidecar.get("previous-run").inputs.name).toBe("organization/istio-locality/sidecar");
  });

  it("reports the migration it performs", () => {
    expect(intoAmbient.outputs.migration).toBe("sidecar → ambient");
    expect(backToSidecar.outputs.migration).toBe("ambient → sidecar");
  });

  it.each([DEPLOYMENT, SERVICE, NAMESPACE])(
    "keeps every %s under the same identity, so none is replaced",
    (type) => {
      const identity = (run: ProgramRun) =>
        run
          .byType(type)
          .map((r) => `${r.urn} ${r.inputs.metadata.namespace ?? ""}/${r.inputs.metadata.name}`)
          .sort();
      expect(identity(ambient)).toEqual(identity(sidecar));
    },
  );

  it("changes no immutable field of a Deployment or Service", () => {
    for (const deployment of sidecar.byType(DEPLOYMENT)) {
      expect(ambient.get(deployment.name).inputs.spec.selector).toEqual(deployment.inputs.spec.selector);
    }
    for (const service of sidecar.byType(SERVICE)) {
      expect(ambient.get(service.name).inputs.spec).toEqual(service.inputs.spec);
    }
  });

  it("changes the pod template of every Deployment, which restarts the pods", () => {
    for (const deployment of sidecar.byType(DEPLOYMENT)) {
      const before = deployment.inputs.spec.template.metadata.annotations;
      const after = ambient.get(deployment.name).inputs.spec.template.metadata.annotations;
      expect([
        before["istio-locality.dev/dataplane-mode"],
        after["istio-locality.dev/dataplane-mode"],
      ]).toEqual(["sidecar", "ambient"]);
    }
  });

  it("into ambient: ambient components, then the ambient label, then injection off, then restarts", () => {
    expect(intoAmbient.dependsOn("bookinfo-ambient-label", "istio-ztunnel")).toBe(true);
    expect(intoAmbient.dependsOn("bookinfo-injection-label", "bookinfo-ambient-label")).toBe(true);
    expect(intoAmbient.dependsOn("bookinfo-productpage-zone-a", "bookinfo-injection-label")).toBe(true);
  });

  it("back to sidecar: injection on, then restarts, then the ambient label off, then istiod leaves ambient", () => {
    expect(backToSidecar.dependsOn("bookinfo-injection-label", "istio-istiod")).toBe(false);
    expect(backToSidecar.dependsOn("bookinfo-reviews-v2", "bookinfo-injection-label")).toBe(true);
    for (const deployment of backToSidecar.byType(DEPLOYMENT)) {
      expect(backToSidecar.dependsOn("bookinfo-ambient-label", deployment.name)).toBe(true);
    }
    expect(backToSidecar.dependsOn("istio-istiod", "bookinfo-ambient-label")).toBe(true);
  });

  it("into ambient: every sidecar workload restarts under the ambient profile before the namespace joins ambient", () => {
    const restarts = intoAmbient.byType("kubernetes:apps/v1:DeploymentPatch");
    expect(restarts.map((r) => r.inputs.metadata.name).sort()).toEqual(
      intoAmbient
        .byType(DEPLOYMENT)
        .map((d) => d.inputs.metadata.name)
        .sort(),
    );
    for (const restart of restarts) {
      const annotations = restart.inputs.spec.template.metadata.annotations;
      expect(Object.keys(annotations)).toEqual(["kubectl.kubernetes.io/restartedAt"]);
      expect(restart.retainOnDelete).toBe(true);
      // A retained patch of an earlier switch still owns the restart time under another field manager.
      expect(restart.inputs.metadata.annotations).toEqual({ "pulumi.com/patchForce": "true" });
      expect(intoAmbient.dependsOn(restart.name, "istio-ztunnel")).toBe(true);
      expect(intoAmbient.dependsOn(restart.name, "istio-istiod")).toBe(true);
      expect(intoAmbient.dependsOn("bookinfo-ambient-label", restart.name)).toBe(true);
      // The Deployment updates after the ambient label, so the restart cannot wait for it.
      expect(intoAmbient.dependsOn(restart.name, `bookinfo-${restart.inputs.metadata.name}`)).toBe(false);
    }
    for (const run of [ambient, backToSidecar, sidecar]) {
      expect(run.byType("kubernetes:apps/v1:DeploymentPatch")).toEqual([]);
    }
  });

  it("a fresh sidecar install keeps istiod first", () => {
    expect(sidecar.dependsOn("istio-istiod", "bookinfo-ambient-label")).toBe(false);
    expect(sidecar.dependsOn("bookinfo-injection-label", "istio-istiod")).toBe(true);
  });

  it.each(ISTIO_RESOURCES)(
    "%s is deleted in the background, so a destroy after istiod has gone cannot hang on its webhook",
    (name) => {
      expect(backToSidecar.get(name).inputs.metadata.annotations).toEqual({
        "pulumi.com/deletionPropagationPolicy": "background",
      });
    },
  );

  it.each(ISTIO_RESOURCES)(
    "a fresh sidecar install creates %s after istiod, whose webhook validates it, and after the CRDs",
    (name) => {
      expect(directDependencies(sidecar, name)).toEqual(
        expect.arrayContaining(["istio-base", "istio-istiod"]),
      );
    },
  );

  it.each(ISTIO_RESOURCES)(
    "back to sidecar: %s comes at once (istiod, already running, validates it) and stays out of what istiod waits for",
    (name) => {
      expect(directDependencies(backToSidecar, name)).toContain("istio-base");
      expect(backToSidecar.dependsOn(name, "istio-istiod")).toBe(false);
      expect(backToSidecar.dependsOn("istio-istiod", name)).toBe(false);
      expect(backToSidecar.dependsOn("bookinfo-ambient-label", name)).toBe(false);
    },
  );
});

describe("variants", () => {
  it("failover: own zone first by failover priority, with outlier detection", async () => {
    const run = await runUnderMocks({ ...shippedStackConfig("sidecar"), locality: "failover" });
    expect(run.get("locality-reviews-rule").inputs.spec.trafficPolicy).toEqual({
      loadBalancer: {
        localityLbSetting: {
          enabled: true,
          failoverPriority: ["topology.kubernetes.io/region", "topology.kubernetes.io/zone"],
        },
      },
      outlierDetection: { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s" },
    });
    expect(run.byType(SERVICE_PATCH)).toHaveLength(4);
  });

  it.each(["sidecar", "ambient"])("off in %s: no zone preference anywhere", async (mode) => {
    const run = await runUnderMocks({ dataplaneMode: mode, locality: "off" });
    expect(run.byType(SERVICE_PATCH)).toEqual([]);
    const rules = run.byType(CUSTOM("DestinationRule"));
    expect(rules.map((r) => r.inputs.spec.trafficPolicy.loadBalancer.localityLbSetting)).toEqual(
      mode === "sidecar" ? Array(4).fill({ enabled: false }) : [],
    );
  });

  it("two zones: workloads and rules for exactly those zones", async () => {
    const run = await runUnderMocks({ zones: ["east", "west"], cluster: { nodes: 2 } });
    expect(names(run, DEPLOYMENT).filter((n) => n.startsWith("bookinfo-productpage"))).toEqual([
      "bookinfo-productpage-east",
      "bookinfo-productpage-west",
    ]);
    expect(
      run.get("locality-reviews-rule").inputs.spec.trafficPolicy.loadBalancer.localityLbSetting.distribute,
    ).toEqual([
      { from: "region-1/east/*", to: { "region-1/east/*": 100 } },
      { from: "region-1/west/*", to: { "region-1/west/*": 100 } },
    ]);
    expect(run.outputs.reviewsZones).toEqual({ v1: "east", v2: "west", v3: "east" });
    expect(run.byType(NODE_PATCH)).toHaveLength(2);
  });

  it("four zones on four nodes: a client and a productpage in zone-d, and a warning that it has no reviews", async () => {
    const zones = ["zone-a", "zone-b", "zone-c", "zone-d"];
    const run = await runUnderMocks({ zones, cluster: { nodes: 4 } });
    const pinnedTo = (deployment: string) =>
      run.get(deployment).inputs.spec.template.spec.affinity.nodeAffinity
        .requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    for (const deployment of ["bookinfo-client-zone-d", "bookinfo-productpage-zone-d"]) {
      expect(pinnedTo(deployment)).toEqual([
        { matchExpressions: [{ key: ZONE_LABEL, operator: "In", values: ["zone-d"] }] },
      ]);
    }
    expect(run.get("cluster-zone-istio-locality-sidecar-m04").inputs.metadata.labels[ZONE_LABEL]).toBe(
      "zone-d",
    );
    expect(run.warnings).toEqual([expect.stringContaining("no reviews version lives in zone-d")]);
  });

  it("an existing cluster: no minikube, its own kubeconfig and context, the given node labels", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-locality-"));
    const kubeconfig = path.join(dir, "config");
    fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\ncurrent-context: lab\n");
    const run = await runUnderMocks({
      cluster: {
        provider: "existing",
        kubeconfig,
        context: "lab",
        nodeZones: { worker1: "zone-a", worker2: "zone-b", worker3: "zone-c" },
      },
    });
    expect(run.byType("command:local:Command")).toEqual([]);
    expect(run.get("cluster-provider").inputs).toMatchObject({ context: "lab" });
    expect(run.get("cluster-provider").inputs.kubeconfig.value).toContain("current-context: lab");
    expect(run.byType(NODE_PATCH).map((r) => r.inputs.metadata.name)).toEqual([
      "worker1",
      "worker2",
      "worker3",
    ]);
    expect(run.outputs.productpage).toContain(
      `kubectl --kubeconfig=${kubeconfig} --context=lab port-forward`,
    );
    // Nothing goes with a cluster the stack does not own: destroy uninstalls each release and object.
    expect(run.resources.filter((r) => r.deletedWith !== "").map((r) => r.name)).toEqual([]);
  });

  it("an existing cluster whose nodes are already labelled: nothing is relabelled", async () => {
    const run = await runUnderMocks({ cluster: { provider: "existing", kubeconfig: __filename } });
    expect(run.byType(NODE_PATCH)).toEqual([]);
  });

  it("user Helm values merge over the program's, chart by chart", async () => {
    const run = await runUnderMocks({
      dataplaneMode: "ambient",
      istio: {
        values: {
          istiod: { pilot: { env: { PILOT_X: "1" } }, global: { tag: "1.30.5-distroless" } },
          base: { base: { validationURL: "https://127.0.0.1:15017/validate" } },
          gateway: { service: { ports: [{ name: "http2", port: 80 }] } },
        },
      },
    });
    expect(release(run, "istiod").values).toEqual({
      profile: "ambient",
      global: { hub: "docker.io/istio", tag: "1.30.5-distroless" },
      pilot: { env: { PILOT_X: "1" }, resources: { requests: { cpu: "10m", memory: "100Mi" } } },
    });
    expect(release(run, "base").values).toEqual({
      base: { validationURL: "https://127.0.0.1:15017/validate" },
    });
    expect(release(run, "gateway").values.service).toEqual({
      type: "NodePort",
      ports: [{ name: "http2", port: 80 }],
    });
    expect(release(run, "cni").values).toEqual({
      profile: "ambient",
      global: { hub: "docker.io/istio", tag: "1.30.5" },
    });
  });

  it("a local chart directory replaces the repository", async () => {
    const charts = fs.mkdtempSync(path.join(os.tmpdir(), "istio-charts-"));
    for (const chart of ["base", "istiod", "gateway"]) {
      fs.mkdirSync(path.join(charts, chart));
      fs.writeFileSync(path.join(charts, chart, "Chart.yaml"), `name: ${chart}\n`);
    }
    const run = await runUnderMocks({ istio: { chartDirectory: charts } });
    expect(release(run, "istiod")).toMatchObject({ chart: path.join(charts, "istiod") });
    expect(release(run, "istiod").repositoryOpts).toBeUndefined();
    expect(release(run, "istiod").version).toBeUndefined();
  });

  it("the docker driver: cni gets the minikube platform", async () => {
    const run = await runUnderMocks({ dataplaneMode: "ambient", cluster: { driver: "docker" } });
    expect(release(run, "cni").values.global.platform).toBe("minikube");
    expect(run.get("cluster-minikube").inputs.create).toContain("--container-runtime=docker");
  });

  it("no ingress gateway: no gateway release, Gateway or VirtualService", async () => {
    const run = await runUnderMocks({ istio: { ingressGateway: false } });
    expect(names(run, RELEASE)).toEqual(["istio-base", "istio-istiod"]);
    expect(run.byType(CUSTOM("Gateway"))).toEqual([]);
    expect(run.outputs.productpage).toContain("svc/productpage 8080:9080");
  });
});

describe("disruption budgets", () => {
  const PDB = "kubernetes:policy/v1:PodDisruptionBudget";

  it("one replica per zone: no budget on Bookinfo, as Istio's charts skip one at one replica", async () => {
    const run = await runUnderMocks(shippedStackConfig("sidecar"));
    expect(run.byType(PDB)).toEqual([]);
  });

  it("three replicas per zone: one budget per zone's Deployment, one eviction at a time", async () => {
    const run = await runUnderMocks({ ...shippedStackConfig("sidecar"), bookinfo: { replicasPerZone: 3 } });
    const budgets = run.byType(PDB);
    // details, ratings, productpage and the client in each of 3 zones, and 3 reviews versions.
    expect(budgets).toHaveLength(15);
    expect(run.get("bookinfo-reviews-v2-budget").inputs).toEqual({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "reviews-v2", namespace: "bookinfo" },
      spec: {
        maxUnavailable: 1,
        selector: { matchLabels: { app: "reviews", version: "v2", zone: "zone-b" } },
      },
    });
  });
});

describe("a stack deployed on the post's versions, before the program recorded them", () => {
  const index126: FetchText = (url) =>
    Promise.resolve(url.endsWith("/index.yaml") ? ISTIO_CHART_INDEX.replace(/1\.30\.5/g, "1.26.6") : "");
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runUnderMocks(shippedStackConfig("sidecar"), {
      previousOutputs: { dataplaneMode: "sidecar" },
      chartIndex: index126,
    });
  });

  it("keeps Istio 1.26.6 and minikube's Kubernetes v1.32.0, so nothing is upgraded or recreated", () => {
    for (const release of run.byType(RELEASE)) expect(release.inputs.version).toBe("1.26.6");
    const minikube = run.get("cluster-minikube").inputs;
    expect(minikube.triggers).toContain("v1.32.0");
    expect(minikube.create).toContain("--kubernetes-version=v1.32.0");
    expect(run.outputs).toMatchObject({ istioVersion: "1.26.6", kubernetesVersion: "v1.32.0" });
  });

  it("says at preview which defaults it did not take and how to move", () => {
    expect(run.warnings).toEqual(
      expect.arrayContaining([
        expect.stringContaining("this stack keeps the Istio 1.26.6 it runs; new stacks get 1.30.5"),
        expect.stringContaining("this stack keeps the Kubernetes v1.32.0 it runs; new stacks get v1.36.5"),
        expect.stringContaining("Istio 1.26 reached its end of life on 2025-12-22"),
      ]),
    );
  });

  it("refuses a jump of four minors with the path, once its versions are recorded", async () => {
    await expect(
      runUnderMocks(
        { ...shippedStackConfig("sidecar"), istio: { version: "1.30.5" } },
        {
          previousOutputs: { dataplaneMode: "sidecar", istioVersion: "1.26.6", kubernetesVersion: "v1.32.0" },
        },
      ),
    ).rejects.toThrow(
      "`istio-locality:istio.version` is `1.30.5`; expected at most one minor from the Istio 1.26.6 this stack runs; " +
        "move one minor per `up`: 1.26 → 1.27 → 1.28 → 1.29 → 1.30",
    );
  });
});

describe("invalid configuration", () => {
  it("a chart folder without a chart this run installs fails before any resource is declared", async () => {
    const charts = fs.mkdtempSync(path.join(os.tmpdir(), "istio-charts-"));
    fs.mkdirSync(path.join(charts, "base"));
    fs.writeFileSync(path.join(charts, "base", "Chart.yaml"), "name: base\n");
    const run = runUnderMocks({ istio: { chartDirectory: charts, ingressGateway: false } });
    await expect(run).rejects.toThrow(
      `\`istio-locality:istio.chartDirectory\` is \`${charts}\`; expected a folder with one folder per chart ` +
        `this run installs (base, istiod); ${path.join(charts, "istiod", "Chart.yaml")}: no such file`,
    );
  });

  it("a minikube stack on a machine without minikube or its driver fails before any resource, naming both", async () => {
    const has = (commands: string[]) => (command: string) => commands.includes(command);
    await expect(runUnderMocks({}, { commands: has(["docker"]) })).rejects.toThrow(
      "invalid configuration:\n" +
        "  - `istio-locality:cluster.provider` is `minikube`; expected a cluster this machine can run: no `minikube` on its PATH (install minikube, or set `cluster.provider` to `existing`)\n" +
        "  - `istio-locality:cluster.driver` is `podman`; expected a driver this machine has: no `podman` on its PATH (install it, or set the other driver)",
    );
    await expect(
      runUnderMocks({ cluster: { driver: "docker" } }, { commands: has(["minikube", "docker"]) }),
    ).resolves.toBeDefined();
  });

  it("Gateway API CRDs older than the cluster's are refused before any resource is declared", async () => {
    await expect(
      runUnderMocks(
        { dataplaneMode: "ambient" },
        { clusterVersions: { kubernetes: "v1.36.5", gatewayApi: "v1.6.0" } },
      ),
    ).rejects.toThrow("expected CRDs no older than the Gateway API v1.6.0 ones the cluster has");
  });

  it("problems found by the cluster's versions and by its nodes come as one error naming each", async () => {
    const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "istio-locality-")), "config");
    fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\n");
    const run = runUnderMocks(
      { dataplaneMode: "ambient", cluster: { provider: "existing", kubeconfig, region: "region-a" } },
      {
        clusterVersions: { kubernetes: "v1.36.5", gatewayApi: "v1.6.0" },
        nodes: ["zone-a", "zone-b", "zone-c"].map((zone, i) => ({
          name: `node-${i}`,
          labels: { [ZONE_LABEL]: zone, "topology.kubernetes.io/region": "elsewhere" },
        })),
      },
    );
    await expect(run).rejects.toThrow(
      /^invalid configuration:\n {2}- .*Gateway API v1\.6\.0.*\n {2}- .*region.*$/s,
    );
  });

  it("asks the cluster its versions, its nodes and its mesh at once, not one after another", async () => {
    const labelled: NodeLabels[] = DEFAULTS.zones.map((zone, i) => ({
      name: `node-${i}`,
      labels: { [ZONE_LABEL]: zone, [REGION_LABEL]: DEFAULTS.cluster.region },
    }));
    const asked: string[] = [];
    let answer: () => void = () => undefined;
    const allAsked = new Promise<void>((resolve) => (answer = resolve));
    // Each answer waits until all three were asked: asked one after another, the first would never
    // be answered and the test would fail on jest's timeout.
    const once = <T>(name: string, value: T) => {
      asked.push(name);
      if (asked.length === 3) answer();
      return allAsked.then(() => value);
    };
    const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "istio-locality-")), "config");
    fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\n");
    await runUnderMocks(
      { cluster: { provider: "existing", kubeconfig } },
      {
        readers: {
          clusterVersions: () => once("versions", undefined),
          nodes: () => once("nodes", labelled),
          mesh: () => once("mesh", undefined),
        },
      },
    );
    expect([...asked].sort()).toEqual(["mesh", "nodes", "versions"]);
  });

  it("a cluster that does not say its versions is said, and the run goes on by its config", async () => {
    const run = await runUnderMocks(
      {},
      {
        clusterVersions: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), {
          code: "ECONNREFUSED",
        }),
      },
    );
    expect(run.warnings).toEqual([
      expect.stringMatching(
        /^could not read the cluster's Kubernetes version and Gateway API CRDs \(.*ECONNREFUSED.*\); the versions are judged by the config alone$/,
      ),
    ]);
  });

  describe("charts from an OCI registry", () => {
    const GHCR = "oci://ghcr.io/istio/release/charts";
    const CHALLENGE =
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:istio/release/charts/base:pull"';
    /** ghcr.io as Helm meets it: the tag list refuses an anonymous request and names its token service. */
    const ghcr =
      (tags: string[]): FetchText =>
      (url, _timeout, headers) => {
        const tagList = /^https:\/\/ghcr\.io\/v2\/(istio\/release\/charts\/\w+)\/tags\/list$/.exec(url);
        if (tagList) {
          return headers?.Authorization === "Bearer anonymous-pull"
            ? Promise.resolve(JSON.stringify({ name: tagList[1], tags }))
            : Promise.reject(new TokenChallenge(CHALLENGE));
        }
        if (url.startsWith("https://ghcr.io/token?")) {
          expect(new URL(url).searchParams.get("scope")).toMatch(
            /^repository:istio\/release\/charts\/\w+:pull$/,
          );
          return Promise.resolve(JSON.stringify({ token: "anonymous-pull" }));
        }
        return Promise.reject(new Error(`unexpected ${url}`));
      };

    it("pulls each chart by its OCI reference at the pinned version", async () => {
      const run = await runUnderMocks(
        { istio: { chartRepository: GHCR } },
        { chartIndex: ghcr(["1.30.4", "1.30.5"]) },
      );
      const istiod = run.get("istio-istiod").inputs;
      expect(istiod.chart).toBe("oci://ghcr.io/istio/release/charts/istiod");
      expect(istiod.version).toBe("1.30.5");
      expect(istiod.repositoryOpts).toBeUndefined();
    });

    it("a version the registry does not hold is named before any resource is declared", async () => {
      await expect(
        runUnderMocks({ istio: { chartRepository: GHCR } }, { chartIndex: ghcr(["1.30.4"]) }),
      ).rejects.toThrow(
        "`istio-locality:istio.version` is `1.30.5`; expected a version oci://ghcr.io/istio/release/charts holds " +
          "for every chart this run installs; it has no base, istiod, gateway 1.30.5",
      );
    });
  });

  it("a chart repository out of reach fails before any resource is declared, with the way out", async () => {
    const offline = () =>
      Promise.reject(Object.assign(new Error("fetch failed"), { cause: { code: "ENOTFOUND" } }));
    await expect(runUnderMocks({}, { chartIndex: offline })).rejects.toThrow(
      "`istio-locality:istio.chartRepository` is `https://blob.istio.io/istio-release/charts`; expected a " +
        "Helm repository or OCI registry path this machine can read (https://blob.istio.io/istio-release/charts/index.yaml: " +
        "fetch failed (ENOTFOUND)); where it is out of reach, set `istio.chartDirectory` to a folder of the charts",
    );
  });

  it("a version the repository does not hold is named with the charts that lack it", async () => {
    const urls: string[] = [];
    const older = (url: string) => {
      urls.push(url);
      return Promise.resolve(ISTIO_CHART_INDEX.replace(/1\.30\.5/g, "1.30.4"));
    };
    await expect(runUnderMocks({ istio: { ingressGateway: false } }, { chartIndex: older })).rejects.toThrow(
      "`istio-locality:istio.version` is `1.30.5`; expected a version https://blob.istio.io/istio-release/charts " +
        "holds for every chart this run installs; it has no base, istiod 1.30.5",
    );
    expect(urls).toEqual(["https://blob.istio.io/istio-release/charts/index.yaml"]);
  });

  it("Gateway API CRDs out of reach fail before any resource is declared, when a waypoint needs them", async () => {
    const noCrds = (url: string) =>
      url.endsWith("/index.yaml")
        ? Promise.resolve(ISTIO_CHART_INDEX)
        : Promise.reject(Object.assign(new Error("fetch failed"), { cause: { code: "ENOTFOUND" } }));
    await expect(runUnderMocks({ dataplaneMode: "ambient" }, { chartIndex: noCrds })).rejects.toThrow(
      "`istio-locality:istio.gatewayApiCrds` is `https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.1/standard-install.yaml`; " +
        "expected the Gateway API v1.5.1 standard CRDs Istio 1.30 is built against, readable from this machine (fetch failed (ENOTFOUND)); " +
        "where they are out of reach, set it to a local file or folder of them, or to `installed`",
    );
    const other = (url: string) =>
      Promise.resolve(
        url.endsWith("/index.yaml") ? ISTIO_CHART_INDEX : GATEWAY_API_CRDS.replace(/v1\.5\.1/g, "v1.2.1"),
      );
    await expect(runUnderMocks({ dataplaneMode: "ambient" }, { chartIndex: other })).rejects.toThrow(
      "(its CRDs are of bundle version v1.2.1, not v1.5.1)",
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gateway-api-"));
    fs.writeFileSync(path.join(dir, "gateways.yaml"), GATEWAY_API_CRDS);
    const fromFolder = await runUnderMocks({ dataplaneMode: "ambient", istio: { gatewayApiCrds: dir } });
    expect(fromFolder.byType("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition")).toHaveLength(2);
    // Without a waypoint nothing reads them.
    await expect(
      runUnderMocks({ dataplaneMode: "ambient", waypoint: "never" }, { chartIndex: noCrds }),
    ).resolves.toBeDefined();
  });

  it("fails with the program's own message", async () => {
    await expect(runUnderMocks({ dataplaneMode: "ambiant" })).rejects.toThrow(
      "`istio-locality:dataplaneMode` is `ambiant`; expected `sidecar` or `ambient`",
    );
  });
});
