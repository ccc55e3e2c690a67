import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  V1DaemonSet,
  V1Node,
  V1Pod,
  V1Taint,
} from "@kubernetes/client-node";
import * as pulumi from "@pulumi/pulumi";
import { ZONE_LABEL } from "../stacks/contract";
import { apiClientWithTimeout } from "./api-client";
import { describeReadFailure } from "./nodes";
import { containerWaiting, podReady } from "./pods";

/** Ambient's node agents: each zoned node needs both before a namespace joins ambient. */
export const NODE_AGENTS = [
  { name: "istio-cni-node", chart: "cni", role: "the CNI node agent" },
  { name: "ztunnel", chart: "ztunnel", role: "ztunnel" },
] as const;
export type NodeAgentName = (typeof NODE_AGENTS)[number]["name"];

/** How long a node agent's pod may take to turn ready once Helm is done: Helm's own default wait. */
export const NODE_AGENTS_TIMEOUT_MS = 5 * 60 * 1000;
const POLL_MS = 1000;
/** How long the DaemonSet controller gets to place a pod on a node it was just allowed onto. */
export const UNPLACED_GRACE_MS = 5000;
const REQUEST_TIMEOUT_MS = 10_000;

/** A zoned node without a ready pod of a node agent, and what the cluster says about it. */
export interface NodeAgentGap {
  agent: NodeAgentName;
  node: string;
  zone: string;
  /**
   * `unplaced`: the DaemonSet controller, up to date with the DaemonSet, put no pod there; waiting
   * will not change that. `waiting`: a pod is there, or the controller has not caught up yet.
   */
  kind: "unplaced" | "waiting";
  detail: string;
}

/** What the cluster runs of the node agents, as {@link readNodeAgents} lists it. */
export interface NodeAgentsView {
  nodes: V1Node[];
  daemonSets: Partial<Record<NodeAgentName, V1DaemonSet>>;
  /** Each agent's pods (by its DaemonSet's selector). */
  pods: Partial<Record<NodeAgentName, V1Pod[]>>;
}

const describeTaint = (taint: V1Taint): string =>
  `${taint.key}${taint.value ? `=${taint.value}` : ""}:${taint.effect}`;

/** Why a pod is not ready, in the words of its status. */
function podNotReady(pod: V1Pod): string {
  const unready = (pod.status?.conditions ?? []).find((c) => c.type === "Ready" && c.status !== "True");
  const why = containerWaiting(pod) ?? unready?.message ?? unready?.reason ?? "not ready";
  return `pod ${pod.metadata?.name} is ${pod.status?.phase ?? "unknown"}, ${why}`;
}

/** Why the DaemonSet placed no pod on a node: the node's taints next to the agent's tolerations. */
function unplacedDetail(node: V1Node, daemonSet: V1DaemonSet): string {
  const taints = (node.spec?.taints ?? []).filter(
    (t) => t.effect === "NoSchedule" || t.effect === "NoExecute",
  );
  const tolerations = (daemonSet.spec?.template.spec?.tolerations ?? []).map(
    (t) =>
      `${t.key ?? "*"}${t.operator === "Exists" ? " exists" : `=${t.value ?? ""}`}${t.effect ? `:${t.effect}` : ""}`,
  );
  const nodeSelector = Object.entries(daemonSet.spec?.template.spec?.nodeSelector ?? {}).map(
    ([key, value]) => `${key}=${value}`,
  );
  return (
    "its DaemonSet controller placed no pod there; " +
    `the node's taints: ${taints.map(describeTaint).join(", ") || "none"}; ` +
    `the agent's tolerations: ${tolerations.join(", ") || "none"}` +
    (nodeSelector.length ? `; its nodeSelector: ${nodeSelector.join(", ")}` : "")
  );
}

/**
 * Every zoned node (a node whose zone label is one of `zones`) without a ready pod of each node
 * agent. Pure: the cluster's own placement and readiness decide, read from what it lists.
 */
export function nodeAgentGaps(view: NodeAgentsView, zones: readonly string[]): NodeAgentGap[] {
  const zoned = view.nodes.filter((node) => zones.includes(node.metadata?.labels?.[ZONE_LABEL] ?? ""));
  const gaps: NodeAgentGap[] = [];
  for (const { name: agent } of NODE_AGENTS) {
    const daemonSet = view.daemonSets[agent];
    const settled =
      daemonSet !== undefined &&
      (daemonSet.status?.observedGeneration ?? 0) >= (daemonSet.metadata?.generation ?? 1);
    for (const node of zoned) {
      const name = node.metadata?.name ?? "?";
      const zone = node.metadata?.labels?.[ZONE_LABEL] ?? "?";
      const pods = (view.pods[agent] ?? []).filter((pod) => pod.spec?.nodeName === name);
      if (pods.some(podReady)) continue;
      if (!daemonSet) {
        gaps.push({ agent, node: name, zone, kind: "waiting", detail: "its DaemonSet does not exist" });
      } else if (pods.length > 0) {
        gaps.push({ agent, node: name, zone, kind: "waiting", detail: pods.map(podNotReady).join("; ") });
      } else {
        const detail = settled
          ? unplacedDetail(node, daemonSet)
          : "its DaemonSet controller has not caught up yet";
        gaps.push({ agent, node: name, zone, kind: settled ? "unplaced" : "waiting", detail });
      }
    }
  }
  return gaps;
}

