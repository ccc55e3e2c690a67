import { CLIENT, POD_LABELS } from "../../stacks/contract";
import { Outcome, Via, classifyAnswer, parseTranscript, verifyScript } from "../shared/answers";
import { CannotAnswerError } from "../shared/can-answer";
import { InterruptedError, UsageError } from "../shared/exit";
import { Check, sleep, waitFor } from "../shared/interrupt";
import { DeployedStack } from "../shared/stack";
import {
  CLIENT_SELECTOR,
  clientPodsByZone,
  fakeNodes,
  reviewsDeploymentsInZone,
  rolloutsPending,
} from "../shared/workloads";
import { ExecEvidence, assessExecRound } from "./exec-round";
import { judgeRound, judgingIntent } from "./judge";
import { VerifyRound, renderVerifyRound } from "./report";
import { tallyZone } from "./tally";

/** Per-request time limit in the client pods, seconds: above productpage's two 3 s tries at reviews. */
const REQUEST_TIMEOUT_S = 8;
/** How long the mesh gets to learn of endpoints that appeared or went, before traffic is judged. */
const PROPAGATION_MS = 5000;
/** How long scaling down or up may take. */
const SCALE_TIMEOUT_MS = 5 * 60 * 1000;

/** What {@link checkLocality} checks. */
export interface VerifyRun {
  /** Requests per zone and path. */
  requests: number;
  vias: Via[];
  /** Zone whose reviews to take to 0 replicas and back. */
  drill?: string;
  signal?: AbortSignal;
  log: (line: string) => void;
  /** Told how to undo the drill by hand, while it is in effect. */
  setCleanupHint?: (hint: string | undefined) => void;
}

/** The outcome of a locality check. */
export interface VerifyReport {
  ok: boolean;
  rounds: VerifyRound[];
  /** One line for a caller's summary. */
  summary: string;
}

/** Sends one round of requests from the given zones' client pods and judges the answers. */
async function measureRound(
  deployed: DeployedStack,
  run: VerifyRun,
  label: string,
  zones: readonly string[],
  drained?: string,
) {
  const { outputs, cluster } = deployed;
  const clients = clientPodsByZone(await cluster.pods(CLIENT_SELECTOR), zones);
  const missing = zones.filter((zone) => !clients[zone]);
  const misnamed = zones.filter(
    (zone) => clients[zone] && !clients[zone].spec?.containers.some((c) => c.name === CLIENT.container),
  );
  if (misnamed.length) {
    // Exec into a container that does not exist fails like a dead cluster (HTTP 400 before any output).
    throw new Error(
      `the client pods of ${misnamed.join(", ")} have no container named \`${CLIENT.container}\``,
    );
  }
  if (missing.length) {
    throw new Error(
      `no ready client pod (labels ${CLIENT_SELECTOR}, ${POD_LABELS.zone}=<zone>) in ${missing.join(", ")} of namespace ${outputs.bookinfoNamespace}`,
    );
  }
  const before = await cluster.health(outputs.zones, outputs.nodeZones);
  const script = verifyScript(run.requests, run.vias, REQUEST_TIMEOUT_S);
  const timeoutMs = run.requests * run.vias.length * (REQUEST_TIMEOUT_S + 1) * 1000 + 60_000;
  run.log(`${label}: ${run.requests} requests per path from ${zones.join(", ")}...`);
  const execs = await Promise.all(
    zones.map(async (zone): Promise<ExecEvidence & { byVia: Map<Via, Outcome[]> }> => {
      const pod = clients[zone].metadata!.name!;
      const result = await cluster.execScript(pod, "client", script, timeoutMs, run.signal);
      const transcript = parseTranscript(result.stdout);
      const byVia = new Map<Via, Outcome[]>(run.vias.map((via) => [via, []]));
      for (const raw of transcript.answers)
        byVia.get(raw.via)?.push(classifyAnswer(raw, outputs.reviewsZones));
      return {
        zone,
        pod,
        startError: result.startError,
        status: result.status,
        complete: transcript.complete,
        outcomes: [...byVia.values()].flat(),
        byVia,
      };
    }),
  );
  if (run.signal?.aborted) throw new InterruptedError();
  // Nodes only explain a failure (kwok); a kubeconfig not allowed to list them must not stop the check.
  const fake = fakeNodes(await cluster.nodes().catch(() => []));
  const answerable = assessExecRound(execs, fake);
  if (!answerable.canAnswer) throw new CannotAnswerError(answerable);
  const after = await cluster.health(outputs.zones, outputs.nodeZones);
  const tallies = execs.flatMap((exec) =>
    run.vias.map((via) => tallyZone(exec.zone, via, exec.byVia.get(via) ?? [])),
  );
  const intent = judgingIntent(outputs.dataplaneMode, outputs.locality, outputs.carriedIntent).intent;
  const round: VerifyRound = {
    label,
    tallies,
    verdict: judgeRound(intent, tallies, before, after, drained),
    before,
    after,
  };
  const incomplete = execs.filter((exec) => !exec.complete).map((exec) => exec.zone);
  run.log("");
  run.log(renderVerifyRound(round));
  if (incomplete.length)
    run.log(`note: the check did not run to its end in ${incomplete.join(", ")} (time limit or interrupt)`);
  run.log("");
  return round;
}

