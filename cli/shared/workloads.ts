import type { V1Deployment, V1EndpointSlice, V1Node, V1Pod } from "@kubernetes/client-node";
import { CLIENT, POD_LABELS } from "../../stacks/contract";
import { podReady } from "../../readers/pods";

/** Ready endpoints one zone has for the services a request passes through. */
export interface ZoneHealth {
  reviews: number;
  productpage: number;
}

/** Ready endpoints per zone at one moment. */
export type HealthSnapshot = Record<string, ZoneHealth>;

/** The Bookinfo services whose endpoints decide whether a zone can answer. */
const HEALTH_SERVICES = ["reviews", "productpage"] as const;

/**
 * Ready endpoints per zone for reviews and productpage, read from EndpointSlices: that is what istiod
 * and kube-proxy route by. An endpoint without a `zone` is placed through the stack's node → zone map.
 */
export function healthFromEndpointSlices(
  slices: readonly V1EndpointSlice[],
  zones: readonly string[],
  nodeZones: Record<string, string>,
): HealthSnapshot {
  const health: HealthSnapshot = Object.fromEntries(
    zones.map((zone) => [zone, { reviews: 0, productpage: 0 }]),
  );
  for (const slice of slices) {
    const service = slice.metadata?.labels?.["kubernetes.io/service-name"];
    if (service !== "reviews" && service !== "productpage") continue;
    for (const endpoint of slice.endpoints ?? []) {
      // `ready` unset means ready, per the EndpointSlice API.
      if (endpoint.conditions?.ready === false || endpoint.conditions?.terminating === true) continue;
      const zone = endpoint.zone ?? (endpoint.nodeName ? nodeZones[endpoint.nodeName] : undefined);
      if (!zone) continue;
      health[zone] ??= { reviews: 0, productpage: 0 };
      health[zone][service] += endpoint.addresses.length > 0 ? 1 : 0;
    }
  }
  return health;
}

/** The label selector for the EndpointSlices {@link healthFromEndpointSlices} reads. */
export const HEALTH_SLICE_SELECTOR = `kubernetes.io/service-name in (${HEALTH_SERVICES.join(",")})`;

/** The label selector of the per-zone client pods. */
export const CLIENT_SELECTOR = `${POD_LABELS.app}=${CLIENT.app}`;

/** One ready client pod per zone (the oldest, so repeated runs use the same one); zones without one are left out. */
export function clientPodsByZone(pods: readonly V1Pod[], zones: readonly string[]): Record<string, V1Pod> {
  const byZone: Record<string, V1Pod> = {};
  // client-node hands creationTimestamp over as a Date, plain objects (tests, fixtures) as a string.
  const created = (pod: V1Pod): number => new Date(pod.metadata?.creationTimestamp ?? 0).getTime();
  const ready = pods.filter(podReady).sort((a, b) => created(a) - created(b));
  for (const zone of zones) {
    const pod = ready.find((candidate) => candidate.metadata?.labels?.[POD_LABELS.zone] === zone);
    if (pod) byZone[zone] = pod;
  }
  return byZone;
}

/** The reviews Deployments whose pods run in a zone (by their pod template's `zone` label). */
export function reviewsDeploymentsInZone(deployments: readonly V1Deployment[], zone: string): V1Deployment[] {
  return deployments.filter((deployment) => {
    const labels = deployment.spec?.template.metadata?.labels ?? {};
    return labels[POD_LABELS.app] === "reviews" && labels[POD_LABELS.zone] === zone;
  });
}

/** Why a Deployment has not finished rolling out, or undefined when it has. */
export function rolloutPending(deployment: V1Deployment): string | undefined {
  const name = deployment.metadata?.name ?? "?";
  const want = deployment.spec?.replicas ?? 1;
  const status = deployment.status ?? {};
  if ((status.observedGeneration ?? 0) < (deployment.metadata?.generation ?? 0)) {
    return `${name}: generation ${deployment.metadata?.generation} not yet observed`;
  }
  const updated = status.updatedReplicas ?? 0;
  const ready = status.readyReplicas ?? 0;
  const total = status.replicas ?? 0;
  if (updated !== want || ready !== want || total !== want) {
    return `${name}: ${updated} updated, ${ready} ready, ${total} in total of ${want}`;
  }
  return undefined;
}

/** What still rolls out in a namespace; empty when every Deployment is current, updated and ready. */
export function rolloutsPending(deployments: readonly V1Deployment[]): string[] {
  return deployments.map(rolloutPending).filter((reason): reason is string => reason !== undefined);
}

/**
 * Nodes that kwok fakes: it marks them with the `kwok.x-k8s.io/node` annotation (and `type: kwok` by
 * convention). Pods there report Ready but no container runs, so nothing can answer a request.
 */
export function fakeNodes(nodes: readonly V1Node[]): string[] {
  return nodes
    .filter(
      (node) =>
        node.metadata?.annotations?.["kwok.x-k8s.io/node"] !== undefined ||
        node.metadata?.labels?.type === "kwok",
    )
    .map((node) => node.metadata?.name ?? "?");
}
