import * as fs from "fs";
import * as path from "path";
import { CannotAnswerError } from "../../cli/shared/can-answer";
import { Check, waitFor } from "../../cli/shared/interrupt";
import { summarisePlan } from "../../cli/preview-switch/plan";
import { Recovery, recoverStack } from "../../cli/recover/recover";
import { describeUndone } from "../../cli/recover/patches";
import { PROBE_RUN_LABEL } from "../../cli/switch/probe";
import { connectStack, describeOperation, PendingOperation, pendingOperations } from "../../cli/shared/stack";
import { measureSwitch } from "../../cli/switch/measure";
import { checkLocality } from "../../cli/verify/check";
import { ClusterReader, Observed, ServiceEndpoint, SwitchWatcher } from "../helpers/cluster";
import { hasSidecar, LabIstiod, labIstioValues } from "../helpers/istiod";
import {
  carriesTraffic,
  localityGroups,
  outboundCluster,
  readOnce,
  sidecarIdentity,
  waypointCluster,
  waypointIdentity,
  XdsFollower,
  ztunnelIdentity,
  ztunnelView,
} from "../helpers/xds";
import { createTestStack, inlineProgram, TestStack } from "../helpers/workspace";
import { podReady } from "../../readers/pods";
import { toolEnv } from "../helpers/env";
import { GATEWAY_API_CRD_PLURALS, PROJECT_DIR } from "../helpers/stacks";
import {
  BOOKINFO_SERVICES,
  configKey,
  DEFAULTS,
  ENGINE_PARALLEL,
  MODE_ANNOTATION,
  MODE_KEY,
  WAYPOINT,
} from "../../stacks/contract";
import { defaultNodeZones, defaultReviewsZones, minikubeNodeNames } from "../../stacks/config";
import { istioMinorOf, labMinor } from "../../stacks/versions";
import { destinationRuleSpec } from "../../stacks/destination-rules";
import type { EngineEvent, OutputMap } from "@pulumi/pulumi/automation";
import type * as k8s from "@kubernetes/client-node";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import * as os from "os";
import { execFile } from "child_process";
import { promisify } from "util";

jest.setTimeout(30 * 60 * 1000);

/** The last commit whose program did not record the versions it installed (Istio 1.26.6, Kubernetes v1.32.0). */
const UNRECORDED_COMMIT = "4f2f79c88c60b7bbefd9eeb2fd03882a1e0d783c";

const {
  KUBECONFIG: kubeconfig,
  LAB_PROFILE: profile,
  ISTIO_LOCALITY_CHARTS: charts,
  ISTIO_LOCALITY_ISTIO_BIN: istioBin,
  ISTIO_LOCALITY_GATEWAY_API: gatewayApi,
} = toolEnv(
  [
    "KUBECONFIG",
    "LAB_PROFILE",
    "ISTIO_LOCALITY_CHARTS",
    "ISTIO_LOCALITY_ISTIO_BIN",
    "ISTIO_LOCALITY_GATEWAY_API",
  ],
  "this tier through scripts/test-tier.sh lab",
);
const REGION = DEFAULTS.cluster.region;
/** The proxy version the readers present: the program's Istio version, whose proxy image the pods name. */
const PROXY_VERSION = DEFAULTS.istio.version;
const PROXY_IMAGE = new RegExp(
  `^docker\\.io/istio/proxyv2:${PROXY_VERSION.replace(/\./g, "\\.")}(-distroless)?$`,
);
const SERVICES = [...BOOKINFO_SERVICES];
const NAMESPACE = DEFAULTS.bookinfo.namespace;
const hostOf = (service: string) => `${service}.${NAMESPACE}.svc.cluster.local`;
const HOSTS = SERVICES.map(hostOf);
const ZONES = DEFAULTS.zones;
const NODES = defaultNodeZones(minikubeNodeNames(profile, ZONES.length), ZONES);
const REVIEWS = Object.fromEntries(
  Object.entries(defaultReviewsZones(ZONES)).map(([version, zone]) => [`reviews-${version}`, zone]),
);

const LAB_MIN_READY_SECONDS = 3;

const durations: [string, number][] = [];
async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await run();
  } finally {
    durations.push([label, (Date.now() - start) / 1000]);
  }
}

const templateMode = (o: { object: any }) =>
  o.object.spec?.template?.metadata?.annotations?.[MODE_ANNOTATION];
const readyZones = (endpoints: ServiceEndpoint[]) =>
  [...new Set(endpoints.filter((e) => e.ready).map((e) => e.zone))].sort();
/** How the checks after an `up` wait for the cluster to catch up: once a second, for up to a minute. */
const SETTLING = { timeoutMs: 60_000, intervalMs: 1000 };
const labelsOf = (o: { object: any }): Record<string, string> => o.object.metadata?.labels ?? {};
/** An IP address as protojson gives a bytes field (base64), in dotted form. */
const addressOf = (base64: string | undefined): string | undefined =>
  base64 === undefined ? undefined : [...Buffer.from(base64, "base64")].join(".");
/** An Istio resource the lab asks Istio's webhook to judge. */
interface IstioObject {
  group: string;
  plural: string;
  namespace: string;
  name: string;
}
const networkingObject = (plural: string, name: string): IstioObject => ({
  group: "networking.istio.io",
  plural,
  namespace: NAMESPACE,
  name,
});
/** The mesh-wide PeerAuthentication the lab's `mtls: strict` declares. */
const STRICT_MTLS: IstioObject = {
  group: "security.istio.io",
  plural: "peerauthentications",
  namespace: "istio-system",
  name: "default",
};
/** The policy istiod sends ztunnel for every workload under a STRICT PeerAuthentication: deny without a peer identity. */
const ZTUNNEL_STRICT_POLICY = `${STRICT_MTLS.namespace}/istio_converted_static_strict`;
const GATEWAY_API_CRDS = GATEWAY_API_CRD_PLURALS.map((plural) => `${plural}.gateway.networking.k8s.io`);

