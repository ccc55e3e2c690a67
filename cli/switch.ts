import type { V1Pod } from "@kubernetes/client-node";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { previewSwitch } from "./preview-switch";
import { SwitchOptions, parseSwitchArgs } from "./lib/args";
import { CannotAnswerError, ProbeEvidence, assessProbes, describeFailure } from "./lib/answerable";
import { ALL_VIAS } from "./lib/answers";
import { renderSuccessRateSvg } from "./lib/chart";
import { EXIT, ExitCode, InterruptedError, UsageError } from "./lib/exit";
import { Check, Interrupt, onInterrupt, sleep, waitFor } from "./lib/interrupt";
import { LabCluster } from "./lib/kube";
import { MODE_KEY, renderPlan } from "./lib/plan";
import {
  PROBE_RUN_LABEL,
  PROBE_WARMUP_SECONDS,
  ProbeRecord,
  ProbeSpec,
  parseProbeLog,
  probePodManifest,
  probePodName,
} from "./lib/probe";
import { confirm } from "./lib/prompt";
import { SwitchTimeline, formatCount, renderSwitchTable, switchResult } from "./lib/report";
import { runCli } from "./lib/run";
import { Lab, connectLab, refreshLab } from "./lib/stack";
import { perSecondBuckets, switchStats } from "./lib/stats";
import { fakeNodes, rolloutsPending } from "./lib/workloads";
import { VerifyReport, runVerify } from "./verify";

/** A probe's hard upper bound on life, so a probe left behind by a killed run still stops by itself. */
const PROBE_MAX_SECONDS = 2 * 60 * 60;
/** A probe request unanswered after this many seconds counts as failed. */
const PROBE_TIMEOUT_S = 5;
/** Traffic measured after every probe is ready, before `up`, to check the path really answers. */
const BASELINE_MS = 5000;
/** A log that still cannot be read after this long will not become readable. */
const LOG_ERROR_GRACE_MS = 20_000;
/** Waiting reasons after which a probe pod will not start on its own. */
const STUCK_REASONS = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "CreateContainerConfigError",
]);
/** How long the rollout after `up` may take. */
const ROLLOUT_TIMEOUT_MS = 20 * 60 * 1000;
/** Requests per zone and path of the check after the switch. */
const VERIFY_REQUESTS = 100;

function waitingReason(pod: V1Pod | undefined): string | undefined {
  const waiting = pod?.status?.containerStatuses?.find((status) => status.name === "probe")?.state?.waiting;
  if (waiting?.reason) return `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}`;
  const unscheduled = pod?.status?.conditions?.find(
    (condition) => condition.type === "PodScheduled" && condition.status === "False",
  );
  return unscheduled ? `${unscheduled.reason ?? "unschedulable"}: ${unscheduled.message ?? ""}` : undefined;
}

/** Looks at every probe once: its pod's phase and, once it runs, its log. */
async function probeEvidence(
  cluster: LabCluster,
  specs: readonly ProbeSpec[],
  selector: string,
): Promise<ProbeEvidence[]> {
  const pods = await cluster.pods(selector);
  return Promise.all(
    specs.map(async (spec): Promise<ProbeEvidence> => {
      const name = probePodName(spec.runId, spec.zone);
      const pod = pods.find((candidate) => candidate.metadata?.name === name);
      const phase = pod?.status?.phase;
      const evidence: ProbeEvidence = { zone: spec.zone, pod: name, phase, waiting: waitingReason(pod) };
      if (phase === "Running" || phase === "Succeeded" || phase === "Failed") {
        try {
          evidence.log = parseProbeLog(spec.zone, await cluster.podLog(name, "probe"));
        } catch (error) {
          evidence.logError = describeFailure(error);
        }
      }
      return evidence;
    }),
  );
}

/**
 * The pre-flight check: waits until every probe got its first answer (or clearly never will), lets them
 * measure a few seconds, and throws {@link CannotAnswerError} unless every zone answers.
 */
