import type { V1Status } from "@kubernetes/client-node";
import { AnswerVerdict, fakeNodeHint, verdictOverZones, ZoneLook } from "../shared/can-answer";
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
  const verdict = verdictOverZones(
    evidence,
    (zone) => `${zone.zone} (${zone.pod ?? "no client pod"})`,
    (zone): ZoneLook => {
      if (zone.startError !== undefined) return { broken: `exec failed: ${zone.startError}` };
      if (zone.status && zone.status.status !== "Success" && zone.status.reason !== "NonZeroExitCode") {
        return { broken: `exec failed: ${zone.status.message ?? zone.status.reason ?? "unknown error"}` };
      }
      if (zone.status?.reason === "NonZeroExitCode" && zone.outcomes.length === 0) {
        return {
          broken: `the check script exited with code ${exitCodeOf(zone.status) ?? "?"} before sending a request`,
        };
      }
      if (!zone.complete && zone.outcomes.length === 0)
        return { broken: "the exec ended without any output" };
      const dead = zone.outcomes.filter(isDead);
      return { fine: `${zone.outcomes.length} requests, ${dead.length} without any answer` };
    },
    (broken) =>
      `This cluster cannot answer: commands cannot run in the client pods of ${broken.join(", ")}, ` +
      "so no request could be sent.",
    fake,
  );
  if (!verdict.canAnswer) return verdict;
  const outcomes = evidence.flatMap((zone) => zone.outcomes);
  if (outcomes.length > 0 && outcomes.every(isDead)) {
    return {
      canAnswer: false,
      reason:
        `This cluster cannot answer: all ${outcomes.length} requests from every zone failed before anything ` +
        `in the path answered (no proxy, no service).${fakeNodeHint(fake)}`,
      details: verdict.details,
    };
  }
  return verdict;
}

/** A request that nothing in the path answered. */
function isDead(outcome: Outcome): boolean {
  return outcome.kind === "error" && CONNECTION_ERRORS.has(outcome.error);
}
