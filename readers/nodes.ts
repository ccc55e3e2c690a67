import { CoreV1Api } from "@kubernetes/client-node";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, configProblem, nodesCameLabelled, StackConfig } from "../stacks/config";
import { REGION_LABEL, ZONE_LABEL } from "../stacks/contract";
import { apiClientWithTimeout, stackKubeconfig } from "./api-client";

/** Node names shown per label value before the rest are counted. */
const NAMES_SHOWN = 5;

/** How long the node check waits for the API server before it warns and goes on. */
export const NODE_CHECK_TIMEOUT_MS = 10_000;

/** A node as the locality check sees it. */
export interface NodeLabels {
  name: string;
  labels: Record<string, string>;
}

/** Nodes by a label's value, in words ("`us-east1` on node-1, node-2; no `<label>` label on node-3"). */
function describeLabel(nodes: NodeLabels[], label: string): string {
  if (nodes.length === 0) return "the cluster lists no nodes";
  const byValue = new Map<string | undefined, string[]>();
  for (const node of nodes) {
    const value = node.labels[label];
    byValue.set(value, [...(byValue.get(value) ?? []), node.name]);
  }
  return [...byValue]
    .map(([value, names]) => {
      const shown = names.slice(0, NAMES_SHOWN).join(", ");
      const rest = names.length > NAMES_SHOWN ? ` and ${names.length - NAMES_SHOWN} more` : "";
      return `${value === undefined ? `no \`${label}\` label` : `\`${value}\``} on ${shown}${rest}`;
    })
    .join("; ");
}

/**
 * What is wrong with `cluster.region` and `zones` for nodes that came labelled, as configuration
 * problems: every zone needs a node carrying it (workloads are pinned to their zone), and the nodes
 * of the zones must carry the configured region (strict DestinationRules name `<region>/<zone>/*`).
 * When no node carries any of the zones, the region is judged on all nodes.
 */
export function regionProblems(nodes: NodeLabels[], region: string, zones: string[]): string[] {
  const problems: string[] = [];
  for (const zone of zones) {
    if (!nodes.some((node) => node.labels[ZONE_LABEL] === zone)) {
      problems.push(
        configProblem(
          "zones",
          zones,
          `zones the nodes carry in \`${ZONE_LABEL}\`; no node carries \`${zone}\` (${describeLabel(nodes, ZONE_LABEL)})`,
        ),
      );
    }
  }
  const ofZones = nodes.filter((node) => zones.includes(node.labels[ZONE_LABEL]));
  const judged = ofZones.length > 0 ? ofZones : nodes;
  const regions = new Set(judged.map((node) => node.labels[REGION_LABEL]));
  if (judged.length > 0 && (regions.size > 1 || !regions.has(region))) {
    const expected =
      regions.size === 1
        ? "the region the nodes carry"
        : "the one region every node of the zones carries, since strict locality names a single region";
    problems.push(
      configProblem("cluster.region", region, `${expected} (${describeLabel(judged, REGION_LABEL)})`),
    );
  }
  return problems;
}

/**
 * The nodes of the stack's cluster (see {@link stackKubeconfig}); gives up after `timeoutMs`.
 * Undefined when there is no cluster to ask.
 */
export async function readNodes(
  config: StackConfig,
  timeoutMs: number = NODE_CHECK_TIMEOUT_MS,
): Promise<NodeLabels[] | undefined> {
  const kubeconfig = stackKubeconfig(config);
  if (!kubeconfig) return undefined;
  const core = apiClientWithTimeout(kubeconfig, CoreV1Api, timeoutMs);
  const { body } = await core.listNode();
  return body.items.map((node) => ({ name: node.metadata?.name ?? "", labels: node.metadata?.labels ?? {} }));
}

/** A readable reason from what client-node rejected with (an HttpError carries a Kubernetes Status). */
export function describeReadFailure(error: unknown, timeoutMs: number): string {
  const failure = (error ?? {}) as {
    message?: unknown;
    code?: unknown;
    statusCode?: unknown;
    body?: unknown;
  };
  const status = failure.body as { message?: unknown } | undefined;
  if (typeof failure.statusCode === "number") {
    const detail = status && typeof status.message === "string" ? status.message : String(failure.message);
    return `HTTP ${failure.statusCode}: ${detail}`;
  }
  if (failure.code === "ETIMEDOUT" || failure.code === "ESOCKETTIMEDOUT") {
    return `no answer within ${timeoutMs / 1000} s (${String(failure.code)})`;
  }
  return typeof failure.message === "string" && failure.message ? failure.message : String(error);
}

/**
 * Checks `cluster.region` and `zones` against the live nodes of an `existing` cluster whose nodes
 * came labelled, before any resource is declared; throws a {@link ConfigError} when they disagree.
 * When the nodes cannot be read, it warns and goes on: a preview must not need a reachable cluster.
 */
export async function checkNodeLocality(
  config: StackConfig,
  read: typeof readNodes = readNodes,
): Promise<void> {
  const cluster = config.cluster;
  if (!nodesCameLabelled(cluster)) return;
  let nodes: NodeLabels[] | undefined;
  try {
    nodes = await read(config, NODE_CHECK_TIMEOUT_MS);
  } catch (error) {
    await pulumi.log.warn(
      `could not check \`istio-locality:cluster.region\` (\`${cluster.region}\`) against the nodes: ` +
        `${describeReadFailure(error, NODE_CHECK_TIMEOUT_MS)}. Strict DestinationRules name ` +
        `\`${cluster.region}/<zone>/*\`; if the nodes carry another \`${REGION_LABEL}\`, no strict rule ` +
        "matches a client and requests spread over every zone",
    );
    return;
  }
  if (!nodes) return;
  const problems = regionProblems(nodes, cluster.region, config.zones);
  if (problems.length > 0) throw new ConfigError(problems);
}
