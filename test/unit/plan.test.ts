import { parseConfig, RawConfig } from "../../stacks/config";
import { DataplaneMode, LocalityIntent, WaypointChoice } from "../../stacks/contract";
import { planRun, RunPlan } from "../../stacks/plan";

const SIDECAR_RELEASES = ["istio-base", "istiod", "istio-ingress"];
const AMBIENT_RELEASES = ["istio-base", "istiod", "istio-cni", "ztunnel", "istio-ingress"];

const plan = (raw: RawConfig, previousMode?: DataplaneMode): RunPlan =>
  planRun(parseConfig(raw, "plan"), { previousMode, gatewayApiCrds: [] });

describe("planRun: what exists in each mode, intent and waypoint choice", () => {
  // mode, intent, waypoint → releases, waypoint, DestinationRules, trafficDistribution, carried intent
  it.each<
    [DataplaneMode, LocalityIntent, WaypointChoice, string[], boolean, number, boolean, LocalityIntent]
  >([
    ["sidecar", "strict", "auto", SIDECAR_RELEASES, false, 4, true, "strict"],
    ["sidecar", "failover", "always", SIDECAR_RELEASES, false, 4, true, "failover"],
    ["sidecar", "off", "never", SIDECAR_RELEASES, false, 4, false, "off"],
    ["ambient", "strict", "auto", AMBIENT_RELEASES, true, 4, true, "strict"],
    ["ambient", "strict", "never", AMBIENT_RELEASES, false, 0, true, "failover"],
    ["ambient", "failover", "auto", AMBIENT_RELEASES, false, 0, true, "failover"],
    ["ambient", "failover", "always", AMBIENT_RELEASES, true, 4, true, "failover"],
    ["ambient", "off", "auto", AMBIENT_RELEASES, false, 0, false, "off"],
  ])(
    "%s, %s, waypoint %s",
    (dataplaneMode, locality, waypoint, releases, hasWaypoint, rules, distribution, carried) => {
      const run = plan({ dataplaneMode, locality, waypoint });
      expect(run.istio.releases.map((release) => release.name)).toEqual(releases);
      expect(run.outputs.istioReleases).toEqual(releases);
      expect(run.waypoint !== undefined).toBe(hasWaypoint);
      expect(run.outputs.waypoint).toBe(hasWaypoint ? "waypoint.bookinfo" : "none");
      expect(run.locality.rules).toHaveLength(rules);
      expect(run.locality.trafficDistribution).toBe(distribution ? "PreferClose" : undefined);
      expect(run.outputs.carriedIntent).toBe(carried);
      expect(run.outputs.localityMechanism).toBe(run.locality.mechanism);
    },
  );

  it("enrols the namespace by the mode's labels, through the waypoint only when there is one", () => {
    expect(plan({ dataplaneMode: "sidecar" }).bookinfo.labels).toEqual({
      injection: { "istio-injection": "enabled" },
      ambient: {},
    });
    expect(plan({ dataplaneMode: "ambient" }).bookinfo.labels.ambient).toEqual({
      "istio.io/dataplane-mode": "ambient",
      "istio.io/use-waypoint": "waypoint",
    });
    expect(plan({ dataplaneMode: "ambient", waypoint: "never" }).bookinfo.labels.ambient).toEqual({
      "istio.io/dataplane-mode": "ambient",
    });
  });

  it("checks ambient's node agents over the stack's zones, in ambient only", () => {
    expect(
      plan({ dataplaneMode: "ambient", zones: ["a", "b"], cluster: { nodes: 2 } }).istio.nodeAgentZones,
    ).toEqual(["a", "b"]);
    expect(plan({ dataplaneMode: "sidecar" }).istio.nodeAgentZones).toBeUndefined();
  });

  it("leaves the ingress gateway, its namespace's release and the ingress objects out when it is off", () => {
    const run = plan({ istio: { ingressGateway: false } });
    expect(run.istio.releases.map((release) => release.chart)).toEqual(["base", "istiod"]);
    expect(run.bookinfo.ingress).toBe(false);
    expect(run.outputs.productpage).toContain("svc/productpage 8080:9080");
  });

  it("adds a strict PeerAuthentication only for `mtls: strict`", () => {
    expect(plan({ mtls: "strict" }).istio.strictMtls).toBe(true);
    expect(plan({}).istio.strictMtls).toBe(false);
  });
});

