import { AppsV1Api, CoreV1Api, KubeConfig, V1Container, V1Pod } from "@kubernetes/client-node";
import { apiClientWithTimeout, stackKubeconfig } from "./api-client";
import { StackConfig } from "../stacks/config";
import { DataplaneMode, otherMode } from "../stacks/contract";

/** How long reading what the cluster runs waits for the API server before the run goes on without it. */
export const LIVE_MESH_TIMEOUT_MS = 5_000;

/** Where ztunnel runs in ambient mode; the sidecar dataplane never has it. */
const ZTUNNEL = { namespace: "istio-system", name: "ztunnel" };
const AMBIENT_LABEL = "istio.io/dataplane-mode";
const INJECTION_LABEL = "istio-injection";
/** The label istiod puts on the waypoint pods it generates: they are proxies, not sidecars. */
const GENERATED_GATEWAY_LABEL = "gateway.istio.io/managed";

/**
 * What of each dataplane the cluster runs now, each piece named in words. A switch that stopped half
 * way leaves pieces of both; a cluster the program never reached has none.
 */
export interface LiveMesh {
  ambient: string[];
  sidecar: string[];
}

/** A pod's Istio proxy container, as a native sidecar (init container) or a classic one. */
export function proxyContainer(pod: V1Pod): V1Container | undefined {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find(
    (c) => c.name === "istio-proxy",
  );
}

/** Whether a pod runs Istio's proxy as its own sidecar (a waypoint's pod is a proxy, not a sidecar). */
function hasOwnSidecar(pod: V1Pod): boolean {
  return !pod.metadata?.labels?.[GENERATED_GATEWAY_LABEL] && proxyContainer(pod) !== undefined;
}

/** The pieces of each dataplane in one namespace's labels and pods, and ztunnel's DaemonSet. */
export function meshPieces(
  namespace: string,
  labels: Record<string, string> | undefined,
  pods: V1Pod[],
  ztunnel: boolean,
): LiveMesh {
  const live: LiveMesh = { ambient: [], sidecar: [] };
  if (ztunnel) live.ambient.push(`DaemonSet ${ZTUNNEL.namespace}/${ZTUNNEL.name}`);
  if (labels?.[AMBIENT_LABEL] === "ambient") {
    live.ambient.push(`namespace ${namespace} labelled ${AMBIENT_LABEL}=ambient`);
  }
  if (labels?.[INJECTION_LABEL] === "enabled") {
    live.sidecar.push(`namespace ${namespace} labelled ${INJECTION_LABEL}=enabled`);
  }
  const withSidecars = pods.filter((pod) => !pod.metadata?.deletionTimestamp && hasOwnSidecar(pod));
  if (withSidecars.length > 0) {
    live.sidecar.push(`${withSidecars.length} pod(s) in ${namespace} with an istio-proxy sidecar`);
  }
  return live;
}

/** A 404 from the API server: the object is not there, which is an answer. */
const notFound = (error: unknown): boolean => (error as { statusCode?: unknown })?.statusCode === 404;

/**
 * Reads what the stack's cluster runs now, before any resource is declared. Undefined when there is
 * no cluster to ask yet (a minikube profile not started: no kubeconfig file); throws when the cluster
 * does not answer within `timeoutMs`.
 */
export async function readLiveMesh(
  config: StackConfig,
  timeoutMs: number = LIVE_MESH_TIMEOUT_MS,
): Promise<LiveMesh | undefined> {
  const kubeconfig = stackKubeconfig(config);
  return kubeconfig && readMesh(kubeconfig, config.bookinfo.namespace, timeoutMs);
}

/** What the cluster a kubeconfig points at runs now in `namespace` and for ztunnel. */
export async function readMesh(
  kubeconfig: KubeConfig,
  namespace: string,
  timeoutMs: number = LIVE_MESH_TIMEOUT_MS,
): Promise<LiveMesh> {
  const core = apiClientWithTimeout(kubeconfig, CoreV1Api, timeoutMs);
  const apps = apiClientWithTimeout(kubeconfig, AppsV1Api, timeoutMs);
  const [labels, pods, ztunnel] = await Promise.all([
    core.readNamespace(namespace).then(
      ({ body }) => body.metadata?.labels ?? {},
      (error: unknown) => {
        if (notFound(error)) return undefined;
        throw error;
      },
    ),
    core.listNamespacedPod(namespace).then(({ body }) => body.items),
    apps.readNamespacedDaemonSet(ZTUNNEL.name, ZTUNNEL.namespace).then(
      () => true,
      (error: unknown) => {
        if (notFound(error)) return false;
        throw error;
      },
    ),
  ]);
  return meshPieces(namespace, labels, pods, ztunnel);
}

/** The one mode the cluster runs, or undefined when it runs pieces of both (or nothing of either). */
export function wholeMode(live: LiveMesh): DataplaneMode | undefined {
  if (live.ambient.length > 0 && live.sidecar.length === 0) return "ambient";
  if (live.sidecar.length > 0 && live.ambient.length === 0) return "sidecar";
  return undefined;
}

/** Whether the cluster runs pieces of both modes: a switch stopped half way. */
export const halfSwitched = (live: LiveMesh): boolean => live.ambient.length > 0 && live.sidecar.length > 0;

/** Every piece of both modes, in words. */
export const describeMesh = (live: LiveMesh): string => [...live.ambient, ...live.sidecar].join("; ");

/** The mode a run orders its steps from, and why. */
export interface OrderingMode {
  /** Undefined orders the run as an install. */
  previous: DataplaneMode | undefined;
  /** Said when the cluster and the last run's outputs disagree: a switch stopped half way. */
  note?: string;
}

/**
 * The mode a run to `next` starts from, as the switch order needs it. The cluster is the record
 * that survives every way a run can stop: Pulumi writes a failed or cancelled update's stack outputs
 * as if it had completed, and a killed engine writes none, so the last outputs can say either mode
 * after a switch that stopped half way. Any piece of the mode being left means the run must take
 * the way out of it: into ambient while any sidecar or injection label remains, out of ambient while
 * ztunnel or the ambient label remains. Without a cluster to ask, the last outputs decide.
 */
export function orderingMode(
  next: DataplaneMode,
  live: LiveMesh | undefined,
  lastOutputs: DataplaneMode | undefined,
): OrderingMode {
  if (!live) return { previous: lastOutputs };
  const other = otherMode(next);
  const leftOfOther = live[other];
  const previous: DataplaneMode | undefined =
    leftOfOther.length > 0 ? other : live[next].length > 0 ? next : undefined;
  if (previous === lastOutputs || previous === undefined) return { previous };
  const half = halfSwitched(live);
  return {
    previous,
    note:
      `the last run's outputs say \`${lastOutputs ?? "no run"}\`, but the cluster runs ` +
      `${half ? "pieces of both modes" : `\`${previous}\``} (${describeMesh(live)}): ` +
      `this run orders its steps as a switch from \`${previous}\` to \`${next}\`` +
      (half ? ", completing or undoing a switch that stopped half way" : ""),
  };
}
