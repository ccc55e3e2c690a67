import * as fs from "node:fs/promises";
import * as path from "node:path";
import { DataplaneMode, ENGINE_PARALLEL, MODE_KEY } from "../../stacks/contract";
import { SwitchPlan, renderPlan } from "../preview-switch/plan";
import { previewSwitch } from "../preview-switch/preview";
import { ALL_VIAS } from "../shared/answers";
import { CannotAnswerError } from "../shared/can-answer";
import { EXIT, ExitCode, InterruptedError, UpInterruptedError, UsageError } from "../shared/exit";
import { describeFailure } from "../shared/failure";
import { Interrupt } from "../shared/interrupt";
import { confirm } from "../shared/prompt";
import { DeployedStack, deployedStack, readStackState, refreshOutputs, StackState } from "../shared/stack";
import { formatCount } from "../shared/table";
import { VerifyReport, checkLocality } from "../verify/check";
import { renderSuccessRateSvg } from "./chart";
import { Measurement, measureSwitch } from "./measure";
import { SwitchOptions } from "./options";
import { renderSwitchTable, switchResult } from "./report";
import { stoppedSwitchAdvice, switchStart, UP_INTERRUPTED } from "./start";
import { SwitchStats, perSecondBuckets, switchStats } from "./stats";

/** Requests per zone and path of the check after the switch. */
const VERIFY_REQUESTS = 100;

type Log = (line: string) => void;

/**
 * Step 1: the deployed stack, read once, and the mode its cluster runs, which must be one whole mode
 * other than the target, with no operation of an interrupted engine left pending (see {@link switchStart}).
 */
async function connect(
  options: SwitchOptions,
): Promise<{ state: StackState; deployed: DeployedStack; from: DataplaneMode }> {
  const state = await readStackState({ workDir: options.cwd, stackName: options.stack });
  const deployed = deployedStack(state.stack, state.outputs, options.stack);
  const from = switchStart({
    stack: options.stack,
    to: options.to,
    recorded: deployed.outputs.dataplaneMode,
    live: state.live,
    pendingOperations: state.pending,
  });
  return { state, deployed, from };
}

/** Step 2: the preview of the switch, printed. */
async function planSwitch(options: SwitchOptions, state: StackState, log: Log): Promise<SwitchPlan> {
  log(`Previewing stack \`${options.stack}\` with dataplaneMode ${options.to}...`);
  const plan = await previewSwitch({ workDir: options.cwd, stackName: options.stack, to: options.to }, state);
  log(renderPlan(plan));
  log("");
  return plan;
}

/** Step 3: the user's yes, unless `--yes` gave it; false when declined. */
async function confirmSwitch(options: SwitchOptions, from: DataplaneMode, zones: number): Promise<boolean> {
  if (options.yes) return true;
  if (!process.stdin.isTTY) {
    throw new UsageError("there is no terminal to ask on; pass --yes to switch without asking");
  }
  return confirm(
    `Switch stack \`${options.stack}\` from ${from} to ${options.to} now, probing ${zones} zones at ${options.rate} requests/s each?`,
  );
}

/** Step 4: the mode set and `pulumi up` run while every zone's probe measures. */
function applyUnderProbes(
  deployed: DeployedStack,
  options: SwitchOptions,
  started: Date,
  interrupt: Interrupt,
  log: Log,
): Promise<Measurement> {
  return measureSwitch(deployed, {
    runId: started.getTime().toString(36),
    rate: options.rate,
    settleSeconds: options.settle,
    signal: interrupt.signal,
    log,
    setCleanupHint: interrupt.setCleanupHint,
    apply: async () => {
      log(`Setting ${MODE_KEY}=${options.to} and running pulumi up...`);
      await deployed.stack.setConfig(MODE_KEY, { value: options.to });
      await deployed.stack.up({
        onOutput: (text) => process.stdout.write(text),
        signal: interrupt.signal,
        parallel: ENGINE_PARALLEL,
      });
    },
  });
}

/** Step 5: the locality check on the switched stack; its failure is a result, not a crash. */
async function verifyAfter(
  deployed: DeployedStack,
  options: SwitchOptions,
  interrupt: Interrupt,
  log: Log,
): Promise<{ report?: VerifyReport; error?: string }> {
  log("");
  try {
    const switched = await refreshOutputs(deployed, options.stack);
    return {
      report: await checkLocality(switched, {
        requests: VERIFY_REQUESTS,
        vias: [...ALL_VIAS],
        signal: interrupt.signal,
        log,
      }),
    };
  } catch (error) {
    if (error instanceof InterruptedError) throw error;
    const message =
      error instanceof CannotAnswerError ? (error.verdict.reason ?? error.message) : describeFailure(error);
    log(`verify FAILED: ${message}`);
    return { error: message };
  }
}

function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/:/g, "-");
}

