/** How the test cluster tier runs a switch: `up` under a watcher and xDS readers, cancelled or killed where a step asks. */
import { execFile } from "child_process";
import { promisify } from "util";
import { Check, waitFor } from "../../cli/shared/interrupt";
import { ENGINE_PARALLEL, MODE_KEY } from "../../stacks/contract";
import { Observed, SwitchWatcher } from "./cluster";
import { followSwitch, inZoneGaps } from "./cluster-tier-mesh-checks";
import { cluster, NAMESPACE, tier, timed } from "./cluster-tier-setting";

/** Kills the Pulumi CLI running this stack's update and its provider plugins, as a dead laptop would. */
export async function killEngine(): Promise<void> {
  const pgrep = async (args: string[]) =>
    (await promisify(execFile)("pgrep", args).catch(() => ({ stdout: "" }))).stdout
      .split("\n")
      .filter(Boolean);
  for (const engine of await pgrep(["-f", `pulumi up .*--stack ${tier.test.name}( |$)`])) {
    const plugins = await pgrep(["-P", engine]);
    for (const pid of [engine, ...plugins]) process.kill(Number(pid), "SIGKILL");
  }
}

export async function switchTo(
  mode: "sidecar" | "ambient",
  watcher: SwitchWatcher,
): Promise<{ since: number; gaps: string[]; pushes: number }> {
  return switchThrough([{ mode, label: `switch to ${mode} (up)` }], watcher);
}

/** One `up` of a switch; with `cancelAt`, Ctrl-C once the watcher has seen that change. */
export interface SwitchRun {
  mode: "sidecar" | "ambient";
  label: string;
  cancelAt?: (o: Observed) => boolean;
  /** Or kill the engine outright (SIGKILL to the Pulumi CLI) once the watcher has seen that change. */
  killAt?: (o: Observed) => boolean;
  /** The step must fail on its own with a message containing this (a cause the test put in place). */
  failsWith?: string;
  /** Runs once this step's `up` has ended, before the next one. */
  after?: () => Promise<void>;
  /** The engine's `--parallel`; the tools' by default. */
  parallel?: number;
}

/**
 * Runs `up` once per step while the watcher and the xDS readers record everything. A step with
 * `cancelAt` is cancelled as a user's Ctrl-C does (the Automation API's abort sends the CLI SIGINT;
 * the engine finishes the steps in flight) as soon as its change is seen, and must end failed.
 */
export async function switchThrough(
  runs: SwitchRun[],
  watcher: SwitchWatcher,
): Promise<{ since: number; gaps: string[]; pushes: number; logs: string[]; replaced: string[] }> {
  await watcher.start();
  const followers = await followSwitch();
  // The initial list of each watch and each client's first push come before "since", which
  // separates the state before the switch from the switch.
  const deployments = (await cluster.deployments(NAMESPACE)).length;
  await waitFor(
    "the watches' initial lists and each client's first configuration",
    (): Promise<Check<true>> => {
      const listed = new Set(watcher.seen.filter((o) => o.kind === "Deployment").map((o) => o.name)).size;
      const unpushed = Object.entries(followers.sidecars).filter(([, f]) => f.snapshots().length === 0);
      return Promise.resolve(
        listed >= deployments && watcher.seen.some((o) => o.kind === "Namespace") && unpushed.length === 0
          ? { done: true, value: true }
          : {
              done: false,
              reason: `${listed} of ${deployments} Deployments listed, ${unpushed.length} clients unpushed`,
            },
      );
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  const since = watcher.latest();
  const logs: string[] = [];
  const replaced: string[] = [];
  try {
    for (const run of runs) {
      await tier.test.stack.setConfig(MODE_KEY, { value: run.mode });
      let log = "";
      const onOutput = (text: string) => (log += text);
      const parallel = run.parallel ?? ENGINE_PARALLEL;
      if (run.failsWith) {
        const message = await timed(run.label, () =>
          tier.test.stack.up({ onOutput, parallel }).then(
            () => "completed",
            (error: Error) => error.message,
          ),
        );
        expect([run.label, message]).toEqual([run.label, expect.stringContaining(run.failsWith)]);
      } else if (run.killAt) {
        const killAt = run.killAt;
        const started = watcher.latest();
        const outcome = await timed(run.label, async () => {
          const update = tier.test.stack.up({ onOutput, parallel }).then(
            () => "completed",
            (error: Error) => error.message,
          );
          await waitFor(
            `${run.label}: the change to kill the engine at`,
            (): Promise<Check<true>> =>
              Promise.resolve(
                Number.isFinite(watcher.first(killAt, started))
                  ? { done: true, value: true }
                  : { done: false, reason: "not seen yet" },
              ),
            { timeoutMs: 180_000, intervalMs: 100 },
          );
          await killEngine();
          return update;
        });
        expect([run.label, outcome]).toEqual([run.label, expect.stringContaining("SIGKILL")]);
      } else if (!run.cancelAt) {
        const result = await timed(run.label, () => tier.test.stack.up({ onOutput, parallel }));
        const replacements = result.summary.resourceChanges?.replace ?? 0;
        if (replacements > 0) replaced.push(`${run.label}: ${replacements} replaced`);
      } else {
        const cancelAt = run.cancelAt;
        const abort = new AbortController();
        const started = watcher.latest();
        const poll = setInterval(() => {
          if (Number.isFinite(watcher.first(cancelAt, started))) abort.abort();
        }, 100);
        try {
          const outcome = await timed(run.label, () =>
            tier.test.stack.up({ onOutput, parallel, signal: abort.signal }).then(
              () => "completed",
              (error: Error) => (abort.signal.aborted ? "failed" : `failed on its own: ${error.message}`),
            ),
          );
          expect([run.label, abort.signal.aborted, outcome]).toEqual([run.label, true, "failed"]);
        } finally {
          clearInterval(poll);
        }
      }
      logs.push(log);
      await run.after?.();
    }
    await new Promise((resolve) => setTimeout(resolve, 3000));
  } finally {
    watcher.stop();
    await Promise.all([...Object.values(followers.sidecars), followers.ztunnel].map((f) => f.stop()));
  }
  const pushes = [...Object.values(followers.sidecars), followers.ztunnel]
    .map((f) => f.snapshots().length)
    .reduce((a, b) => a + b, 0);
  console.log(
    `${runs.map((r) => r.label).join(", then ")}: the readers received ${pushes} configuration pushes from istiod`,
  );
  return { since, gaps: inZoneGaps(followers), pushes, logs, replaced };
}