/** The error a run fails with when the node agents do not cover every zoned node. */
export function nodeAgentsError(gaps: readonly NodeAgentGap[], waitedMs: number): pulumi.RunError {
  const lines = gaps.map(
    (gap) => `  - ${agentRole(gap.agent)} on node ${gap.node} (${gap.zone}): ${gap.detail}`,
  );
  const unplaced = gaps.some((gap) => gap.kind === "unplaced");
  return new pulumi.RunError(
    "ambient's node agents do not run ready on every zoned node" +
      `${unplaced ? "" : ` after ${Math.round(waitedMs / 1000)} s`}, so pods there would not be captured; ` +
      `this run labels no namespace ambient and restarts no workload:\n${lines.join("\n")}\n` +
      (unplaced
        ? "Let the agent onto the node (the node's taints and labels, or the agent's `tolerations` and " +
          "`nodeSelector` in `istio-locality:istio.values.<cni|ztunnel>`), then run `pulumi up` again."
        : "Once they are ready, run `pulumi up` again."),
  );
}

const agentRole = (agent: NodeAgentName): string => NODE_AGENTS.find((a) => a.name === agent)!.role;

/** Lists the nodes, the node agents' DaemonSets and their pods in `namespace`. */
export async function readNodeAgents(kubeconfig: KubeConfig, namespace: string): Promise<NodeAgentsView> {
  const core = apiClientWithTimeout(kubeconfig, CoreV1Api, REQUEST_TIMEOUT_MS);
  const apps = apiClientWithTimeout(kubeconfig, AppsV1Api, REQUEST_TIMEOUT_MS);
  const [nodes, daemonSets] = await Promise.all([
    core.listNode().then(({ body }) => body.items),
    apps.listNamespacedDaemonSet(namespace).then(({ body }) => body.items),
  ]);
  const view: NodeAgentsView = { nodes, daemonSets: {}, pods: {} };
  await Promise.all(
    NODE_AGENTS.map(async ({ name }) => {
      const daemonSet = daemonSets.find((d) => d.metadata?.name === name);
      if (!daemonSet) return;
      view.daemonSets[name] = daemonSet;
      const selector = Object.entries(daemonSet.spec?.selector.matchLabels ?? {})
        .map(([key, value]) => `${key}=${value}`)
        .join(",");
      const { body } = await core.listNamespacedPod(
        namespace,
        undefined,
        undefined,
        undefined,
        undefined,
        selector,
      );
      view.pods[name] = body.items;
    }),
  );
  return view;
}

/**
 * Resolves once each node agent runs a ready pod on every zoned node. Rejects, naming each node and
 * why, once the DaemonSet controller has left a node without a pod for {@link UNPLACED_GRACE_MS} (a
 * taint the agent does not tolerate: waiting will not help), or after `timeoutMs`. Helm's wait alone
 * does not cover this: it counts only the nodes the DaemonSet chose, and passes with
 * `maxUnavailable` of them not ready.
 */
export async function awaitNodeAgents(
  kubeconfigText: string,
  namespace: string,
  zones: readonly string[],
  timeoutMs: number = NODE_AGENTS_TIMEOUT_MS,
  read: typeof readNodeAgents = readNodeAgents,
): Promise<void> {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromString(kubeconfigText);
  const started = Date.now();
  const unplacedSince = new Map<string, number>();
  for (;;) {
    let gaps: NodeAgentGap[] | undefined;
    try {
      gaps = nodeAgentGaps(await read(kubeconfig, namespace), zones);
    } catch (error) {
      if (Date.now() - started >= timeoutMs) {
        throw new pulumi.RunError(
          "ambient's node agents could not be read: " + describeReadFailure(error, REQUEST_TIMEOUT_MS),
        );
      }
    }
    if (gaps?.length === 0) return;
    if (gaps) {
      const now = Date.now();
      const unplaced = new Set(gaps.filter((g) => g.kind === "unplaced").map((g) => `${g.agent}/${g.node}`));
      for (const key of unplacedSince.keys()) if (!unplaced.has(key)) unplacedSince.delete(key);
      for (const key of unplaced) if (!unplacedSince.has(key)) unplacedSince.set(key, now);
      const settled = [...unplacedSince.values()].some((since) => now - since >= UNPLACED_GRACE_MS);
      if (settled || now - started >= timeoutMs) throw nodeAgentsError(gaps, now - started);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
