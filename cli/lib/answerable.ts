import type { V1Status } from "@kubernetes/client-node";
import { CONNECTION_ERRORS, Outcome } from "./answers";
import { ProbeLog, isConnectionFailure } from "./probe";

/** Whether the cluster can answer requests at all, and if not, why, in words for the user. */
export interface AnswerVerdict {
  canAnswer: boolean;
  /** One plain sentence when it cannot. */
  reason?: string;
  /** What each zone showed. */
  details: string[];
}

/**
 * A readable message from whatever an exec or API call rejected with: client-node's exec rejects with
 * the WebSocket `ErrorEvent` (not an Error) when the upgrade fails, API calls with an `HttpError` whose
 * body is a Kubernetes Status.
 */
export function describeFailure(error: unknown): string {
  if (error && typeof error === "object") {
    const candidate = error as { message?: unknown; body?: unknown; statusCode?: unknown; error?: unknown };
    const body = candidate.body as { message?: unknown } | string | undefined;
    if (body && typeof body === "object" && typeof body.message === "string") {
      return `${typeof candidate.statusCode === "number" ? `HTTP ${candidate.statusCode}: ` : ""}${body.message}`;
    }
    if (typeof body === "string" && body.trim()) return body.trim();
    if (typeof candidate.message === "string" && candidate.message) return pulumiErrors(candidate.message);
    if (candidate.error instanceof Error) return candidate.error.message;
  }
  return String(error);
}

/**
 * The `error:` lines of a failed Pulumi CLI run, each once: the automation API's CommandError message
 * repeats the whole command output (stdout, stderr, and the error again). Other messages pass as they are.
 */
export function pulumiErrors(message: string): string {
  if (!/\n\s*stderr: /.test(message)) return message;
  const lines = [...message.matchAll(/^\s*error: (.+)$/gm)].map((match) => match[1].trim());
  return lines.length ? [...new Set(lines)].join("; ") : message;
}

/** One zone's exec attempt, as the check ran it. */
export interface ExecEvidence {
  zone: string;
  pod?: string;
  /** The exec could not start (the connection failed before the command ran). */
  startError?: string;
  /** The final status the API server sent on the exec's status channel. */
  status?: V1Status;
  /** The script printed its end marker. */
  complete: boolean;
  outcomes: Outcome[];
}

function exitCodeOf(status: V1Status): string | undefined {
  return status.details?.causes?.find((cause) => cause.reason === "ExitCode")?.message;
}

function fakeNodeHint(fake: readonly string[]): string {
  return fake.length
    ? ` Its nodes ${fake.join(", ")} are kwok fake nodes: pods there report Ready but run nothing.`
    : "";
}

/**
 * Decides from one round of execs whether the cluster can answer. It cannot when the command could not
 * run in a client pod (no kubelet behind the node, as on kwok), when a client's script did not run
 * through, or when every request everywhere failed before anything in the path answered. HTTP errors
 * from Envoy or productpage are answers: they are counted, not treated as a dead cluster.
 */
export function assessExecRound(
  evidence: readonly ExecEvidence[],
  fake: readonly string[] = [],
): AnswerVerdict {
  const details: string[] = [];
  const broken: string[] = [];
  for (const zone of evidence) {
    const who = `${zone.zone} (${zone.pod ?? "no client pod"})`;
    if (zone.startError !== undefined) {
      broken.push(zone.zone);
      details.push(`${who}: exec failed: ${zone.startError}`);
    } else if (zone.status && zone.status.status !== "Success" && zone.status.reason !== "NonZeroExitCode") {
      broken.push(zone.zone);
      details.push(`${who}: exec failed: ${zone.status.message ?? zone.status.reason ?? "unknown error"}`);
    } else if (zone.status?.reason === "NonZeroExitCode" && zone.outcomes.length === 0) {
      broken.push(zone.zone);
      details.push(
        `${who}: the check script exited with code ${exitCodeOf(zone.status) ?? "?"} before sending a request`,
      );
    } else if (!zone.complete && zone.outcomes.length === 0) {
      broken.push(zone.zone);
      details.push(`${who}: the exec ended without any output`);
    } else {
      const dead = zone.outcomes.filter(
        (outcome) => outcome.kind === "error" && CONNECTION_ERRORS.has(outcome.error),
      );
      details.push(`${who}: ${zone.outcomes.length} requests, ${dead.length} without any answer`);
    }
  }
  if (broken.length) {
    return {
      canAnswer: false,
      reason:
        `This cluster cannot answer: commands cannot run in the client pods of ${broken.join(", ")}, ` +
        `so no request could be sent.${fakeNodeHint(fake)}`,
      details,
    };
  }
  const outcomes = evidence.flatMap((zone) => zone.outcomes);
  const allDead =
    outcomes.length > 0 &&
    outcomes.every((outcome) => outcome.kind === "error" && CONNECTION_ERRORS.has(outcome.error));
  if (allDead) {
    return {
      canAnswer: false,
      reason:
        `This cluster cannot answer: all ${outcomes.length} requests from every zone failed before anything ` +
        `in the path answered (no proxy, no service).${fakeNodeHint(fake)}`,
      details,
    };
  }
  return { canAnswer: true, details };
}

/** One zone's probe pod before the switch starts. */
export interface ProbeEvidence {
  zone: string;
  pod: string;
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
  const details: string[] = [];
  const broken: string[] = [];
  for (const zone of evidence) {
    const who = `${zone.zone} (${zone.pod})`;
    if (zone.logError !== undefined) {
      broken.push(zone.zone);
      details.push(`${who}: its log cannot be read: ${zone.logError}`);
    } else if (zone.log?.notReady !== undefined && !zone.log.ready) {
      broken.push(zone.zone);
      details.push(
        `${who}: got no answer from productpage while warming up (last try: ${zone.log.notReady || "none"})`,
      );
    } else if (!zone.log) {
      broken.push(zone.zone);
      details.push(
        `${who}: never started (phase ${zone.phase ?? "unknown"}${zone.waiting ? `, ${zone.waiting}` : ""})`,
      );
    } else if (!zone.log.ready) {
      broken.push(zone.zone);
      details.push(
        `${who}: ${zone.phase === "Running" ? "runs" : `ended (${zone.phase ?? "unknown"})`} but wrote no log`,
      );
    } else if (zone.log.records.length > 0 && zone.log.records.every(isConnectionFailure)) {
      broken.push(zone.zone);
      details.push(`${who}: all ${zone.log.records.length} requests failed without an answer`);
    } else {
      const ok = zone.log.records.filter((record) => record.ok).length;
      details.push(`${who}: ready, ${ok} of ${zone.log.records.length} requests answered`);
    }
  }
  if (broken.length) {
    return {
      canAnswer: false,
      reason:
        `This cluster cannot answer: the traffic probes in ${broken.join(", ")} could not measure anything ` +
        `before the switch, so the switch was not started.${fakeNodeHint(fake)}`,
      details,
    };
  }
  return { canAnswer: true, details };
}

/** The cluster cannot serve traffic: carries the verdict that says why. */
export class CannotAnswerError extends Error {
  constructor(readonly verdict: AnswerVerdict) {
    super(verdict.reason ?? "the cluster cannot answer");
    this.name = "CannotAnswerError";
  }
}
