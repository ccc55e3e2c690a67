import { CannotAnswerError } from "../shared/can-answer";
import { BookinfoClient } from "../shared/cluster-client";
import { InterruptedError, UpInterruptedError } from "../shared/exit";
import { describeFailure } from "../shared/failure";
import { Check, sleep, waitFor } from "../shared/interrupt";
import { DeployedStack } from "../shared/stack";
import { rolloutsPending } from "../shared/workloads";
import { preflight } from "./preflight";
import {
  PROBE_RUN_LABEL,
  ProbeRecord,
  ProbeSpec,
  parseProbeLog,
  probePodManifest,
  probePodName,
} from "./probe";
import { SwitchTimeline } from "./report";

/** A probe's hard upper bound on life, so a probe left behind by a killed run still stops by itself. */
const PROBE_MAX_SECONDS = 2 * 60 * 60;

/** A probe request unanswered after this many seconds counts as failed. */
const PROBE_TIMEOUT_S = 5;

/** How long the rollout after `up` may take. */
const ROLLOUT_TIMEOUT_MS = 20 * 60 * 1000;

/** Deletes this run's probe pods and waits until they are gone. Never aborted: cleanup must finish. */
async function removeProbes(
  cluster: BookinfoClient,
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
  cluster: BookinfoClient,
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
  /** Zones whose log had lines that could not be read (e.g. cut off mid-line), counted. */
  unreadable: string[];
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
export async function measureSwitch(deployed: DeployedStack, options: MeasureOptions): Promise<Measurement> {
  const { outputs, cluster } = deployed;
  const { log, signal } = options;
  const selector = `${PROBE_RUN_LABEL}=${options.runId}`;
  const specs: ProbeSpec[] = outputs.zones.map((zone) => ({
    runId: options.runId,
    zone,
    namespace: outputs.bookinfoNamespace,
    image: outputs.clientImage,
    rate: options.rate,
    maxSeconds: PROBE_MAX_SECONDS,
    timeoutSeconds: PROBE_TIMEOUT_S,
  }));
  const logs = new Map<string, string>();
  const missing: string[] = [];
  let applyError: string | undefined;
  let rolloutError: string | undefined;
  options.setCleanupHint?.(`kubectl -n ${outputs.bookinfoNamespace} delete pod -l ${selector}`);
  try {
    log(
      `Starting a traffic probe in each zone (${options.rate} requests/s to productpage, pods labelled ${selector})...`,
    );
    for (const spec of specs) await cluster.createPod(probePodManifest(spec));
    await preflight(cluster, specs, selector, signal, log);
    const probesReady = Date.now();
    log("Every zone answers.");
    const upStart = Date.now();
    try {
      await options.apply();
    } catch (error) {
      if (signal.aborted) throw new UpInterruptedError();
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
    const parsed = outputs.zones.map((zone) => parseProbeLog(zone, logs.get(zone) ?? ""));
    const records = parsed.flatMap((probe) => probe.records);
    const unreadable = parsed
      .filter((probe) => probe.malformed > 0)
      .map(
        (probe) => `${probe.zone}: ${probe.malformed} probe line(s) could not be read and are not counted`,
      );
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
      unreadable,
      applyError,
      rolloutError,
    };
  } finally {
    await removeProbes(cluster, selector, log);
    options.setCleanupHint?.(undefined);
  }
}