async function preflight(
  lab: Lab,
  specs: readonly ProbeSpec[],
  selector: string,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<void> {
  // Nodes only explain a failure (kwok); a kubeconfig not allowed to list them must not stop the switch.
  const fake = fakeNodes(await lab.cluster.nodes().catch(() => []));
  const logErrorSince = new Map<string, number>();
  let latest: ProbeEvidence[] = [];
  const settled = (evidence: ProbeEvidence): boolean => {
    if (evidence.logError === undefined) logErrorSince.delete(evidence.zone);
    else if (!logErrorSince.has(evidence.zone)) logErrorSince.set(evidence.zone, Date.now());
    return (
      evidence.log?.ready === true ||
      evidence.log?.notReady !== undefined ||
      evidence.phase === "Failed" ||
      evidence.phase === "Succeeded" ||
      STUCK_REASONS.has((evidence.waiting ?? "").split(":")[0]) ||
      (evidence.logError !== undefined &&
        Date.now() - logErrorSince.get(evidence.zone)! >= LOG_ERROR_GRACE_MS)
    );
  };
  try {
    await waitFor(
      "every probe's first answer",
      async (): Promise<Check<true>> => {
        latest = await probeEvidence(lab.cluster, specs, selector);
        const open = latest.filter((evidence) => !settled(evidence)).map((evidence) => evidence.zone);
        return open.length
          ? { done: false, reason: `waiting for ${open.join(", ")}` }
          : { done: true, value: true };
      },
      { timeoutMs: (PROBE_WARMUP_SECONDS + 60) * 1000, signal, onProgress: (reason) => log(`  ${reason}`) },
    );
  } catch (error) {
    if (error instanceof InterruptedError) throw error;
    log(`  ${(error as Error).message}`);
  }
  let verdict = assessProbes(latest, fake);
  if (verdict.canAnswer) {
    await sleep(BASELINE_MS, signal);
    verdict = assessProbes(await probeEvidence(lab.cluster, specs, selector), fake);
  }
  if (!verdict.canAnswer) throw new CannotAnswerError(verdict);
  for (const detail of verdict.details) log(`  ${detail}`);
}

/** Deletes this run's probe pods and waits until they are gone. Never aborted: cleanup must finish. */
async function removeProbes(
  cluster: LabCluster,
  selector: string,
  log: (line: string) => void,
): Promise<void> {
  try {
    const names = await cluster.deletePods(selector);
    await waitFor(
      "the probe pods to be gone",
      async (): Promise<Check<true>> => {
        const left = await cluster.pods(selector);
        return left.length ? { done: false, reason: `${left.length} left` } : { done: true, value: true };
      },
      { timeoutMs: 90_000 },
    );
    log(`Removed the probe pods (${names.join(", ") || "none were left"}).`);
  } catch (error) {
    log(`Could not remove every probe pod: ${describeFailure(error)}`);
    log(`  remove them with: kubectl -n ${cluster.namespace} delete pod -l ${selector}`);
  }
}

/** Waits for every Deployment in the namespace to be rolled out; a timeout is reported, not thrown. */
async function waitForRollout(
  cluster: LabCluster,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<string | undefined> {
  try {
    await waitFor(
      "the rollout",
      async (): Promise<Check<true>> => {
        const pending = rolloutsPending(await cluster.deployments());
        return pending.length ? { done: false, reason: pending.join("; ") } : { done: true, value: true };
      },
      { timeoutMs: ROLLOUT_TIMEOUT_MS, signal, onProgress: (reason) => log(`  rolling out: ${reason}`) },
    );
    return undefined;
  } catch (error) {
    if (error instanceof InterruptedError) throw error;
    return (error as Error).message;
  }
}

/** What {@link measureSwitch} needs besides the lab. */
export interface MeasureOptions {
  /** Unique per run: part of the probe pods' names and their cleanup selector. */
  runId: string;
  /** Probe requests per second per zone. */
  rate: number;
  /** Seconds to keep probing after the rollout finished. */
  settleSeconds: number;
  /** The change to measure, e.g. setting the mode and running `up`. */
  apply: () => Promise<void>;
  signal: AbortSignal;
  log: (line: string) => void;
  /** Told how to remove the probes by hand while they exist. */
  setCleanupHint?: (hint: string | undefined) => void;
}

/** What the probes saw while the change was applied. */
export interface Measurement {
  timeline: SwitchTimeline;
  /** Every probe request, all zones. */
  records: ProbeRecord[];
  /** Each zone's raw probe log. */
  logs: Map<string, string>;
  /** Zones whose log could not be collected, with why. */
  missing: string[];
  /** Set when `apply` failed; the probes were still collected. */
  applyError?: string;
  /** Set when the rollout did not finish in time. */
  rolloutError?: string;
}

/**
 * Measures traffic while `apply` runs: starts a probe pod per zone, checks that every zone answers
 * (else throws {@link CannotAnswerError}), runs `apply`, keeps probing until every Deployment in the
 * namespace is rolled out plus the settle time, collects the probe logs and removes the probe pods,
 * also on failure or interrupt.
 */
export async function measureSwitch(lab: Lab, options: MeasureOptions): Promise<Measurement> {
  const { outputs, cluster } = lab;
  const { log, signal } = options;
  const selector = `${PROBE_RUN_LABEL}=${options.runId}`;
  const specs: ProbeSpec[] = outputs.zones.map((zone) => ({
    runId: options.runId,
    zone,
    namespace: outputs.namespace,
    image: outputs.clientImage,
    rate: options.rate,
    maxSeconds: PROBE_MAX_SECONDS,
    timeoutSeconds: PROBE_TIMEOUT_S,
  }));
  const logs = new Map<string, string>();
  const missing: string[] = [];
  let applyError: string | undefined;
  let rolloutError: string | undefined;
  options.setCleanupHint?.(`kubectl -n ${outputs.namespace} delete pod -l ${selector}`);
  try {
    log(
      `Starting a traffic probe in each zone (${options.rate} requests/s to productpage, pods labelled ${selector})...`,
    );
    for (const spec of specs) await cluster.createPod(probePodManifest(spec));
    await preflight(lab, specs, selector, signal, log);
    const probesReady = Date.now();
    log("Every zone answers.");
    const upStart = Date.now();
    try {
      await options.apply();
    } catch (error) {
      if (signal.aborted) throw new InterruptedError();
      applyError = describeFailure(error);
    }
    const upEnd = Date.now();
    let rolloutDone: number | undefined;
    if (!applyError) {
      log("Waiting for every Deployment to be rolled out...");
      rolloutError = await waitForRollout(cluster, signal, log);
      rolloutDone = rolloutError ? undefined : Date.now();
      log(
        rolloutError ? `rollout: ${rolloutError}` : `Rolled out. Probing ${options.settleSeconds} s more...`,
      );
      await sleep(options.settleSeconds * 1000, signal);
    }
    const probesStopped = Date.now();
    for (const spec of specs) {
      try {
        logs.set(spec.zone, await cluster.podLog(probePodName(spec.runId, spec.zone), "probe"));
      } catch (error) {
        missing.push(`${spec.zone}: ${describeFailure(error)}`);
      }
    }
    const records = outputs.zones.flatMap((zone) => parseProbeLog(zone, logs.get(zone) ?? "").records);
    if (records.length === 0) {
      throw new CannotAnswerError({
        canAnswer: false,
        reason: "No probe recorded a single request, although every zone answered before the change.",
        details: missing,
      });
    }
    return {
      timeline: { probesReady, upStart, upEnd, rolloutDone, probesStopped },
      records,
      logs,
      missing,
      applyError,
      rolloutError,
    };
  } finally {
    await removeProbes(cluster, selector, log);
    options.setCleanupHint?.(undefined);
  }
}

function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/:/g, "-");
}

