/** The cluster tier's checks of what the API server holds: releases, labels, workloads per zone, endpoints, the waypoint. */
import type * as k8s from "@kubernetes/client-node";
import { execFile } from "child_process";
import * as path from "path";
import { promisify } from "util";
import { Check, waitFor } from "../../cli/shared/interrupt";
import { podReady } from "../../readers/pods";
import { MODE_ANNOTATION, WAYPOINT } from "../../stacks/contract";
import { destinationRuleSpec } from "../../stacks/destination-rules";
import { Observed, ServiceEndpoint, SwitchWatcher } from "./cluster";
import { hasSidecar } from "./istiod";
import { expectWaypointEndpoints, expectZtunnelConfig } from "./cluster-tier-mesh-checks";
import {
  analyzed,
  cluster,
  istioBin,
  IstioObject,
  kubeconfig,
  TIER_MIN_READY_SECONDS,
  NAMESPACE,
  PROXY_IMAGE,
  readyZones,
  REGION,
  REVIEWS,
  SETTLING,
  ZONES,
} from "./cluster-tier-setting";

export async function expectSidecarMode(): Promise<void> {
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

export async function expectWorkloadsInTheirZones(mode: string): Promise<void> {
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
export async function bookinfoDeployments(): Promise<k8s.V1Deployment[]> {
  return (await cluster.deployments(NAMESPACE)).filter((d) => d.metadata!.name !== WAYPOINT.name);
}

export const isWaypointPod = (pod: k8s.V1Pod) => pod.metadata?.labels?.[WAYPOINT.podLabel] === WAYPOINT.name;

export async function expectTrafficDistribution(): Promise<void> {
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

/** Each zone's ready client pod. */
export async function clientPods(): Promise<Record<string, k8s.V1Pod>> {
  const pods = (await cluster.pods(NAMESPACE, "app=client")).filter(podReady);
  return Object.fromEntries(pods.map((pod) => [pod.metadata!.labels!.zone, pod]));
}

/** Injection is Istio's: every Bookinfo pod got its proxy as a native sidecar, the gateway its template's image. */
export async function expectInjected(): Promise<void> {
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

export async function expectNoProxies(): Promise<void> {
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
export async function expectValidatedByIstio(resources: IstioObject[]): Promise<void> {
  await waitFor(
    "istiod to take over the validating webhook",
    async (): Promise<Check<true>> => {
      const webhook = (await cluster.admission.readValidatingWebhookConfiguration("istiod-default-validator"))
        .body.webhooks?.[0];
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

/** The waypoint istiod generated from the program's Gateway: one ready replica in each zone. */
export async function expectWaypointInEveryZone(): Promise<k8s.V1Pod[]> {
  const [deployment] = (await cluster.deployments(NAMESPACE)).filter(
    (d) => d.metadata!.name === WAYPOINT.name,
  );
  expect([deployment?.spec?.replicas, deployment?.spec?.minReadySeconds]).toEqual([
    ZONES.length,
    TIER_MIN_READY_SECONDS,
  ]);
  const nodeZones = await cluster.nodeZones();
  const pods = (await cluster.pods(NAMESPACE)).filter(isWaypointPod).filter(podReady);
  expect(pods.map((pod) => nodeZones[pod.spec!.nodeName!]).sort()).toEqual(ZONES);
  return pods;
}

/** `istioctl analyze` over the test cluster: no error; its warnings go to the log. */
export async function expectAnalyzeClean(after: string): Promise<void> {
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

/**
 * The Deployment istiod generated for the waypoint gives its pods at least the grace period of the
 * Bookinfo pods behind it (Istio 1.26's template says 2 s), and its budget lets a drain evict one.
 */
export async function expectWaypointDrainsLikeBookinfo(): Promise<void> {
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
export function expectNoDeploymentEmptied(watcher: SwitchWatcher, since: number, label: string): void {
  const minimum = Object.entries(watcher.minimumReady(since)).filter(([d]) => d !== WAYPOINT.name);
  for (const [deployment, ready] of minimum) expect([deployment, ready >= 1]).toEqual([deployment, true]);
  console.log(
    `${label}: the fewest ready pods any zone's Deployment had: ${Math.min(...minimum.map(([, r]) => r))}`,
  );
}

export const ztunnelReadyOnEveryNode = (o: Observed) =>
  o.kind === "DaemonSet" && o.name === "ztunnel" && o.object.status?.numberReady === ZONES.length;

/** Every ambient check of step 4 that does not depend on the watcher: labels, proxies, ztunnel, waypoint. */
export async function expectAmbientMode(): Promise<void> {
  const labels = await cluster.namespaceLabels(NAMESPACE);
  expect([labels["istio.io/dataplane-mode"], labels[WAYPOINT.useLabel], labels["istio-injection"]]).toEqual([
    "ambient",
    WAYPOINT.name,
    undefined,
  ]);
  await expectNoProxies();
  await expectZtunnelConfig();
  await expectWaypointEndpoints(await expectWaypointInEveryZone());
}