describe("the program against a real API server (kwok lab)", () => {
  let test: TestStack;
  let cluster: ClusterReader;
  let istiod: LabIstiod;

  beforeAll(async () => {
    cluster = ClusterReader.fromFile(kubeconfig);
    istiod = new LabIstiod(kubeconfig, path.join(istioBin, "pilot-discovery"));
    istiod.start();
    test = await createTestStack("lab", {
      dataplaneMode: "sidecar",
      cluster: {
        provider: "existing",
        kubeconfig,
        nodeZones: NODES,
        kubernetesVersion: DEFAULTS.cluster.kubernetesVersion,
      },
      istio: { chartDirectory: charts, gatewayApiCrds: gatewayApi, values: labIstioValues() },
      // Strict mTLS from the start: it must hold in both modes and through both switches.
      mtls: "strict",
      // kwok's pods are ready the moment they run, and the lab's istiod pushes within a second: a short
      // wait keeps every rollout generation of the tier short without changing what it proves.
      bookinfo: { minReadySeconds: LAB_MIN_READY_SECONDS },
    });
  });

  let destroyed = false;
  afterAll(async () => {
    if (test && !destroyed) await test.stack.destroy({ onOutput: () => undefined });
    if (test) await test.remove();
    await istiod?.stop();
    console.log(
      `istiod ran ${istiod?.runs.length} times: ` +
        (istiod?.runs ?? [])
          .map(
            (r) => `${r.pod} ready in ${r.readyAt ? ((r.readyAt - r.startedAt) / 1000).toFixed(1) : "-"} s`,
          )
          .join("; "),
    );
    console.log(`istioctl analyze:\n${analyzed.join("\n") || "no messages"}`);
    console.log(
      [
        "| step | seconds |",
        "| --- | ---: |",
        ...durations.map(([label, s]) => `| ${label} | ${s.toFixed(1)} |`),
      ].join("\n"),
    );
  });

  async function expectSidecarMode(): Promise<void> {
    expect(await cluster.helmReleases("istio-system")).toEqual(["istio-base", "istiod"]);
    expect(await cluster.helmReleases("istio-ingress")).toEqual(["istio-ingress"]);
    const labels = await cluster.namespaceLabels(NAMESPACE);
    expect(labels["istio-injection"]).toBe("enabled");
    expect(labels["istio.io/dataplane-mode"]).toBeUndefined();
    const rule = (await cluster.custom.getNamespacedCustomObject(
      "networking.istio.io",
      "v1",
      NAMESPACE,
      "destinationrules",
      "reviews-locality",
    )) as { body: any };
    expect(rule.body.spec).toEqual(destinationRuleSpec("reviews", NAMESPACE, "strict", ZONES, REGION));
  }

  async function expectWorkloadsInTheirZones(mode: string): Promise<void> {
    await waitFor(
      "the bookinfo rollout to settle",
      async (): Promise<Check<true>> => {
        const unsettled = await cluster.rolloutUnsettled(NAMESPACE);
        return unsettled.length ? { done: false, reason: unsettled.join("; ") } : { done: true, value: true };
      },
      SETTLING,
    );
    const nodeZones = await cluster.nodeZones();
    const pods = await cluster.pods(NAMESPACE);
    const zonesOf = (app: string, extra?: (pod: any) => boolean) =>
      pods
        .filter((p) => p.metadata?.labels?.app === app && (!extra || extra(p)))
        .filter(podReady)
        .map((p) => nodeZones[p.spec!.nodeName!])
        .sort();
    for (const app of ["details", "ratings", "productpage", "client"]) {
      expect([app, [...new Set(zonesOf(app))]]).toEqual([app, ZONES]);
    }
    for (const [deployment, zone] of Object.entries(REVIEWS)) {
      expect([deployment, zonesOf("reviews", (p) => p.metadata.name.startsWith(`${deployment}-`))]).toEqual([
        deployment,
        [zone],
      ]);
    }
    for (const deployment of await bookinfoDeployments()) {
      expect([
        deployment.metadata!.name,
        deployment.spec!.template.metadata!.annotations![MODE_ANNOTATION],
      ]).toEqual([deployment.metadata!.name, mode]);
      expect([deployment.metadata!.name, deployment.status?.readyReplicas]).toEqual([
        deployment.metadata!.name,
        1,
      ]);
    }
    const gateway = (await cluster.deployments("istio-ingress")).find(
      (d) => d.metadata!.name === "istio-ingress",
    );
    expect(gateway?.status?.readyReplicas).toBeGreaterThanOrEqual(1);
  }

  /** The program's Deployments in the Bookinfo namespace: all but the one istiod generates for the waypoint. */
  async function bookinfoDeployments(): Promise<k8s.V1Deployment[]> {
    return (await cluster.deployments(NAMESPACE)).filter((d) => d.metadata!.name !== WAYPOINT.name);
  }
  const isWaypointPod = (pod: k8s.V1Pod) => pod.metadata?.labels?.[WAYPOINT.podLabel] === WAYPOINT.name;

  async function expectTrafficDistribution(): Promise<void> {
    const service = await cluster.core.readNamespacedService("reviews", NAMESPACE);
    expect(service.body.spec?.trafficDistribution).toBe("PreferClose");
    // The EndpointSlice controller catches up with the last rollout asynchronously; a pod replaced
    // a moment ago may still be listed, draining, next to its successor in the same zone.
    const endpoints = await waitFor(
      "a ready reviews endpoint in every zone",
      async (): Promise<Check<ServiceEndpoint[]>> => {
        const listed = await cluster.serviceEndpoints(NAMESPACE, "reviews");
        const zones = readyZones(listed);
        return zones.join() === ZONES.join()
          ? { done: true, value: listed }
          : { done: false, reason: `ready in ${zones.join(", ") || "no zone"}` };
      },
      SETTLING,
    );
    expect(readyZones(endpoints)).toEqual(ZONES);
    // PreferClose hints every endpoint, draining or not, to its own zone and to no other.
    for (const endpoint of endpoints) {
      expect([endpoint.zone, endpoint.hints]).toEqual([endpoint.zone, [endpoint.zone]]);
    }
  }

  const reader = () => path.join(istioBin, "xds-reader");
  /** Each zone's ready client pod. */
  async function clientPods(): Promise<Record<string, k8s.V1Pod>> {
    const pods = (await cluster.pods(NAMESPACE, "app=client")).filter(podReady);
    return Object.fromEntries(pods.map((pod) => [pod.metadata!.labels!.zone, pod]));
  }

  /** Injection is Istio's: every Bookinfo pod got its proxy as a native sidecar, the gateway its template's image. */
  async function expectInjected(): Promise<void> {
    const pods = (await cluster.pods(NAMESPACE)).filter((p) => !p.metadata?.deletionTimestamp);
    expect(pods.length).toBeGreaterThan(0);
    for (const pod of pods) {
      const proxy = pod.spec?.initContainers?.find((c) => c.name === "istio-proxy");
      // istiod still runs the ambient profile while pods get their sidecars back, and that profile
      // injects the distroless variant of the same proxy.
      expect([pod.metadata!.name, proxy?.restartPolicy, proxy?.image]).toEqual([
        pod.metadata!.name,
        "Always",
        expect.stringMatching(PROXY_IMAGE),
      ]);
    }
    const gateways = (await cluster.pods("istio-ingress")).filter((p) => !p.metadata?.deletionTimestamp);
    for (const pod of gateways) {
      const proxy = pod.spec?.containers.find((c) => c.name === "istio-proxy");
      expect([pod.metadata!.name, proxy?.image]).toEqual([
        pod.metadata!.name,
        expect.stringMatching(PROXY_IMAGE),
      ]);
    }
  }

  async function expectNoProxies(): Promise<void> {
    // The waypoint is itself a proxy; every other pod runs without one.
    const pods = (await cluster.pods(NAMESPACE)).filter(
      (p) => !p.metadata?.deletionTimestamp && !isWaypointPod(p),
    );
    expect(pods.filter(hasSidecar).map((p) => p.metadata!.name)).toEqual([]);
  }

  /**
   * Istio's validation judges every Istio resource the program created: once istiod has taken over
   * its webhook (caBundle patched in, failing closed), each object is sent to it again by a
   * server-side dry run of an update.
   */
  async function expectValidatedByIstio(resources: IstioObject[]): Promise<void> {
    await waitFor(
      "istiod to take over the validating webhook",
      async (): Promise<Check<true>> => {
        const webhook = (
          await cluster.admission.readValidatingWebhookConfiguration("istiod-default-validator")
        ).body.webhooks?.[0];
        return webhook?.failurePolicy === "Fail" && webhook.clientConfig.caBundle
          ? { done: true, value: true }
          : { done: false, reason: `failurePolicy ${webhook?.failurePolicy}` };
      },
      SETTLING,
    );
    for (const { group, plural, namespace, name } of resources) {
      const current = (await cluster.custom.getNamespacedCustomObject(
        group,
        "v1",
        namespace,
        plural,
        name,
      )) as { body: object };
      await cluster.custom.replaceNamespacedCustomObject(
        group,
        "v1",
        namespace,
        plural,
        name,
        current.body,
        "All",
      );
    }
  }

  /** What istiod sends each zone's client sidecar for every Bookinfo service, judged per intent. */
  async function expectSidecarEndpoints(intent: "strict" | "failover" | "off"): Promise<void> {
    const clients = await clientPods();
    expect(Object.keys(clients).sort()).toEqual(ZONES);
    for (const [zone, pod] of Object.entries(clients)) {
      const { snapshot } = await readOnce(reader(), sidecarIdentity(pod, PROXY_VERSION), HOSTS);
      for (const service of SERVICES) {
        const groups = localityGroups(snapshot[outboundCluster(hostOf(service), 9080)]).filter(
          (g) => g.endpoints.length > 0,
        );
        const label = `${zone} → ${service}`;
        expect([label, groups.every((g) => g.region === REGION)]).toEqual([label, true]);
        const own = groups.filter((g) => g.zone === zone);
        expect([label, own.some((g) => g.endpoints.some((e) => e.health === "HEALTHY"))]).toEqual([
          label,
          true,
        ]);
        if (intent === "strict") {
          const carrying = [...new Set(groups.filter(carriesTraffic).map((g) => g.zone))];
          expect([label, carrying]).toEqual([label, [zone]]);
        } else if (intent === "failover") {
          expect([label, own.map((g) => g.priority)]).toEqual([label, [0]]);
          const others = groups.filter((g) => g.zone !== zone);
          expect([label, others.length, others.every((g) => g.priority > 0)]).toEqual([label, 2, true]);
        } else {
          const zones = [...new Set(groups.map((g) => g.zone))].sort();
          expect([label, zones, groups.every((g) => g.priority === 0 && carriesTraffic(g))]).toEqual([
            label,
            ZONES,
            true,
          ]);
        }
      }
    }
  }

  /**
   * Under `mtls: strict` every Bookinfo sidecar accepts its service port over mTLS only: each
   * filter chain istiod sends its inbound listener for port 9080 matches TLS, none plaintext.
   */
  async function expectSidecarsAcceptOnlyMtls(): Promise<void> {
    const pods = (await cluster.pods(NAMESPACE)).filter(podReady).filter(hasSidecar);
    for (const service of SERVICES) {
      const pod = pods.find((p) => p.metadata!.labels?.app === service);
      expect([service, pod !== undefined]).toEqual([service, true]);
      const { listeners } = await readOnce(reader(), sidecarIdentity(pod!, PROXY_VERSION), HOSTS);
      const chains = (listeners?.virtualInbound?.filterChains ?? []).filter(
        (c: any) => c.filterChainMatch?.destinationPort === 9080,
      );
      const protocols = [...new Set(chains.map((c: any) => c.filterChainMatch?.transportProtocol))];
      expect([service, protocols]).toEqual([service, ["tls"]]);
    }
  }

  /**
   * What istiod sends each zone's waypoint replica for every Bookinfo service: under `strict`, only
   * endpoints of the replica's own zone carry traffic, and there is a healthy one.
   */
  async function expectWaypointEndpoints(pods: k8s.V1Pod[]): Promise<void> {
    const nodeZones = await cluster.nodeZones();
    for (const pod of pods) {
      const zone = nodeZones[pod.spec!.nodeName!]!;
      const { snapshot } = await readOnce(reader(), waypointIdentity(pod, PROXY_VERSION), HOSTS);
      for (const service of SERVICES) {
        const label = `waypoint ${zone} → ${service}`;
        const groups = localityGroups(snapshot[waypointCluster(hostOf(service), 9080)]).filter(
          (g) => g.endpoints.length > 0,
        );
        expect([label, groups.every((g) => g.region === REGION)]).toEqual([label, true]);
        const carrying = [...new Set(groups.filter(carriesTraffic).map((g) => g.zone))];
        expect([label, carrying]).toEqual([label, [zone]]);
        const own = groups.filter((g) => g.zone === zone);
        expect([label, own.some((g) => g.endpoints.some((e) => e.health === "HEALTHY"))]).toEqual([
          label,
          true,
        ]);
      }
    }
  }

  /**
   * What istiod sends ztunnel: zone-preferring Services, each pointing at the waypoint, whose own
   * Service prefers the client's zone too; zoned workloads, HBONE for captured pods only.
   */
  async function expectZtunnelConfig(): Promise<void> {
    const [ztunnel] = (await cluster.pods("istio-system", "app=ztunnel")).filter(podReady);
    expect(ztunnel).toBeDefined();
    const read = await readOnce(reader(), ztunnelIdentity(ztunnel, PROXY_VERSION));
    const { workloads, services } = ztunnelView(read.snapshot);
    // mtls: strict reaches ztunnel as a deny-without-identity policy that every Bookinfo workload names.
    expect(read.authorizations?.[ZTUNNEL_STRICT_POLICY]?.action).toBe("DENY");
    const waypointService = await cluster.core.readNamespacedService(WAYPOINT.name, NAMESPACE);
    const waypointAddress = waypointService.body.spec!.clusterIP!;
    for (const host of [...HOSTS, hostOf(WAYPOINT.name)]) {
      const found = services.find((s) => s.hostname === host);
      expect([host, found?.loadBalancing?.mode, found?.loadBalancing?.routingPreference]).toEqual([
        host,
        "FAILOVER",
        expect.arrayContaining(["ZONE"]),
      ]);
    }
    // istiod names a Service's waypoint by address or by hostname (the workload API allows either).
    const namesWaypoint = (waypoint: any): boolean =>
      addressOf(waypoint?.address?.address) === waypointAddress ||
      waypoint?.hostname?.hostname === hostOf(WAYPOINT.name);
    for (const host of HOSTS) {
      const found = services.find((s) => s.hostname === host);
      expect([host, found?.waypoint, namesWaypoint(found?.waypoint)]).toEqual([host, found?.waypoint, true]);
    }
    const nodeZones = await cluster.nodeZones();
    for (const pod of (await cluster.pods(NAMESPACE)).filter(podReady)) {
      const workload = workloads.find((w) => w.name === pod.metadata!.name && w.namespace === NAMESPACE);
      expect([pod.metadata!.name, workload?.locality?.zone]).toEqual([
        pod.metadata!.name,
        nodeZones[pod.spec!.nodeName!],
      ]);
      expect([pod.metadata!.name, workload?.authorizationPolicies]).toEqual([
        pod.metadata!.name,
        expect.arrayContaining([ZTUNNEL_STRICT_POLICY]),
      ]);
      // The waypoint's pods are not captured: they take HBONE themselves.
      if (!isWaypointPod(pod))
        expect([pod.metadata!.name, workload?.tunnelProtocol]).toEqual([pod.metadata!.name, "HBONE"]);
    }
    for (const pod of (await cluster.pods("istio-ingress")).filter(podReady)) {
      const workload = workloads.find((w) => w.name === pod.metadata!.name);
      // A pod with a sidecar is reached the way its proxy listens, not through ztunnel's tunnel.
      expect([pod.metadata!.name, workload?.tunnelProtocol]).toEqual([pod.metadata!.name, undefined]);
    }
  }

  /** The waypoint istiod generated from the program's Gateway: one ready replica in each zone. */
  async function expectWaypointInEveryZone(): Promise<k8s.V1Pod[]> {
    const [deployment] = (await cluster.deployments(NAMESPACE)).filter(
      (d) => d.metadata!.name === WAYPOINT.name,
    );
    expect([deployment?.spec?.replicas, deployment?.spec?.minReadySeconds]).toEqual([
      ZONES.length,
      LAB_MIN_READY_SECONDS,
    ]);
    const nodeZones = await cluster.nodeZones();
    const pods = (await cluster.pods(NAMESPACE)).filter(isWaypointPod).filter(podReady);
    expect(pods.map((pod) => nodeZones[pod.spec!.nodeName!]).sort()).toEqual(ZONES);
    return pods;
  }

  /** `istioctl analyze` over the lab: no error; its warnings go to the log. */
  async function expectAnalyzeClean(after: string): Promise<void> {
    const run = await promisify(execFile)(
      path.join(istioBin, "istioctl"),
      [
        "analyze",
        `--kubeconfig=${kubeconfig}`,
        "--all-namespaces",
        "--output=json",
        "--failure-threshold=Error",
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    ).catch((error: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(
        `istioctl analyze failed after ${after}: ${error.stdout ?? ""} ${error.stderr ?? error.message}`,
      );
    });
    const messages = JSON.parse(run.stdout || "[]") as { code: string; level: string; message: string }[];
    analyzed.push(...messages.map((m) => `${after}: ${m.level} ${m.code} ${m.message}`));
    expect(messages.filter((m) => m.level === "Error")).toEqual([]);
  }
  const analyzed: string[] = [];

  /** Readers that follow what istiod sends each zone's client sidecar and ztunnel while a switch runs. */
  async function followSwitch(): Promise<{ sidecars: Record<string, XdsFollower>; ztunnel: XdsFollower }> {
    const clients = await clientPods();
    const sidecars = Object.fromEntries(
      Object.entries(clients).map(([zone, pod]) => [
        zone,
        new XdsFollower(reader(), sidecarIdentity(pod, PROXY_VERSION, `${REGION}/${zone}`), HOSTS, "30m"),
      ]),
    );
    // ztunnel may not run yet when the switch starts: a ztunnel identity on the first node stands in.
    const standIn = {
      metadata: { name: "ztunnel-lab-reader", namespace: "istio-system" },
      spec: { serviceAccountName: "ztunnel", nodeName: profile },
      status: { podIP: "10.244.0.250" },
    } as k8s.V1Pod;
    return {
      sidecars,
      ztunnel: new XdsFollower(reader(), ztunnelIdentity(standIn, PROXY_VERSION), [], "30m"),
    };
  }

  /**
   * Every push a follower received during the switch keeps, for each zone and each service, a
   * healthy in-zone endpoint that carries traffic: the configuration a client holds never leaves its
   * zone without a ready local backend. Returns the breaches.
   */
  function inZoneGaps(followers: { sidecars: Record<string, XdsFollower>; ztunnel: XdsFollower }): string[] {
    const gaps: string[] = [];
    for (const [zone, follower] of Object.entries(followers.sidecars)) {
      const snapshots = follower.snapshots();
      if (snapshots.length === 0) gaps.push(`${zone}: the sidecar reader got no configuration`);
      for (const { at, snapshot } of snapshots) {
        for (const service of SERVICES) {
          const own = localityGroups(snapshot[outboundCluster(hostOf(service), 9080)]).filter(
            (g) => g.zone === zone && carriesTraffic(g),
          );
          if (!own.some((g) => g.endpoints.some((e) => e.health === "HEALTHY")))
            gaps.push(`sidecar ${zone} → ${service} at ${new Date(at).toISOString()}`);
        }
      }
    }
    for (const { at, snapshot } of followers.ztunnel.snapshots()) {
      const { workloads, services } = ztunnelView(snapshot);
      if (!services.some((s) => HOSTS.includes(s.hostname))) continue;
      for (const service of SERVICES) {
        for (const zone of ZONES) {
          const serving = workloads.filter(
            (w) =>
              w.locality?.zone === zone &&
              w.status !== "UNHEALTHY" &&
              Object.keys(w.services ?? {}).some((key) => key.endsWith(`/${hostOf(service)}`)),
          );
          if (serving.length === 0)
            gaps.push(`ztunnel ${zone} → ${service} at ${new Date(at).toISOString()}`);
        }
      }
    }
    return gaps;
  }

  /** Kills the Pulumi CLI running this stack's update and its provider plugins, as a dead laptop would. */
  async function killEngine(): Promise<void> {
    const pgrep = async (args: string[]) =>
      (await promisify(execFile)("pgrep", args).catch(() => ({ stdout: "" }))).stdout
        .split("\n")
        .filter(Boolean);
    for (const engine of await pgrep(["-f", `pulumi up .*--stack ${test.name}( |$)`])) {
      const plugins = await pgrep(["-P", engine]);
      for (const pid of [engine, ...plugins]) process.kill(Number(pid), "SIGKILL");
    }
  }

  async function switchTo(
    mode: "sidecar" | "ambient",
    watcher: SwitchWatcher,
  ): Promise<{ since: number; gaps: string[]; pushes: number }> {
    return switchThrough([{ mode, label: `switch to ${mode} (up)` }], watcher);
  }

  /** One `up` of a switch; with `cancelAt`, Ctrl-C once the watcher has seen that change. */
  interface SwitchRun {
    mode: "sidecar" | "ambient";
    label: string;
    cancelAt?: (o: Observed) => boolean;
    /** Or kill the engine outright (SIGKILL to the Pulumi CLI) once the watcher has seen that change. */
    killAt?: (o: Observed) => boolean;
    /** The step must fail on its own with a message containing this (a cause the test put in place). */
    failsWith?: string;
    /** Runs once this step's `up` has ended, before the next one. */
    after?: () => Promise<void>;
    /** The engine's `--parallel`; the tools' by default. */
    parallel?: number;
  }

  /**
   * Runs `up` once per step while the watcher and the xDS readers record everything. A step with
   * `cancelAt` is cancelled as a user's Ctrl-C does (the Automation API's abort sends the CLI SIGINT;
   * the engine finishes the steps in flight) as soon as its change is seen, and must end failed.
   */
  async function switchThrough(
    runs: SwitchRun[],
    watcher: SwitchWatcher,
  ): Promise<{ since: number; gaps: string[]; pushes: number; logs: string[]; replaced: string[] }> {
    await watcher.start();
    const followers = await followSwitch();
    // The initial list of each watch and each client's first push come before "since", which
    // separates the state before the switch from the switch.
    const deployments = (await cluster.deployments(NAMESPACE)).length;
    await waitFor(
      "the watches' initial lists and each client's first configuration",
      (): Promise<Check<true>> => {
        const listed = new Set(watcher.seen.filter((o) => o.kind === "Deployment").map((o) => o.name)).size;
        const unpushed = Object.entries(followers.sidecars).filter(([, f]) => f.snapshots().length === 0);
        return Promise.resolve(
          listed >= deployments && watcher.seen.some((o) => o.kind === "Namespace") && unpushed.length === 0
            ? { done: true, value: true }
            : {
                done: false,
                reason: `${listed} of ${deployments} Deployments listed, ${unpushed.length} clients unpushed`,
              },
        );
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const since = watcher.latest();
    const logs: string[] = [];
    const replaced: string[] = [];
    try {
      for (const run of runs) {
        await test.stack.setConfig(MODE_KEY, { value: run.mode });
        let log = "";
        const onOutput = (text: string) => (log += text);
        const parallel = run.parallel ?? ENGINE_PARALLEL;
        if (run.failsWith) {
          const message = await timed(run.label, () =>
            test.stack.up({ onOutput, parallel }).then(
              () => "completed",
              (error: Error) => error.message,
            ),
          );
          expect([run.label, message]).toEqual([run.label, expect.stringContaining(run.failsWith)]);
        } else if (run.killAt) {
          const killAt = run.killAt;
          const started = watcher.latest();
          const outcome = await timed(run.label, async () => {
            const update = test.stack.up({ onOutput, parallel }).then(
              () => "completed",
              (error: Error) => error.message,
            );
            await waitFor(
              `${run.label}: the change to kill the engine at`,
              (): Promise<Check<true>> =>
                Promise.resolve(
                  Number.isFinite(watcher.first(killAt, started))
                    ? { done: true, value: true }
                    : { done: false, reason: "not seen yet" },
                ),
              { timeoutMs: 180_000, intervalMs: 100 },
            );
            await killEngine();
            return update;
          });
          expect([run.label, outcome]).toEqual([run.label, expect.stringContaining("SIGKILL")]);
        } else if (!run.cancelAt) {
          const result = await timed(run.label, () => test.stack.up({ onOutput, parallel }));
          const replacements = result.summary.resourceChanges?.replace ?? 0;
          if (replacements > 0) replaced.push(`${run.label}: ${replacements} replaced`);
        } else {
          const cancelAt = run.cancelAt;
          const abort = new AbortController();
          const started = watcher.latest();
          const poll = setInterval(() => {
            if (Number.isFinite(watcher.first(cancelAt, started))) abort.abort();
          }, 100);
          try {
            const outcome = await timed(run.label, () =>
              test.stack.up({ onOutput, parallel, signal: abort.signal }).then(
                () => "completed",
                (error: Error) => (abort.signal.aborted ? "failed" : `failed on its own: ${error.message}`),
              ),
            );
            expect([run.label, abort.signal.aborted, outcome]).toEqual([run.label, true, "failed"]);
          } finally {
            clearInterval(poll);
          }
        }
        logs.push(log);
        await run.after?.();
      }
      await new Promise((resolve) => setTimeout(resolve, 3000));
    } finally {
      watcher.stop();
      await Promise.all([...Object.values(followers.sidecars), followers.ztunnel].map((f) => f.stop()));
    }
    const pushes = [...Object.values(followers.sidecars), followers.ztunnel]
      .map((f) => f.snapshots().length)
      .reduce((a, b) => a + b, 0);
    console.log(
      `${runs.map((r) => r.label).join(", then ")}: the readers received ${pushes} configuration pushes from istiod`,
    );
    return { since, gaps: inZoneGaps(followers), pushes, logs, replaced };
  }

  it("0. the lab runs the Kubernetes and Istio minors the program installs by default", async () => {
    const server = (await cluster.version.getCode()).body;
    expect(`v${server.major}.${server.minor}`).toBe(DEFAULTS.cluster.kubernetesVersion.replace(/\.\d+$/, ""));
    const { stdout } = await promisify(execFile)(path.join(istioBin, "pilot-discovery"), [
      "version",
      "--short",
    ]);
    // "client version: 1.30-alpha.<commit>": the minor of the release branch the lab builds.
    expect(/(\d+\.\d+)-/.exec(stdout)?.[1]).toBe(istioMinorOf(DEFAULTS.istio.version));
    expect(labMinor().minor).toBe(istioMinorOf(DEFAULTS.istio.version));
  });

  it("1. up in sidecar mode: releases, zones, labels, locality, gateway", async () => {
    const result = await timed("up (sidecar)", () =>
      test.stack.up({ onOutput: () => undefined, parallel: ENGINE_PARALLEL }),
    );
    expect(result.summary.result).toBe("succeeded");
    expect(await cluster.nodeZones()).toEqual(NODES);
    await expectSidecarMode();
    await expectWorkloadsInTheirZones("sidecar");
    await expectTrafficDistribution();
    await expectInjected();
    await expectValidatedByIstio([
      ...SERVICES.map((s) => networkingObject("destinationrules", `${s}-locality`)),
      networkingObject("gateways", "bookinfo-gateway"),
      networkingObject("virtualservices", NAMESPACE),
      STRICT_MTLS,
    ]);
    await expectSidecarEndpoints("strict");
    await expectSidecarsAcceptOnlyMtls();
    await expectAnalyzeClean("up (sidecar)");
  });

  it("1a. Istio's webhook denies a locality rule Istio cannot read, with Istio's message", async () => {
    const rule = {
      apiVersion: "networking.istio.io/v1",
      kind: "DestinationRule",
      metadata: { name: "unreadable-locality", namespace: NAMESPACE },
      spec: {
        host: hostOf("reviews"),
        trafficPolicy: {
          loadBalancer: {
            localityLbSetting: {
              enabled: true,
              distribute: [{ from: "*/zone-a/*", to: { "*/zone-a/*": 100 } }],
            },
          },
        },
      },
    };
    const denial = cluster.custom
      .createNamespacedCustomObject(
        "networking.istio.io",
        "v1",
        NAMESPACE,
        "destinationrules",
        rule,
        undefined,
        "All",
      )
      .then(
        () => "accepted",
        (error: { body?: { message?: string }; message?: string }) =>
          error.body?.message ?? error.message ?? "rejected without a message",
      );
    await expect(denial).resolves.toMatch(
      /validation\.istio\.io.*locality \*\/zone-a\/\* wildcard '\*' number can not exceed 1 and must be in the end/s,
    );
  });

  it("1c. failover and off, as istiod computes them for each zone's client", async () => {
    for (const intent of ["failover", "off", "strict"] as const) {
      await test.stack.setConfig(configKey("locality"), { value: intent });
      await test.stack.up({ onOutput: () => undefined, parallel: ENGINE_PARALLEL });
      await waitFor(
        `istiod to push the ${intent} endpoints`,
        async (): Promise<Check<true>> => {
          try {
            await expectSidecarEndpoints(intent);
            return { done: true, value: true };
          } catch (error) {
            return { done: false, reason: String(error).slice(0, 300) };
          }
        },
        SETTLING,
      );
    }
  });

  it("1b. verify and switch see that kwok pods serve no traffic and say so instead of reporting numbers", async () => {
    const lab = await connectStack({
      workDir: PROJECT_DIR,
      stackName: test.name,
      envVars: test.envVars,
      program: inlineProgram,
    });
    const log: string[] = [];
    const verifying = checkLocality(lab, { requests: 3, vias: ["reviews"], log: (line) => log.push(line) });
    await expect(verifying).rejects.toBeInstanceOf(CannotAnswerError);
    await expect(verifying).rejects.toThrow(/cannot answer/);

    const apply = jest.fn(() => Promise.resolve());
    const measuring = measureSwitch(lab, {
      runId: "lab-test",
      rate: 20,
      settleSeconds: 0,
      apply,
      signal: new AbortController().signal,
      log: (line) => log.push(line),
    });
    await expect(measuring).rejects.toThrow(/cannot answer.*the switch was not started/s);
    expect(apply).not.toHaveBeenCalled();
    expect(await cluster.pods(NAMESPACE, `${PROBE_RUN_LABEL}=lab-test`)).toEqual([]);
  });

  it("2. a second preview reports no changes", async () => {
    const preview = await timed("preview, no changes", () => test.stack.preview({ diff: false }));
    // `read` is the stack reading its own previous outputs, every run; it changes nothing.
    expect(Object.keys(preview.changeSummary).filter((op) => op !== "same" && op !== "read")).toEqual([]);
  });

  it("3. the preview of the switch to ambient creates cni and ztunnel and replaces nothing", async () => {
    await test.stack.setConfig(MODE_KEY, { value: "ambient" });
    const events: EngineEvent[] = [];
    await test.stack.preview({ onEvent: (e) => events.push(e) });
    await test.stack.setConfig(MODE_KEY, { value: "sidecar" });
    const steps = summarisePlan(events);
    const op = (name: string) => steps.find((s) => s.name === name)?.op;
    expect([op("istio-cni"), op("istio-ztunnel"), op("istio-istiod")]).toEqual([
      "create",
      "create",
      "update",
    ]);
    expect([op("bookinfo-ambient-label"), op("bookinfo-injection-label")]).toEqual(["update", "update"]);
    for (const deployment of await cluster.deployments(NAMESPACE)) {
      expect([deployment.metadata!.name, op(`bookinfo-${deployment.metadata!.name}`)]).toEqual([
        deployment.metadata!.name,
        "update",
      ]);
    }
    // The waypoint applies the DestinationRules in ambient: nothing goes.
    expect(steps.filter((s) => s.op === "delete")).toEqual([]);
    expect(
      [
        "bookinfo-waypoint-gateway",
        "bookinfo-waypoint-zones",
        ...GATEWAY_API_CRDS.map((c) => `istio-gateway-api-${c}`),
      ].map(op),
    ).toEqual(Array(2 + GATEWAY_API_CRDS.length).fill("create"));
    expect(steps.filter((s) => s.op === "replace")).toEqual([]);
  });

  it("4. up in ambient: no zone ever without a ready pod, ambient everywhere, in the migration order", async () => {
    const watcher = new SwitchWatcher(cluster.config, NAMESPACE);
    const { since, gaps, pushes } = await switchTo("ambient", watcher);
    expect(pushes).toBeGreaterThan(0);
    expect(gaps).toEqual([]);

    for (const [deployment, ready] of Object.entries(watcher.minimumReady(since))) {
      // The waypoint is created during the switch; what it keeps per zone once ready is checked below.
      if (deployment !== WAYPOINT.name) expect([deployment, ready >= 1]).toEqual([deployment, true]);
    }
    expect(await cluster.helmReleases("istio-system")).toEqual([
      "istio-base",
      "istio-cni",
      "istiod",
      "ztunnel",
    ]);
    const nodeZones = await cluster.nodeZones();
    for (const selector of ["k8s-app=istio-cni-node", "app=ztunnel"]) {
      const nodes = (await cluster.pods("istio-system", selector)).map((p) => p.spec!.nodeName!).sort();
      expect([selector, nodes]).toEqual([selector, Object.keys(nodeZones).sort()]);
    }
    const labels = await cluster.namespaceLabels(NAMESPACE);
    expect(labels["istio.io/dataplane-mode"]).toBe("ambient");
    expect(labels[WAYPOINT.useLabel]).toBe(WAYPOINT.name);
    expect(labels["istio-injection"]).toBeUndefined();
    await expectTrafficDistribution();
    await expectWorkloadsInTheirZones("ambient");
    await expectNoProxies();
    expect(istiod.runs[istiod.runs.length - 1].env.PILOT_ENABLE_AMBIENT).toBe("true");
    await expectZtunnelConfig();
    await expectWaypointEndpoints(await expectWaypointInEveryZone());
    await expectWaypointDrainsLikeBookinfo();
    await expectAnalyzeClean("switch to ambient");
    const nodeZonesNow = await cluster.nodeZones();
    expect(watcher.minimumReadyPerZone(nodeZonesNow, ZONES, since)).toEqual(
      Object.fromEntries(ZONES.map((zone) => [zone, 1])),
    );

    const ztunnelReady = watcher.first(
      (o) => o.kind === "DaemonSet" && o.name === "ztunnel" && o.object.status?.numberReady === 3,
      since,
    );
    const ambientLabel = watcher.first(
      (o) => o.kind === "Namespace" && labelsOf(o)["istio.io/dataplane-mode"] === "ambient",
      since,
    );
    const injectionOff = watcher.first(
      (o) => o.kind === "Namespace" && labelsOf(o)["istio-injection"] === undefined,
      since,
    );
    const firstRestart = watcher.first(
      (o) => o.kind === "Deployment" && templateMode(o) === "ambient",
      since,
    );
    const crdsCreated = Math.max(
      ...GATEWAY_API_CRDS.map((name) =>
        watcher.first((o) => o.kind === "CustomResourceDefinition" && o.name === name),
      ),
    );
    const waypointReady = watcher.first(
      (o) => o.kind === "PodDisruptionBudget" && o.object.status?.currentHealthy === ZONES.length,
      since,
    );
    expect(
      [crdsCreated, waypointReady, ztunnelReady, ambientLabel, injectionOff, firstRestart].every(
        Number.isFinite,
      ),
    ).toBe(true);
    expect(crdsCreated).toBeLessThan(waypointReady);
    expect(waypointReady).toBeLessThan(ambientLabel);
    expect(ztunnelReady).toBeLessThan(ambientLabel);
    expect(ambientLabel).toBeLessThan(injectionOff);
    expect(injectionOff).toBeLessThan(firstRestart);
  });

  it("5. back to sidecar: no zone ever without a ready pod, in the reverse order", async () => {
    const watcher = new SwitchWatcher(cluster.config, NAMESPACE);
    const { since, gaps, pushes } = await switchTo("sidecar", watcher);
    expect(pushes).toBeGreaterThan(0);
    expect(gaps).toEqual([]);

    for (const [deployment, ready] of Object.entries(watcher.minimumReady(since))) {
      // The waypoint goes at the end of the switch; until every pod has its sidecar back it keeps each zone.
      if (deployment !== WAYPOINT.name) expect([deployment, ready >= 1]).toEqual([deployment, true]);
    }
    await expectSidecarMode();
    await expectWorkloadsInTheirZones("sidecar");
    await expectTrafficDistribution();
    await expectInjected();
    expect(istiod.runs[istiod.runs.length - 1].env.PILOT_ENABLE_AMBIENT).toBeUndefined();
    await expectSidecarEndpoints("strict");
    await expectSidecarsAcceptOnlyMtls();
    await expectAnalyzeClean("switch back to sidecar");

    const injectionOn = watcher.first(
      (o) => o.kind === "Namespace" && labelsOf(o)["istio-injection"] === "enabled",
      since,
    );
    const lastRestart = Math.max(
      ...(await bookinfoDeployments()).map((d) =>
        watcher.first(
          (o) => o.kind === "Deployment" && o.name === d.metadata!.name && templateMode(o) === "sidecar",
          since,
        ),
      ),
    );
    const ambientOff = watcher.first(
      (o) => o.kind === "Namespace" && labelsOf(o)["istio.io/dataplane-mode"] === undefined,
      since,
    );
    const istiodRelease = watcher.first(
      (o) => o.kind === "Secret" && labelsOf(o).name === "istiod" && labelsOf(o).status === "pending-upgrade",
      since,
    );
    const ztunnelGone = watcher.first((o) => o.kind === "DaemonSet/deleted" && o.name === "ztunnel", since);
    expect([injectionOn, lastRestart, ambientOff, istiodRelease, ztunnelGone].every(Number.isFinite)).toBe(
      true,
    );
    expect(injectionOn).toBeLessThan(lastRestart);
    expect(lastRestart).toBeLessThan(ambientOff);
    expect(ambientOff).toBeLessThan(istiodRelease);
    expect(istiodRelease).toBeLessThan(ztunnelGone);

    const waypointGone = watcher.first(
      (o) => o.kind === "Deployment/deleted" && o.name === WAYPOINT.name,
      since,
    );
    expect(Number.isFinite(waypointGone)).toBe(true);
    expect(lastRestart).toBeLessThan(waypointGone);
    expect(watcher.minimumReadyPerZone(await cluster.nodeZones(), ZONES, 0, lastRestart)).toEqual(
      Object.fromEntries(ZONES.map((zone) => [zone, 1])),
    );
    // The Gateway API CRDs stay for other users of the cluster; the stack no longer tracks them.
    const crds = (await cluster.extensions.listCustomResourceDefinition()).body.items.map(
      (c) => c.metadata!.name!,
    );
    expect(crds).toEqual(expect.arrayContaining(GATEWAY_API_CRDS));
  });

  /**
   * The Deployment istiod generated for the waypoint gives its pods at least the grace period of the
   * Bookinfo pods behind it (Istio 1.26's template says 2 s), and its budget lets a drain evict one.
   */
  async function expectWaypointDrainsLikeBookinfo(): Promise<void> {
    const deployments = await cluster.deployments(NAMESPACE);
    const grace = (name: string) =>
      deployments.find((d) => d.metadata?.name === name)?.spec?.template.spec?.terminationGracePeriodSeconds;
    const bookinfo = grace(`details-${ZONES[0]}`);
    expect(bookinfo).toBeGreaterThanOrEqual(30);
    expect(grace(WAYPOINT.name)).toBeGreaterThanOrEqual(bookinfo!);
    const budget = (await cluster.policy.readNamespacedPodDisruptionBudget("waypoint-zones", NAMESPACE)).body;
    expect(budget.status?.disruptionsAllowed).toBe(1);
  }

  /** Every Bookinfo Deployment kept a ready pod (each runs in one zone); the waypoint is judged on its own. */
  function expectNoDeploymentEmptied(watcher: SwitchWatcher, since: number, label: string): void {
    const minimum = Object.entries(watcher.minimumReady(since)).filter(([d]) => d !== WAYPOINT.name);
    for (const [deployment, ready] of minimum) expect([deployment, ready >= 1]).toEqual([deployment, true]);
    console.log(
      `${label}: the fewest ready pods any zone's Deployment had: ${Math.min(...minimum.map(([, r]) => r))}`,
    );
  }

  const ztunnelReadyOnEveryNode = (o: Observed) =>
    o.kind === "DaemonSet" && o.name === "ztunnel" && o.object.status?.numberReady === ZONES.length;

  /** Every ambient check of step 4 that does not depend on the watcher: labels, proxies, ztunnel, waypoint. */
  async function expectAmbientMode(): Promise<void> {
    const labels = await cluster.namespaceLabels(NAMESPACE);
    expect([labels["istio.io/dataplane-mode"], labels[WAYPOINT.useLabel], labels["istio-injection"]]).toEqual(
      ["ambient", WAYPOINT.name, undefined],
    );
    await expectNoProxies();
    await expectZtunnelConfig();
    await expectWaypointEndpoints(await expectWaypointInEveryZone());
  }

  /** The program's warning when the cluster and the last outputs disagree (see `orderingMode`). */
  const HALF_WAY_NOTE = "completing or undoing a switch that stopped half way";

  /**
   * An admission policy of the cluster's own that denies one step of a switch, as a policy engine or
   * webhook would. It is enforced once the API server's informer has it: `deniedNow` is a dry run of
   * that step, retried until the policy denies it.
   */
  async function denyByPolicy(
    name: string,
    spec: { rule: k8s.V1RuleWithOperations; match: string; allowed: string; message: string },
    deniedNow: () => Promise<unknown>,
  ): Promise<void> {
    await cluster.admission.createValidatingAdmissionPolicy({
      metadata: { name },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: { resourceRules: [spec.rule] },
        matchConditions: [{ name: "target", expression: spec.match }],
        validations: [{ expression: spec.allowed, message: spec.message }],
      },
    });
    await cluster.admission.createValidatingAdmissionPolicyBinding({
      metadata: { name },
      spec: { policyName: name, validationActions: ["Deny"] },
    });
    await waitFor(
      `the admission policy ${name} to be enforced`,
      async (): Promise<Check<true>> => {
        const denied = await deniedNow().then(
          () => false,
          (error: { body?: { message?: string } }) => (error.body?.message ?? "").includes(spec.message),
        );
        return denied ? { done: true, value: true } : { done: false, reason: "not denied yet" };
      },
      SETTLING,
    );
  }
  async function removePolicy(name: string): Promise<void> {
    await cluster.admission.deleteValidatingAdmissionPolicyBinding(name);
    await cluster.admission.deleteValidatingAdmissionPolicy(name);
  }
  const generations = async () =>
    Object.fromEntries((await bookinfoDeployments()).map((d) => [d.metadata!.name!, d.metadata!.generation]));

  /** Denies adding the injection label to the Bookinfo namespace: the first step of the way back to sidecar. */
  const DENY_INJECTION = "lab-deny-injection-label";
  const DENIAL = "the lab's admission policy denies the injection label";
  const denyInjectionLabel = () =>
    denyByPolicy(
      DENY_INJECTION,
      {
        rule: { apiGroups: [""], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["namespaces"] },
        match: `object.metadata.name == '${NAMESPACE}'`,
        allowed: "!(has(object.metadata.labels) && 'istio-injection' in object.metadata.labels)",
        message: DENIAL,
      },
      () =>
        cluster.core.patchNamespace(
          NAMESPACE,
          { metadata: { labels: { "istio-injection": "enabled" } } },
          undefined,
          "All",
          undefined,
          undefined,
          undefined,
          { headers: { "Content-Type": "application/merge-patch+json" } },
        ),
    );

  /** Denies ztunnel's DaemonSet, as a cluster that forbids privileged node agents would: ambient's first step. */
  const DENY_ZTUNNEL = "lab-deny-ztunnel";
  const ZTUNNEL_DENIAL = "the lab's admission policy denies the ztunnel DaemonSet";
  const denyZtunnel = () =>
    denyByPolicy(
      DENY_ZTUNNEL,
      {
        rule: {
          apiGroups: ["apps"],
          apiVersions: ["v1"],
          operations: ["CREATE", "UPDATE"],
          resources: ["daemonsets"],
        },
        match: "object.metadata.name == 'ztunnel'",
        allowed: "false",
        message: ZTUNNEL_DENIAL,
      },
      () =>
        cluster.apps.createNamespacedDaemonSet(
          "istio-system",
          {
            metadata: { name: "ztunnel" },
            spec: {
              selector: { matchLabels: { app: "ztunnel" } },
              template: {
                metadata: { labels: { app: "ztunnel" } },
                spec: { containers: [{ name: "z", image: "z" }] },
              },
            },
          },
          undefined,
          "All",
        ),
    );

  /** The restart time a pod template carries; a new one marks a restart. */
  const restartedAt = (d: any): string | undefined =>
    d?.spec?.template?.metadata?.annotations?.["kubectl.kubernetes.io/restartedAt"];
  const restartTimes = async () =>
    Object.fromEntries((await bookinfoDeployments()).map((d) => [d.metadata!.name!, restartedAt(d)]));
  const isBookinfoDeployment = (o: Observed) => o.kind === "Deployment" && o.name !== WAYPOINT.name;
  /** The Deployments whose pod templates name a mode, now. */
  const templatesIn = async (mode: string) =>
    (await bookinfoDeployments())
      .filter((d) => d.spec?.template.metadata?.annotations?.[MODE_ANNOTATION] === mode)
      .map((d) => d.metadata!.name!);
  /** Some but not all of the Bookinfo Deployments: a step caught in its middle. */
  const someButNotAll = async (names: string[]) => {
    const total = (await bookinfoDeployments()).length;
    return names.length > 0 && names.length < total ? "some" : `${names.length} of ${total}`;
  };
  /**
   * The engine's `--parallel` for a cancel in the middle of the restarts: below the number of
   * Deployments, as on a cluster with more Deployments than the engine runs at once, so that some
   * restarts are still waiting to start when the cancel lands.
   */
  const FEWER_THAN_THE_DEPLOYMENTS = 4;

  it("5a. a switch into ambient whose first step the cluster denies fails with the cause and touches no workload; once the cause is gone, cancelled at each step boundary, it is completed by `up` again from where it stopped", async () => {
    const watcher = new SwitchWatcher(cluster.config, NAMESPACE);
    const earlier = await restartTimes();
    // What Pulumi recorded of the first cancelled update: its stack outputs, and operations left pending.
    let recordedMode: unknown;
    let pending: PendingOperation[] = [];
    // What each cancel left, read once its update had ended.
    const left: Record<string, unknown> = {};
    const labels = () => cluster.namespaceLabels(NAMESPACE);
    const restarted = async () =>
      Object.entries(await restartTimes())
        .filter(([name, time]) => time !== earlier[name])
        .map(([name]) => name);
    await denyZtunnel();
    const before = await generations();
    const { since, gaps, replaced, logs } = await switchThrough(
      [
        {
          mode: "ambient",
          label: "into ambient, ztunnel denied (up)",
          failsWith: ZTUNNEL_DENIAL,
          after: async () => {
            left.denied = [(await labels())["istio.io/dataplane-mode"], await generations()];
            await removePolicy(DENY_ZTUNNEL);
          },
        },
        {
          mode: "ambient",
          label: "into ambient, cancelled at ztunnel ready (up)",
          cancelAt: ztunnelReadyOnEveryNode,
          after: async () => {
            recordedMode = (await test.stack.outputs()).dataplaneMode?.value;
            pending = await pendingOperations(test.stack);
            left.ztunnel = [(await labels())["istio.io/dataplane-mode"], (await restarted()).length];
          },
        },
        {
          mode: "ambient",
          label: "into ambient, cancelled in the middle of the HBONE restarts (up)",
          parallel: FEWER_THAN_THE_DEPLOYMENTS,
          cancelAt: (o) =>
            isBookinfoDeployment(o) && o.name in earlier && restartedAt(o.object) !== earlier[o.name],
          after: async () => {
            left.restarts = [
              (await labels())["istio.io/dataplane-mode"],
              await someButNotAll(await restarted()),
            ];
          },
        },
        {
          mode: "ambient",
          label: "into ambient, cancelled at the ambient label (up)",
          cancelAt: (o) => o.kind === "Namespace" && labelsOf(o)["istio.io/dataplane-mode"] === "ambient",
          after: async () => {
            left.label = [(await labels())["istio.io/dataplane-mode"], await templatesIn("ambient")];
          },
        },
        {
          mode: "ambient",
          label: "into ambient, cancelled in the middle of the sidecar removals (up)",
          parallel: FEWER_THAN_THE_DEPLOYMENTS,
          cancelAt: (o) => isBookinfoDeployment(o) && templateMode(o) === "ambient",
          after: async () => {
            left.removals = await someButNotAll(await templatesIn("ambient"));
          },
        },
        { mode: "ambient", label: "resumed into ambient (up)" },
      ],
      watcher,
    );
    // A cancelled update writes its outputs as if it had completed; Ctrl-C leaves nothing pending.
    expect(recordedMode).toBe("ambient");
    expect(pending).toEqual([]);
    // Each cancel stopped the switch at its boundary: nothing after it had started.
    expect(left).toEqual({
      denied: [undefined, before],
      ztunnel: [undefined, 0],
      restarts: [undefined, "some"],
      label: ["ambient", []],
      removals: "some",
    });
    // The failed run changed no workload, so the cluster still runs sidecar only; by its outputs the
    // next run would be ambient → ambient.
    expect(logs[1]).toContain("this run orders its steps as a switch from `sidecar` to `ambient`");
    // By its outputs each resume would be an ambient → ambient run, with none of the switch's steps.
    for (const [i, log] of logs.slice(2).entries())
      expect([i + 2, log]).toEqual([i + 2, expect.stringContaining(HALF_WAY_NOTE)]);
    expect((await test.stack.outputs()).migration?.value).toBe("sidecar → ambient");
    expect(gaps).toEqual([]);
    expect(replaced).toEqual([]);
    expectNoDeploymentEmptied(watcher, since, "5a");
    await expectAmbientMode();
  });

  it("5b. a switch back to sidecar whose first step the cluster denies fails with the cause and touches no workload; once the cause is gone, cancelled at each step boundary, it completes", async () => {
    const watcher = new SwitchWatcher(cluster.config, NAMESPACE);
    await denyInjectionLabel();
    const before = await generations();
    let afterFailure: Record<string, number | undefined> = {};
    let labelsAfterFailure: Record<string, string> = {};
    const left: Record<string, unknown> = {};
    const ambientLabel = async () => (await cluster.namespaceLabels(NAMESPACE))["istio.io/dataplane-mode"];
    const ztunnelRuns = async () =>
      (await cluster.apps.listNamespacedDaemonSet("istio-system")).body.items.some(
        (d) => d.metadata?.name === "ztunnel",
      );
    const { since, gaps, replaced, logs } = await switchThrough(
      [
        {
          mode: "sidecar",
          label: "back to sidecar, denied (up)",
          failsWith: DENIAL,
          after: async () => {
            afterFailure = await generations();
            labelsAfterFailure = await cluster.namespaceLabels(NAMESPACE);
            await removePolicy(DENY_INJECTION);
          },
        },
        {
          mode: "sidecar",
          label: "back to sidecar, cancelled at the injection label (up)",
          cancelAt: (o) => o.kind === "Namespace" && labelsOf(o)["istio-injection"] === "enabled",
          after: async () => {
            left.label = [await ambientLabel(), await templatesIn("sidecar")];
          },
        },
        {
          mode: "sidecar",
          label: "back to sidecar, cancelled in the middle of the sidecar restarts (up)",
          parallel: FEWER_THAN_THE_DEPLOYMENTS,
          cancelAt: (o) => isBookinfoDeployment(o) && templateMode(o) === "sidecar",
          after: async () => {
            left.restarts = [await ambientLabel(), await someButNotAll(await templatesIn("sidecar"))];
          },
        },
        {
          mode: "sidecar",
          label: "back to sidecar, cancelled once the ambient label is off (up)",
          cancelAt: (o) => o.kind === "Namespace" && labelsOf(o)["istio.io/dataplane-mode"] === undefined,
          after: async () => {
            const all = (await bookinfoDeployments()).length;
            left.ambientOff = [
              await ambientLabel(),
              (await templatesIn("sidecar")).length === all,
              await ztunnelRuns(),
            ];
          },
        },
        { mode: "sidecar", label: "back to sidecar, resumed (up)" },
      ],
      watcher,
    );
    // Each cancel stopped the way back at its boundary: nothing after it had started.
    expect(left).toEqual({
      label: ["ambient", []],
      restarts: ["ambient", "some"],
      ambientOff: [undefined, true, true],
    });
    for (const [i, log] of logs.slice(2).entries()) {
      expect([i + 2, log]).toEqual([i + 2, expect.stringContaining(HALF_WAY_NOTE)]);
    }
    expect(afterFailure).toEqual(before);
    expect([labelsAfterFailure["istio.io/dataplane-mode"], labelsAfterFailure["istio-injection"]]).toEqual([
      "ambient",
      undefined,
    ]);
    expect(gaps).toEqual([]);
    expect(replaced).toEqual([]);
    expectNoDeploymentEmptied(watcher, since, "5b");
    expect((await test.stack.outputs()).migration?.value).toBe("ambient → sidecar");
    await expectSidecarMode();
    await expectInjected();
    await expectSidecarEndpoints("strict");
  });

  /** A node label the lab's ztunnel is restricted to, as a platform restricts node agents to a node pool. */
  const ZTUNNEL_POOL = "lab-ztunnel-pool";
  const ZTUNNEL_NODE_SELECTOR = configKey(`istio.values.ztunnel.nodeSelector.${ZTUNNEL_POOL}`);
  const labelNode = (node: string, value: string | null) =>
    cluster.core.patchNode(
      node,
      { metadata: { labels: { [ZTUNNEL_POOL]: value } } },
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      { headers: { "Content-Type": "application/merge-patch+json" } },
    );

  it("5c. a switch into ambient whose ztunnel cannot run on a node fails with the cause before any workload; once the node is let in, killed during the HBONE restarts, it is recovered and rolled back to sidecar", async () => {
    const watcher = new SwitchWatcher(cluster.config, NAMESPACE);
    const [kept, ...pool] = Object.keys(NODES).reverse();
    for (const node of pool) await labelNode(node, "enabled");
    await test.stack.setConfig(ZTUNNEL_NODE_SELECTOR, { value: "enabled" }, true);
    const before = await generations();
    // The restart times the last switch left on the pod templates: a new one marks this switch's restarts.
    const earlier = await restartTimes();
    let leftByTheFailure: unknown;
    let outputsAfterTheFailure: OutputMap = {};
    let outputsAfterTheKill: OutputMap = {};
    let pending: PendingOperation[] = [];
    let refused = "";
    let recovery: Recovery | undefined;
    let labelsRecovered: Record<string, string> = {};
    let restartsAtTheKill: string[] = [];
    let result: Awaited<ReturnType<typeof switchThrough>>;
    try {
      result = await switchThrough(
        [
          {
            mode: "ambient",
            label: "into ambient, ztunnel kept off a node (up)",
            failsWith: `ztunnel on node ${kept} (${NODES[kept]}): its DaemonSet controller placed no pod there`,
            after: async () => {
              leftByTheFailure = [
                (await cluster.namespaceLabels(NAMESPACE))["istio.io/dataplane-mode"],
                await generations(),
              ];
              outputsAfterTheFailure = await test.stack.outputs();
              await labelNode(kept, "enabled");
            },
          },
          {
            mode: "ambient",
            label: "into ambient, engine killed during the HBONE restarts (up)",
            killAt: (o) =>
              isBookinfoDeployment(o) && o.name in earlier && restartedAt(o.object) !== earlier[o.name],
            after: async () => {
              restartsAtTheKill = Object.entries(await restartTimes())
                .filter(([name, at]) => at !== earlier[name])
                .map(([name]) => name);
              outputsAfterTheKill = await test.stack.outputs();
              pending = await pendingOperations(test.stack);
              // The dead engine's lock refuses every update until it is removed.
              refused = await test.stack.up({ onOutput: () => undefined }).then(
                () => "ran",
                (error: Error) => error.message,
              );
              recovery = await timed("recover (cancel + undo + refresh)", () => recoverStack(test.stack));
              expect(await pendingOperations(test.stack)).toEqual([]);
              labelsRecovered = await cluster.namespaceLabels(NAMESPACE);
            },
          },
          { mode: "sidecar", label: "rolled back to sidecar (up)" },
        ],
        watcher,
      );
    } finally {
      await test.stack.removeConfig(configKey("istio.values.ztunnel.nodeSelector"), true);
      for (const node of Object.keys(NODES)) await labelNode(node, null);
    }
    const { since, gaps, replaced, logs } = result;
    // The failure came before the ambient label and before any restart.
    expect(leftByTheFailure).toEqual([undefined, before]);
    expect(logs[0]).toMatch(new RegExp(`its nodeSelector: .*${ZTUNNEL_POOL}=enabled`));
    console.log(
      `after the killed switch the state held ${pending.length} pending operation(s): ${pending.map(describeOperation).join(", ")}`,
    );
    // The failed run wrote its outputs as if it had completed; the killed one wrote nothing over them.
    expect(outputsAfterTheFailure.dataplaneMode?.value).toBe("ambient");
    expect(outputsAfterTheKill).toEqual(outputsAfterTheFailure);
    expect(refused).toContain("the stack is currently locked");
    expect((await test.stack.outputs()).migration?.value).toBe("ambient → sidecar");
    expect(gaps).toEqual([]);
    expect(replaced).toEqual([]);
    expectNoDeploymentEmptied(watcher, since, "5c");
    // The engine died with Deployment updates in flight, awaiting their rollouts.
    expect(restartsAtTheKill.length).toBeGreaterThan(0);
    expect(pending.map((operation) => operation.type)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^(creating|updating)$/)]),
    );
    console.log(
      `recover put back: ${recovery?.undone.map(describeUndone).join("; ") || "nothing"}; ` +
        `cleared ${recovery?.cleared.length ?? 0} pending operation(s)`,
    );
    // The label comes after the restarts: no run got as far as it, and recover left none behind.
    expect(
      watcher.first(
        (o) => o.kind === "Namespace" && labelsOf(o)["istio.io/dataplane-mode"] === "ambient",
        since,
      ),
    ).toBe(Infinity);
    expect(labelsRecovered["istio.io/dataplane-mode"]).toBeUndefined();
    await expectSidecarMode();
    await expectInjected();
    await expectSidecarEndpoints("strict");
  });

  it("5d. a node drain with two nodes per zone completes within the budgets, and every zone keeps a ready pod of every service", async () => {
    // A second kwok node per zone, shaped like lab.sh's, named on as minikube names its nodes.
    const template = (await cluster.core.readNode(profile)).body;
    const extra = ZONES.map((zone, i) => ({
      name: `${profile}-m${String(ZONES.length + i + 1).padStart(2, "0")}`,
      zone,
      cidr: `10.244.${ZONES.length + i}.0/24`,
    }));
    for (const node of extra) {
      await cluster.core.createNode({
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name: node.name,
          annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
          // Not the template's zone and region: the program labels the node, as every other.
          labels: {
            ...Object.fromEntries(
              Object.entries(template.metadata!.labels!).filter(
                ([key]) => !key.startsWith("topology.kubernetes.io/"),
              ),
            ),
            "kubernetes.io/hostname": node.name,
            "minikube.k8s.io/primary": "false",
          },
        },
        spec: { podCIDR: node.cidr, podCIDRs: [node.cidr] },
        status: {
          allocatable: template.status!.allocatable,
          capacity: template.status!.capacity,
          nodeInfo: template.status!.nodeInfo,
        },
      });
      // The program labels the new nodes with their zones, as it labels the first ones.
      await test.stack.setConfig(configKey(`cluster.nodeZones.${node.name}`), { value: node.zone }, true);
    }
    // Two replicas per zone: the budgets let a drain take one of a zone's pods at a time.
    await test.stack.setConfig(configKey("bookinfo.replicasPerZone"), { value: "2" }, true);
    const scaled = await test.stack.up({ onOutput: () => undefined, parallel: ENGINE_PARALLEL });
    expect(scaled.summary.result).toBe("succeeded");
    const budgets = (await cluster.policy.listNamespacedPodDisruptionBudget(NAMESPACE)).body.items;
    expect(budgets.map((b) => b.spec?.maxUnavailable)).toEqual(
      Array((await bookinfoDeployments()).length).fill(1),
    );

    const drained = profile;
    const watcher = new SwitchWatcher(cluster.config, NAMESPACE);
    await watcher.start();
    const since = watcher.latest();
    try {
      const drain = await timed("drain of a zone's node", () =>
        promisify(execFile)(
          "kubectl",
          [
            "drain",
            drained,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--timeout=300s",
            `--kubeconfig=${kubeconfig}`,
          ],
          { maxBuffer: 16 * 1024 * 1024 },
        ),
      );
      expect(drain.stdout).toContain(`node/${drained} drained`);
      expect((await cluster.pods(NAMESPACE)).filter((p) => p.spec?.nodeName === drained)).toEqual([]);
      expectNoDeploymentEmptied(watcher, since, "5d");
    } finally {
      watcher.stop();
      await promisify(execFile)("kubectl", ["uncordon", drained, `--kubeconfig=${kubeconfig}`]);
    }
  });

  it("6. destroy leaves no namespace, release, Istio custom resource, zone label or stack file behind", async () => {
    await timed("destroy", () =>
      test.stack.destroy({ onOutput: () => undefined, parallel: ENGINE_PARALLEL }),
    );
    destroyed = true;
    const namespaces = await cluster.namespaceNames();
    for (const namespace of [NAMESPACE, "istio-system", "istio-ingress"])
      expect(namespaces).not.toContain(namespace);
    // Istio's CRDs stay (the base chart marks them `helm.sh/resource-policy: keep`); nothing of them does.
    expect(await cluster.istioCustomResources()).toEqual([]);
    expect(Object.values(await cluster.nodeZones()).filter((zone) => zone !== undefined)).toEqual([]);
    await test.remove();
    expect(fs.existsSync(path.join(PROJECT_DIR, `Pulumi.${test.name}.yaml`))).toBe(false);
  });

  it("7. a stack deployed by the last commit before versions were recorded keeps them: its preview changes nothing and says how to move", async () => {
    // That commit's project, as a user's checkout of it: its Pulumi.yaml (whose defaults were Istio
    // 1.26.6 and Kubernetes v1.32.0), its program, this checkout's packages (the same lockfile).
    const previous = fs.mkdtempSync(path.join(os.tmpdir(), "istio-locality-previous-"));
    await promisify(execFile)("bash", [
      "-c",
      'git -C "$1" archive --format=tar "$2" Pulumi.yaml package.json tsconfig.json components stacks | tar -x -C "$3"',
      "archive",
      PROJECT_DIR,
      UNRECORDED_COMMIT,
      previous,
    ]);
    fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(previous, "node_modules"));
    const { declareStack: declarePrevious } = (await import(path.join(previous, "components", "lab"))) as {
      declareStack: () => Promise<Record<string, unknown>>;
    };

    const config = {
      dataplaneMode: "sidecar",
      cluster: { provider: "existing", kubeconfig, nodeZones: NODES },
      istio: { chartDirectory: charts, values: labIstioValues() },
      bookinfo: { minReadySeconds: LAB_MIN_READY_SECONDS },
    };
    const current = await createTestStack("previous", config);
    const stackFile = `Pulumi.${current.name}.yaml`;
    fs.copyFileSync(path.join(PROJECT_DIR, stackFile), path.join(previous, stackFile));
    const deployedBefore = await LocalWorkspace.selectStack(
      { stackName: current.name, projectName: "istio-locality", program: declarePrevious },
      { workDir: previous, envVars: current.envVars, pulumiHome: current.envVars.PULUMI_HOME },
    );
    try {
      const up = await timed("up (the previous commit's program)", () =>
        deployedBefore.up({ onOutput: () => undefined, parallel: ENGINE_PARALLEL }),
      );
      expect(up.summary.result).toBe("succeeded");
      expect(up.outputs.istioVersion).toBeUndefined();

      const events: EngineEvent[] = [];
      const preview = await current.stack.preview({ onEvent: (e) => events.push(e) });
      expect(summarisePlan(events)).toEqual([]);
      // The stack's own outputs are read (a StackReference), nothing else is touched.
      expect(Object.keys(preview.changeSummary).filter((op) => op !== "same" && op !== "read")).toEqual([]);
      const warnings = events.flatMap((e) =>
        e.diagnosticEvent?.severity === "warning" ? [e.diagnosticEvent.message.trim()] : [],
      );
      expect(warnings).toEqual(
        expect.arrayContaining([
          expect.stringContaining("this stack keeps the Istio 1.26.6 it runs; new stacks get 1.30.5"),
          expect.stringContaining("Istio 1.26 reached its end of life on 2025-12-22"),
        ]),
      );
      const releases = await cluster.helmReleases("istio-system");
      expect(releases).toEqual(["istio-base", "istiod"]);
    } finally {
      await current.stack.destroy({ onOutput: () => undefined, parallel: ENGINE_PARALLEL });
      await current.remove();
      fs.rmSync(previous, { recursive: true, force: true });
    }
  });
});