/** Takes a zone's reviews to 0 replicas, measures where its traffic goes, restores, and checks again. */
async function drill(deployed: DeployedStack, run: VerifyRun, zone: string): Promise<VerifyRound[]> {
  const { outputs, cluster } = deployed;
  if (!outputs.zones.includes(zone)) {
    throw new UsageError(`--drill ${zone}: not one of the stack's zones (${outputs.zones.join(", ")})`);
  }
  const targets = reviewsDeploymentsInZone(await cluster.deployments(), zone).map((deployment) => ({
    name: deployment.metadata!.name!,
    replicas: deployment.spec?.replicas ?? 1,
  }));
  if (targets.length === 0) throw new UsageError(`--drill ${zone}: no reviews Deployment runs in ${zone}`);
  const names = targets.map((target) => target.name).join(", ");
  const byHand = targets
    .map((t) => `kubectl -n ${outputs.bookinfoNamespace} scale deployment/${t.name} --replicas=${t.replicas}`)
    .join(" && ");
  run.setCleanupHint?.(byHand);
  // The restore must run even after Ctrl-C, so it waits without the run's (then aborted) signal.
  const restore = async (): Promise<void> => {
    run.log(`drill: restoring ${targets.map((t) => `${t.name} to ${t.replicas}`).join(", ")}...`);
    for (const target of targets) await cluster.scaleDeployment(target.name, target.replicas);
    await waitFor(
      `${names} to be ready again`,
      async (): Promise<Check<true>> => {
        const pending = rolloutsPending(
          (await cluster.deployments()).filter((d) => targets.some((t) => t.name === d.metadata?.name)),
        );
        const health = await cluster.health(outputs.zones, outputs.nodeZones);
        if (pending.length) return { done: false, reason: pending.join("; ") };
        if ((health[zone]?.reviews ?? 0) === 0)
          return { done: false, reason: `no ready reviews endpoint in ${zone} yet` };
        return { done: true, value: true };
      },
      { timeoutMs: SCALE_TIMEOUT_MS, onProgress: (reason) => run.log(`  waiting: ${reason}`) },
    );
    run.setCleanupHint?.(undefined);
  };
  let restoring: Promise<void> | undefined;
  const restoreOnce = (): Promise<void> => (restoring ??= restore());
  try {
    run.log(`drill: scaling ${names} in ${zone} to 0...`);
    for (const target of targets) await cluster.scaleDeployment(target.name, 0);
    await waitFor(
      `the reviews pods in ${zone} to be gone`,
      async (): Promise<Check<true>> => {
        const pods = await cluster.pods(`${POD_LABELS.app}=reviews,${POD_LABELS.zone}=${zone}`);
        const health = await cluster.health(outputs.zones, outputs.nodeZones);
        if (pods.length) return { done: false, reason: `${pods.length} reviews pod(s) still in ${zone}` };
        if ((health[zone]?.reviews ?? 0) > 0)
          return { done: false, reason: `reviews endpoints in ${zone} still listed` };
        return { done: true, value: true };
      },
      {
        timeoutMs: SCALE_TIMEOUT_MS,
        signal: run.signal,
        onProgress: (reason) => run.log(`  waiting: ${reason}`),
      },
    );
    await sleep(PROPAGATION_MS, run.signal);
    const drained = await measureRound(deployed, run, `drill: ${zone} without reviews`, [zone], zone);
    await restoreOnce();
    await sleep(PROPAGATION_MS, run.signal);
    const confirmed = await measureRound(deployed, run, `drill: after restoring ${zone}`, outputs.zones);
    return [drained, confirmed];
  } finally {
    await restoreOnce().catch((error: unknown) =>
      run.log(`drill: RESTORE FAILED: ${(error as Error).message}\n  restore by hand: ${byHand}`),
    );
  }
}

/**
 * The locality check: from every zone's client pod, `requests` requests per path; a table of who
 * answered; a verdict by the stack's locality intent; optionally the drill. Throws
 * {@link CannotAnswerError} when the cluster cannot serve traffic at all.
 */
export async function checkLocality(deployed: DeployedStack, run: VerifyRun): Promise<VerifyReport> {
  const { outputs } = deployed;
  const intent = judgingIntent(outputs.dataplaneMode, outputs.locality, outputs.carriedIntent);
  run.log(
    `Locality check: mode ${outputs.dataplaneMode}, locality ${outputs.locality}` +
      (outputs.localityMechanism ? ` (${outputs.localityMechanism})` : ""),
  );
  if (intent.note) run.log(`note: ${intent.note}`);
  const rounds = [await measureRound(deployed, run, "locality check", outputs.zones)];
  if (run.drill) rounds.push(...(await drill(deployed, run, run.drill)));
  const ok = rounds.every((round) => round.verdict.ok);
  const broken = rounds.filter((round) => !round.verdict.ok).map((round) => round.label);
  return { ok, rounds, summary: ok ? "locality holds" : `broken in: ${broken.join("; ")}` };
}
