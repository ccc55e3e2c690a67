import { parseVerifyArgs } from "./lib/args";
import { CannotAnswerError, ExecEvidence, assessExecRound } from "./lib/answerable";
import { Outcome, Via, classifyAnswer, parseTranscript, verifyScript } from "./lib/answers";
import { EXIT, ExitCode, InterruptedError, UsageError } from "./lib/exit";
import { Check, onInterrupt, sleep, waitFor } from "./lib/interrupt";
import { effectiveIntent, judgeRound } from "./lib/locality";
import { VerifyRound, renderVerifyRound } from "./lib/report";
import { runCli } from "./lib/run";
import { Lab, connectLab } from "./lib/stack";
import { tallyZone } from "./lib/tally";
import { clientPodsByZone, fakeNodes, reviewsDeploymentsInZone, rolloutsPending } from "./lib/workloads";

/** Per-request time limit in the client pods, seconds: above productpage's two 3 s tries at reviews. */
const REQUEST_TIMEOUT_S = 8;
/** How long the mesh gets to learn of endpoints that appeared or went, before traffic is judged. */
const PROPAGATION_MS = 5000;
/** How long scaling down or up may take. */
const SCALE_TIMEOUT_MS = 5 * 60 * 1000;

/** What {@link runVerify} checks. */
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
  lab: Lab,
  run: VerifyRun,
  label: string,
  zones: readonly string[],
  drained?: string,
) {
  const { outputs, cluster } = lab;
  const clients = clientPodsByZone(await cluster.pods("app=client"), zones);
  const missing = zones.filter((zone) => !clients[zone]);
  const misnamed = zones.filter(
    (zone) => clients[zone] && !clients[zone].spec?.containers.some((c) => c.name === "client"),
  );
  if (misnamed.length) {
    // Exec into a container that does not exist fails like a dead cluster (HTTP 400 before any output).
    throw new Error(`the client pods of ${misnamed.join(", ")} have no container named \`client\``);
  }
  if (missing.length) {
    throw new Error(
      `no ready client pod (labels app=client, zone=<zone>) in ${missing.join(", ")} of namespace ${outputs.namespace}`,
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
  const intent = effectiveIntent(outputs.dataplaneMode, outputs.locality).intent;
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
async function drill(lab: Lab, run: VerifyRun, zone: string): Promise<VerifyRound[]> {
  const { outputs, cluster } = lab;
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
    .map((t) => `kubectl -n ${outputs.namespace} scale deployment/${t.name} --replicas=${t.replicas}`)
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
        const pods = await cluster.pods(`app=reviews,zone=${zone}`);
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
    const drained = await measureRound(lab, run, `drill: ${zone} without reviews`, [zone], zone);
    await restoreOnce();
    await sleep(PROPAGATION_MS, run.signal);
    const confirmed = await measureRound(lab, run, `drill: after restoring ${zone}`, outputs.zones);
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
export async function runVerify(lab: Lab, run: VerifyRun): Promise<VerifyReport> {
  const { outputs } = lab;
  const intent = effectiveIntent(outputs.dataplaneMode, outputs.locality);
  run.log(
    `Locality check: mode ${outputs.dataplaneMode}, locality ${outputs.locality}` +
      (outputs.localityMechanism ? ` (${outputs.localityMechanism})` : ""),
  );
  if (intent.note) run.log(`note: ${intent.note}`);
  const rounds = [await measureRound(lab, run, "locality check", outputs.zones)];
  if (run.drill) rounds.push(...(await drill(lab, run, run.drill)));
  const ok = rounds.every((round) => round.verdict.ok);
  const broken = rounds.filter((round) => !round.verdict.ok).map((round) => round.label);
  return { ok, rounds, summary: ok ? "locality holds" : `broken in: ${broken.join("; ")}` };
}

const HELP = `Usage: npm run verify -- --stack <name> [--requests 100] [--via reviews|productpage|both]
                         [--drill <zone>] [--cwd <project dir>]

From each zone's client pod, sends N requests to reviews (GET /reviews/0) and through productpage
(GET /api/v1/products/0/reviews), one exec per zone, and prints a table of who answered (reviews
version @ zone) or why not. Judged by the stack's locality intent:
  strict    any answer from another zone is a violation
  failover  an answer from another zone while the own zone has a ready endpoint is a violation
  off       reported only
Errors fail the check unless the intent explains them (strict with no own-zone endpoint).
Ambient mode cannot pin strictly, so there \`strict\` is judged as \`failover\`.

--drill <zone> scales that zone's reviews Deployment(s) to 0, waits until the pods are gone, sends
traffic from that zone (strict: errors expected, by design; failover: another zone expected), then
restores the replicas, waits until ready and checks every zone again. The replicas are restored also
on failure or Ctrl-C.

Options:
  --stack <name>      the deployed stack (required)
  --requests <n>      requests per zone and path (default 100)
  --via <path>        reviews, productpage or both (default both)
  --drill <zone>      run the drill on this zone
  --cwd <dir>         the Pulumi project directory; default: this repository
  -h, --help          this text

Exit codes:
  0    locality holds (and the drill went as the intent says)
  1    locality broken, requests failed, or the drill did not go as expected
  2    wrong arguments, or the stack lacks the outputs the check needs
  3    the cluster cannot answer (e.g. kwok fake nodes: exec fails or nothing answers); no numbers
  130  interrupted (replicas restored first)`;

async function main(argv: readonly string[]): Promise<ExitCode> {
  const parsed = parseVerifyArgs(argv);
  if (parsed.help) {
    console.log(HELP);
    return EXIT.ok;
  }
  const { stack, requests, vias, drill: drillZone, cwd } = parsed.options;
  const interrupt = onInterrupt();
  try {
    const lab = await connectLab({ workDir: cwd, stackName: stack });
    const report = await runVerify(lab, {
      requests,
      vias,
      drill: drillZone,
      signal: interrupt.signal,
      log: (line) => console.log(line),
      setCleanupHint: interrupt.setCleanupHint,
    });
    console.log(report.ok ? "OK: locality holds." : `FAILED: ${report.summary}`);
    return report.ok ? EXIT.ok : EXIT.failed;
  } finally {
    interrupt.dispose();
  }
}

if (require.main === module) runCli(main);