describe("planRun: the releases' charts and values", () => {
  it("pins every chart to the Istio version in the repository, and merges the user's values over the program's", () => {
    const run = plan({
      dataplaneMode: "ambient",
      istio: { version: "1.30.4", values: { istiod: { pilot: { env: { A: "1" } } } } },
    });
    const istiod = run.istio.releases.find((release) => release.chart === "istiod")!;
    expect(istiod).toMatchObject({
      name: "istiod",
      namespace: "istio-system",
      source: {
        chart: "istiod",
        version: "1.30.4",
        repositoryOpts: { repo: "https://blob.istio.io/istio-release/charts" },
      },
      values: {
        profile: "ambient",
        global: { tag: "1.30.4" },
        pilot: { env: { A: "1" }, resources: { requests: { cpu: "10m", memory: "100Mi" } } },
      },
    });
    expect(run.istio.releases.find((release) => release.chart === "gateway")!.namespace).toBe(
      "istio-ingress",
    );
  });

  it("takes every chart from a chart folder when one is set, at the version it holds", () => {
    const run = plan({ istio: { chartDirectory: "/charts" } });
    expect(run.istio.releases.map((release) => release.source)).toEqual([
      { chart: "/charts/base" },
      { chart: "/charts/istiod" },
      { chart: "/charts/gateway" },
    ]);
  });

  it("passes on the Gateway API CRDs the cluster lacks", () => {
    const crds = [{ metadata: { name: "gateways.gateway.networking.k8s.io" } }];
    const run = planRun(parseConfig({ dataplaneMode: "ambient" }, "plan"), {
      previousMode: undefined,
      gatewayApiCrds: crds,
    });
    expect(run.istio.gatewayApiCrds).toBe(crds);
  });
});

describe("planRun: the workloads", () => {
  it("gives each zone's Deployment a disruption budget from two replicas per zone, none at one", () => {
    expect(
      plan({ bookinfo: { replicasPerZone: 2 } }).bookinfo.workloads.every(
        (w) => w.budget?.maxUnavailable === 1,
      ),
    ).toBe(true);
    expect(plan({}).bookinfo.workloads.some((w) => w.budget !== undefined)).toBe(false);
  });

  it("marks ambient pods against injection, and sets the mode on every pod template", () => {
    const ambient = plan({ dataplaneMode: "ambient" }).bookinfo.workloads[0].deployment;
    expect(ambient.template).toMatchObject({
      metadata: {
        labels: { "sidecar.istio.io/inject": "false" },
        annotations: { "istio-locality.dev/dataplane-mode": "ambient" },
      },
    });
    const sidecar = plan({ dataplaneMode: "sidecar" }).bookinfo.workloads[0].deployment;
    expect(sidecar.template).toMatchObject({
      metadata: { annotations: { "istio-locality.dev/dataplane-mode": "sidecar" } },
    });
  });

  it("names each service account once", () => {
    expect(plan({}).bookinfo.serviceAccounts).toEqual([
      "bookinfo-details",
      "bookinfo-ratings",
      "bookinfo-productpage",
      "bookinfo-reviews",
      "client",
    ]);
  });
});

describe("planRun: the order of a run, by where it comes from", () => {
  it.each<[DataplaneMode | undefined, DataplaneMode, string, boolean, boolean, boolean]>([
    // previous, next → migration, istiod after workloads, restarts for HBONE, Istio resources after istiod
    [undefined, "sidecar", "none", false, false, true],
    [undefined, "ambient", "none", false, false, true],
    ["sidecar", "sidecar", "none", false, false, true],
    ["ambient", "ambient", "none", false, false, true],
    ["sidecar", "ambient", "sidecar → ambient", false, true, true],
    ["ambient", "sidecar", "ambient → sidecar", true, false, false],
  ])("from %s to %s", (previousMode, dataplaneMode, migration, istiodAfter, restarts, judged) => {
    const run = plan({ dataplaneMode }, previousMode);
    expect(run.outputs.migration).toBe(migration);
    expect(run.order.istiodAfterWorkloads).toBe(istiodAfter);
    expect(run.order.restartSidecarsForHbone).toBe(restarts);
    expect(run.order.istioResourcesAfterIstiod).toBe(judged);
  });
});