async function runSwitch(options: SwitchOptions, interrupt: Interrupt): Promise<ExitCode> {
  const log = (line: string): void => console.log(line);
  const ref = { workDir: options.cwd, stackName: options.stack };
  let lab = await connectLab(ref);
  const { outputs } = lab;
  const from = outputs.dataplaneMode;
  if (from === options.to)
    throw new UsageError(`stack \`${options.stack}\` already runs ${options.to}; nothing to switch`);

  log(`Previewing stack \`${options.stack}\` with dataplaneMode ${options.to}...`);
  const plan = await previewSwitch({ ...ref, to: options.to });
  log(renderPlan(plan));
  log("");
  if (!options.yes) {
    if (!process.stdin.isTTY)
      throw new UsageError("there is no terminal to ask on; pass --yes to switch without asking");
    const question = `Switch stack \`${options.stack}\` from ${from} to ${options.to} now, probing ${outputs.zones.length} zones at ${options.rate} requests/s each?`;
    if (!(await confirm(question))) {
      log("Nothing changed.");
      return EXIT.usage;
    }
  }

  const started = new Date();
  const outDir = options.out ?? path.resolve("switch-results", stamp(started));
  const measured = await measureSwitch(lab, {
    runId: started.getTime().toString(36),
    rate: options.rate,
    settleSeconds: options.settle,
    signal: interrupt.signal,
    log,
    setCleanupHint: interrupt.setCleanupHint,
    apply: async () => {
      log(`Setting ${MODE_KEY}=${options.to} and running pulumi up...`);
      await lab.stack.setConfig(MODE_KEY, { value: options.to });
      await lab.stack.up({ onOutput: (text) => process.stdout.write(text), signal: interrupt.signal });
    },
  });
  const { timeline, logs, missing, records, applyError: upError, rolloutError } = measured;
  if (upError) {
    log(`pulumi up FAILED: ${upError}`);
    log(`The stack config now says ${options.to}; the cluster may be half switched.`);
  }
  const stats = switchStats(outputs.zones, records);
  log("");
  log(`Traffic during the switch ${from} → ${options.to} (stack ${options.stack}):`);
  const table = renderSwitchTable(stats);
  log(table);
  for (const line of missing) log(`MISSING probe results: ${line}`);

  let verify: VerifyReport | undefined;
  let verifyError: string | undefined;
  if (!upError) {
    log("");
    try {
      lab = await refreshLab(lab, options.stack);
      verify = await runVerify(lab, {
        requests: VERIFY_REQUESTS,
        vias: [...ALL_VIAS],
        signal: interrupt.signal,
        log,
      });
    } catch (error) {
      if (error instanceof InterruptedError) throw error;
      verifyError =
        error instanceof CannotAnswerError ? (error.verdict.reason ?? error.message) : describeFailure(error);
      log(`verify FAILED: ${verifyError}`);
    }
  }

  const result = switchResult({
    stack: options.stack,
    from,
    to: options.to,
    ratePerZone: options.rate,
    settleSeconds: options.settle,
    timeline,
    up: upError ? { result: "failed", error: upError } : { result: "succeeded" },
    stats,
    verify: verify
      ? { ok: verify.ok, summary: verify.summary }
      : { ok: false, summary: upError ? "not run: pulumi up failed" : `failed: ${verifyError ?? "unknown"}` },
  });
  const origin = timeline.probesReady;
  const svg = await renderSuccessRateSvg({
    title: `Success rate per second, ${from} → ${options.to} (stack ${options.stack}, ${options.rate} requests/s per zone)`,
    origin,
    series: [
      ...outputs.zones.map((zone) => ({
        name: zone,
        buckets: perSecondBuckets(
          records.filter((r) => r.zone === zone),
          origin,
        ),
      })),
      { name: "total", buckets: perSecondBuckets(records, origin) },
    ],
    markers: [
      { label: "up start", at: timeline.upStart },
      { label: "up end", at: timeline.upEnd },
      ...(timeline.rolloutDone ? [{ label: "rolled out", at: timeline.rolloutDone }] : []),
    ],
    upWindow: { start: timeline.upStart, end: timeline.upEnd },
  });
  const text = [
    renderPlan(plan),
    "",
    `Switch of stack ${options.stack}: ${from} → ${options.to}, ${options.rate} requests/s per zone, settle ${options.settle} s`,
    `pulumi up: ${result.up.result}${upError ? ` (${upError})` : ""}`,
    ...Object.entries(result.timeline).map(([moment, at]) => `  ${moment.padEnd(14)} ${at ?? "-"}`),
    "Request times come from the probe nodes' clocks, the moments above from this machine's.",
    "",
    table,
    ...missing.map((line) => `MISSING probe results: ${line}`),
    "",
    `verify after the switch: ${result.verify?.ok ? "locality holds" : (result.verify?.summary ?? "not run")}`,
    "",
  ].join("\n");
  await fs.mkdir(outDir, { recursive: true });
  await fs.writeFile(path.join(outDir, "results.json"), `${JSON.stringify(result, null, 2)}\n`);
  await fs.writeFile(path.join(outDir, "results.txt"), text);
  await fs.writeFile(path.join(outDir, "success-rate.svg"), svg);
  for (const [zone, probeLog] of logs) await fs.writeFile(path.join(outDir, `probe-${zone}.log`), probeLog);
  log("");
  log(`Results: ${outDir} (results.json, results.txt, success-rate.svg, probe logs)`);

  if (upError) return EXIT.upFailed;
  const failed = stats.total.failures > 0 || missing.length > 0 || rolloutError !== undefined || !verify?.ok;
  log(
    failed
      ? `FAILED: ${formatCount(stats.total.failures)} of ${formatCount(stats.total.requests)} requests failed` +
          `${missing.length ? "; some zones' results are missing" : ""}${rolloutError ? "; the rollout did not finish" : ""}` +
          `${verify?.ok ? "" : "; the locality check after the switch failed"}`
      : `OK: switched to ${options.to}; none of ${formatCount(stats.total.requests)} requests failed.`,
  );
  return failed ? EXIT.failed : EXIT.ok;
}