/** Step 6: results.json, results.txt, the chart and the raw probe logs, in `--out`. */
async function writeResults(input: {
  options: SwitchOptions;
  from: DataplaneMode;
  started: Date;
  plan: SwitchPlan;
  zones: string[];
  measured: Measurement;
  stats: SwitchStats;
  table: string;
  verify: { report?: VerifyReport; error?: string };
  log: Log;
}): Promise<void> {
  const { options, from, measured, stats, verify } = input;
  const { timeline, records, applyError } = measured;
  const outDir = options.out ?? path.resolve("switch-results", stamp(input.started));
  const result = switchResult({
    stack: options.stack,
    from,
    to: options.to,
    ratePerZone: options.rate,
    settleSeconds: options.settle,
    timeline,
    up: applyError ? { result: "failed", error: applyError } : { result: "succeeded" },
    stats,
    verify: verify.report
      ? { ok: verify.report.ok, summary: verify.report.summary }
      : {
          ok: false,
          summary: applyError ? "not run: pulumi up failed" : `failed: ${verify.error ?? "unknown"}`,
        },
  });
  const origin = timeline.probesReady;
  const svg = await renderSuccessRateSvg({
    title: `Success rate per second, ${from} → ${options.to} (stack ${options.stack}, ${options.rate} requests/s per zone)`,
    origin,
    series: [
      ...input.zones.map((zone) => ({
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
    renderPlan(input.plan),
    "",
    `Switch of stack ${options.stack}: ${from} → ${options.to}, ${options.rate} requests/s per zone, settle ${options.settle} s`,
    `pulumi up: ${result.up.result}${applyError ? ` (${applyError})` : ""}`,
    ...Object.entries(result.timeline).map(([moment, at]) => `  ${moment.padEnd(14)} ${at ?? "-"}`),
    "Request times come from the probe nodes' clocks, the moments above from this machine's.",
    "",
    input.table,
    ...probeNotes(measured),
    "",
    `verify after the switch: ${result.verify?.ok ? "locality holds" : (result.verify?.summary ?? "not run")}`,
    "",
  ].join("\n");
  await fs.mkdir(outDir, { recursive: true });
  await fs.writeFile(path.join(outDir, "results.json"), `${JSON.stringify(result, null, 2)}\n`);
  await fs.writeFile(path.join(outDir, "results.txt"), text);
  await fs.writeFile(path.join(outDir, "success-rate.svg"), svg);
  for (const [zone, probeLog] of measured.logs) {
    await fs.writeFile(path.join(outDir, `probe-${zone}.log`), probeLog);
  }
  input.log("");
  input.log(`Results: ${outDir} (results.json, results.txt, success-rate.svg, probe logs)`);
}

/** What the probes could not tell: missing logs and unreadable lines. */
function probeNotes(measured: Measurement): string[] {
  return [
    ...measured.missing.map((line) => `MISSING probe results: ${line}`),
    ...measured.unreadable.map((line) => `UNREADABLE probe lines: ${line}`),
  ];
}

/** Step 7: the exit code, and the one line that says it. */
function verdict(
  options: SwitchOptions,
  measured: Measurement,
  stats: SwitchStats,
  verify: { report?: VerifyReport },
  log: Log,
): ExitCode {
  if (measured.applyError) return EXIT.upFailed;
  const { missing, rolloutError } = measured;
  const failed =
    stats.total.failures > 0 || missing.length > 0 || rolloutError !== undefined || !verify.report?.ok;
  log(
    failed
      ? `FAILED: ${formatCount(stats.total.failures)} of ${formatCount(stats.total.requests)} requests failed` +
          `${missing.length ? "; some zones' results are missing" : ""}${rolloutError ? "; the rollout did not finish" : ""}` +
          `${verify.report?.ok ? "" : "; the locality check after the switch failed"}`
      : `OK: switched to ${options.to}; none of ${formatCount(stats.total.requests)} requests failed.`,
  );
  return failed ? EXIT.failed : EXIT.ok;
}

/** A switch, step by step: see `npm run switch -- --help`. */
export async function runSwitch(options: SwitchOptions, interrupt: Interrupt): Promise<ExitCode> {
  const log: Log = (line) => console.log(line);
  const { state, deployed, from } = await connect(options);
  const zones = deployed.outputs.zones;
  const plan = await planSwitch(options, state, log);
  if (!(await confirmSwitch(options, from, zones.length))) {
    log("Nothing changed.");
    return EXIT.usage;
  }

  const started = new Date();
  // A stopped up leaves the cluster between modes: say what it runs and how to finish or go back.
  const advise = async (why: string) => {
    log(why);
    const live = await deployed.cluster.mesh().catch(() => undefined);
    for (const line of stoppedSwitchAdvice(options.stack, from, options.to, live)) log(line);
  };
  const measured = await applyUnderProbes(deployed, options, started, interrupt, log).catch(
    async (error: unknown) => {
      if (error instanceof UpInterruptedError) await advise(UP_INTERRUPTED);
      throw error;
    },
  );
  if (measured.applyError) await advise(`pulumi up FAILED: ${measured.applyError}`);
  const stats = switchStats(zones, measured.records);
  const table = renderSwitchTable(stats);
  log("");
  log(`Traffic during the switch ${from} → ${options.to} (stack ${options.stack}):`);
  log(table);
  for (const line of probeNotes(measured)) log(line);

  const verify = measured.applyError ? {} : await verifyAfter(deployed, options, interrupt, log);
  await writeResults({ options, from, started, plan, zones, measured, stats, table, verify, log });
  return verdict(options, measured, stats, verify, log);
}
