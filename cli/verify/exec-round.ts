import type { V1Status } from "@kubernetes/client-node";
import { AnswerVerdict, fakeNodeHint } from "../shared/can-answer";
import { CONNECTION_ERRORS, Outcome } from "../shared/answers";

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