const HELP = `Usage: npm run switch -- --stack <name> --to ambient|sidecar [--yes] [--rate 20] [--settle 30]
                         [--out <dir>] [--cwd <project dir>]

Switches a deployed stack's dataplane mode in place and measures whether traffic was dropped:
  1. previews the stack with the target mode and prints the plan (replacements flagged);
  2. asks before applying (unless --yes; without a terminal and without --yes it refuses);
  3. starts a traffic probe pod per zone (in the Bookinfo namespace, in the mesh, pinned to the zone)
     sending --rate requests/s to productpage /api/v1/products/0/reviews, and checks that every zone
     answers before anything changes (otherwise: exit 3, nothing switched);
  4. sets istio-locality:dataplaneMode and runs pulumi up, streaming its output;
  5. keeps probing until every Deployment in the namespace is rolled out, plus --settle seconds;
  6. collects the probe logs, removes the probe pods (also on failure or Ctrl-C), and reports per zone
     and in total: requests, failures, success rate, longest stretch without a success;
  7. runs the locality check (npm run verify) on the switched stack.
The goal is 0 failed of at least 2,500 requests. Results go to --out (default
./switch-results/<timestamp>/): results.json, results.txt, success-rate.svg (per-second success rate
per zone and in total, with up's start and end marked) and the raw probe logs.

Options:
  --stack <name>   the deployed stack (required)
  --to <mode>      ambient or sidecar (required)
  -y, --yes        do not ask before applying
  --rate <n>       probe requests per second per zone (default 20)
  --settle <s>     seconds to keep probing after the rollout (default 30)
  --out <dir>      where to write the results
  --cwd <dir>      the Pulumi project directory; default: this repository
  -h, --help       this text

Exit codes:
  0    switched; no request failed and locality holds afterwards
  1    requests failed during the switch, results are missing, the rollout did not finish, or the
       locality check afterwards failed
  2    wrong arguments, the stack already runs the target mode, no terminal and no --yes, or declined
  3    the cluster cannot answer (e.g. kwok fake nodes): nothing was switched, no numbers reported
  4    pulumi up failed (the results up to then are written)
  130  interrupted (probe pods removed first)`;

async function main(argv: readonly string[]): Promise<ExitCode> {
  const parsed = parseSwitchArgs(argv);
  if (parsed.help) {
    console.log(HELP);
    return EXIT.ok;
  }
  const interrupt = onInterrupt();
  try {
    return await runSwitch(parsed.options, interrupt);
  } finally {
    interrupt.dispose();
  }
}

if (require.main === module) runCli(main);
