import type { V1Pod } from "@kubernetes/client-node";
import { AnswerVerdict, CannotAnswerError, verdictOverZones, ZoneLook } from "../shared/can-answer";
import { BookinfoClient } from "../shared/cluster-client";
import { InterruptedError } from "../shared/exit";
import { describeFailure } from "../shared/failure";
import { Check, sleep, waitFor } from "../shared/interrupt";
import { fakeNodes } from "../shared/workloads";
import { containerWaiting } from "../../readers/pods";
import {
  PROBE_WARMUP_SECONDS,
  ProbeLog,
  ProbeSpec,
  isConnectionFailure,
  parseProbeLog,
  probePodName,
} from "./probe";

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

function waitingReason(pod: V1Pod | undefined): string | undefined {
  const waiting = containerWaiting(pod, "probe");
  if (waiting) return waiting;
  const unscheduled = pod?.status?.conditions?.find(
    (condition) => condition.type === "PodScheduled" && condition.status === "False",
  );
  return unscheduled ? `${unscheduled.reason ?? "unschedulable"}: ${unscheduled.message ?? ""}` : undefined;
}

/** Looks at every probe once: its pod's phase and, once it runs, its log. */
async function probeEvidence(
  cluster: BookinfoClient,
  specs: readonly ProbeSpec[],
  selector: string,
): Promise<ProbeEvidence[]> {
  const pods = await cluster.pods(selector);
  return Promise.all(
    specs.map(async (spec): Promise<ProbeEvidence> => {
      const name = probePodName(spec.runId, spec.zone);
      const pod = pods.find((candidate) => candidate.metadata?.name === name);
      const phase = pod?.status?.phase;
      const evidence: ProbeEvidence = {
        zone: spec.zone,
        pod: name,
        node: pod?.spec?.nodeName,
        phase,
        waiting: waitingReason(pod),
      };
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
export async function preflight(
  cluster: BookinfoClient,
  specs: readonly ProbeSpec[],
  selector: string,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<void> {
  // Nodes only explain a failure (kwok); a kubeconfig not allowed to list them must not stop the switch.
  const fake = fakeNodes(await cluster.nodes().catch(() => []));
  const logErrorSince = new Map<string, number>();
  let latest: ProbeEvidence[] = [];
  const settled = (evidence: ProbeEvidence): boolean => {
    if (evidence.logError === undefined) logErrorSince.delete(evidence.zone);
    else if (!logErrorSince.has(evidence.zone)) logErrorSince.set(evidence.zone, Date.now());
    const logErrorFor = Date.now() - (logErrorSince.get(evidence.zone) ?? Date.now());
    return probeSettled(evidence, logErrorFor, fake);
  };
  try {
    await waitFor(
      "every probe's first answer",
      async (): Promise<Check<true>> => {
        latest = await probeEvidence(cluster, specs, selector);
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
    verdict = assessProbes(await probeEvidence(cluster, specs, selector), fake);
  }
  if (!verdict.canAnswer) throw new CannotAnswerError(verdict);
  for (const detail of verdict.details) log(`  ${detail}`);
}

/**
 * Whether a probe's state is final for the pre-flight check: it got its first answer or gave up,
 * ended, will never start, or its log will never be read (unreadable for {@link LOG_ERROR_GRACE_MS},
 * or at once on a kwok node, which has no kubelet to serve it).
 */
export function probeSettled(
  evidence: ProbeEvidence,
  logErrorForMs: number,
  fake: readonly string[],
): boolean {
  return (
    evidence.log?.ready === true ||
    evidence.log?.notReady !== undefined ||
    evidence.phase === "Failed" ||
    evidence.phase === "Succeeded" ||
    STUCK_REASONS.has((evidence.waiting ?? "").split(":")[0]) ||
    (evidence.logError !== undefined &&
      (logErrorForMs >= LOG_ERROR_GRACE_MS || (evidence.node !== undefined && fake.includes(evidence.node))))
  );
}

/** One zone's probe pod before the switch starts. */
export interface ProbeEvidence {
  zone: string;
  pod: string;
  /** The node the pod was scheduled on. */
  node?: string;
  /** The pod's phase, and why it waits when it is not running. */
  phase?: string;
  waiting?: string;
  /** Reading the log failed. */
  logError?: string;
  /** The parsed log, when it could be read. */
  log?: ProbeLog;
}

/**
 * The pre-flight check of a switch: every zone's probe must have started, logged, got its first answer
 * and be answering, before `up` runs. Otherwise the cluster cannot answer and no numbers are reported.
 */
export function assessProbes(
  evidence: readonly ProbeEvidence[],
  fake: readonly string[] = [],
): AnswerVerdict {
  return verdictOverZones(
    evidence,
    (zone) => `${zone.zone} (${zone.pod})`,
    (zone): ZoneLook => {
      if (zone.logError !== undefined) return { broken: `its log cannot be read: ${zone.logError}` };
      if (zone.log?.notReady !== undefined && !zone.log.ready) {
        return {
          broken: `got no answer from productpage while warming up (last try: ${zone.log.notReady || "none"})`,
        };
      }
      if (!zone.log) {
        return {
          broken: `never started (phase ${zone.phase ?? "unknown"}${zone.waiting ? `, ${zone.waiting}` : ""})`,
        };
      }
      if (!zone.log.ready) {
        return {
          broken: `${zone.phase === "Running" ? "runs" : `ended (${zone.phase ?? "unknown"})`} but wrote no log`,
        };
      }
      const records = zone.log.records;
      if (records.length > 0 && records.every(isConnectionFailure)) {
        return { broken: `all ${records.length} requests failed without an answer` };
      }
      return {
        fine: `ready, ${records.filter((record) => record.ok).length} of ${records.length} requests answered`,
      };
    },
    (broken) =>
      `This cluster cannot answer: the traffic probes in ${broken.join(", ")} could not measure anything ` +
      "before the switch, so the switch was not started.",
    fake,
  );
}
