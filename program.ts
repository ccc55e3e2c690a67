import * as pulumi from "@pulumi/pulumi";
import { DeclaredOutputs, Lab } from "./components/lab";
import { NodeAgentsCheck } from "./components/istio";
import { FetchText, fetchText, readInstallSources } from "./stacks/charts";
import { ConfigError, loadConfig, StackConfig } from "./stacks/config";
import { DataplaneMode } from "./stacks/contract";
import { PreviousRun, previousRun } from "./stacks/history";
import { minikubeToolProblems, OnPath, onPath } from "./readers/machine";
import { LIVE_MESH_TIMEOUT_MS, LiveMesh, orderingMode, readLiveMesh } from "./readers/live-mesh";
import { awaitNodeAgents } from "./readers/node-agents";
import { checkClusterVersions, readClusterVersions } from "./readers/cluster-versions";
import { checkNodeLocality, describeReadFailure, readNodes } from "./readers/nodes";
import { planRun } from "./stacks/plan";
import { versionNotes } from "./stacks/versions";

/** What the program reads from outside itself before it declares anything; tests pass recorded answers. */
export interface StackReaders {
  /** The chart source and the Gateway API CRDs' release. */
  web: FetchText;
  /** What the cluster runs now. */
  mesh: typeof readLiveMesh;
  /** Ambient's node agents, awaited during the run. */
  nodeAgents: NodeAgentsCheck["await"];
  /** The cluster's Kubernetes and Gateway API versions. */
  clusterVersions: typeof readClusterVersions;
  /** The zones and region the nodes of an `existing` cluster carry, where they came labelled. */
  nodes: typeof readNodes;
  /** Which commands this machine has (minikube and its driver). */
  commands: OnPath;
}

const LIVE_READERS: StackReaders = {
  web: fetchText,
  mesh: readLiveMesh,
  nodeAgents: awaitNodeAgents,
  clusterVersions: readClusterVersions,
  nodes: readNodes,
  commands: onPath,
};

/**
 * Validates this stack's configuration (against this machine's commands, its chart source, the live
 * nodes where they came labelled, and the cluster's own versions), then declares the lab and returns
 * the stack outputs: the program's entry, whose result `index.ts` exports.
 */
export async function declareStack(readers: Partial<StackReaders> = {}): Promise<DeclaredOutputs> {
  const read = { ...LIVE_READERS, ...readers };
  const previous = await previousRun();
  const config = loadConfig(previous.versions);
  for (const note of versionNotes(config.versions, config.cluster.provider, new Date())) {
    await pulumi.log.warn(note);
  }
  const machine = minikubeToolProblems(config.cluster, read.commands);
  if (machine.length > 0) throw new ConfigError(machine);
  // Each question waits for its own timeout on a cluster or repository that does not answer: asked
  // at once, a run waits for the slowest instead of their sum.
  const [sources, nodes, starting] = await Promise.allSettled([
    readInstallSources(config, read.web).then(async (crds) => {
      await checkClusterVersions(config, crds, read.clusterVersions);
      return crds;
    }),
    checkNodeLocality(config, read.nodes),
    startingMode(config, previous, read.mesh),
  ]);
  if (sources.status === "rejected" || nodes.status === "rejected" || starting.status === "rejected") {
    throw oneFailure(
      [sources, nodes, starting].flatMap((check) =>
        check.status === "rejected" ? [check.reason as unknown] : [],
      ),
    );
  }
  const plan = planRun(config, { previousMode: starting.value, gatewayApiCrds: sources.value });
  return new Lab("lab", { plan, awaitNodeAgents: read.nodeAgents }).outputs;
}

/** What a run reports when checks failed: the first failure that is not a configuration error, else one error naming every problem. */
function oneFailure(reasons: unknown[]): unknown {
  const other = reasons.find((reason) => !(reason instanceof ConfigError));
  return other ?? new ConfigError(reasons.flatMap((reason) => (reason as ConfigError).problems));
}

/**
 * The mode this run switches from: what the cluster runs, or the last run's outputs when the
 * cluster cannot be asked (see {@link orderingMode}). Says so when the two disagree, and when the
 * cluster did not answer.
 */
async function startingMode(
  config: StackConfig,
  lastRun: PreviousRun,
  readMesh: typeof readLiveMesh,
): Promise<DataplaneMode | undefined> {
  const lastOutputs = lastRun.dataplaneMode;
  let live: LiveMesh | undefined;
  try {
    live = await readMesh(config);
  } catch (error) {
    await pulumi.log.warn(
      `could not read which dataplane the cluster runs (${describeReadFailure(error, LIVE_MESH_TIMEOUT_MS)}); ` +
        `the switch order follows the last run's outputs (\`${lastOutputs ?? "no run"}\`)`,
    );
  }
  const { previous, note } = orderingMode(config.dataplaneMode, live, lastOutputs);
  if (note) await pulumi.log.warn(note);
  return previous;
}
