/** Whether the cluster can answer requests at all, and if not, why, in words for the user. */
export interface AnswerVerdict {
  canAnswer: boolean;
  /** One plain sentence when it cannot. */
  reason?: string;
  /** What each zone showed. */
  details: string[];
}

/** The cluster cannot serve traffic: carries the verdict that says why. */
export class CannotAnswerError extends Error {
  constructor(readonly verdict: AnswerVerdict) {
    super(verdict.reason ?? "the cluster cannot answer");
    this.name = "CannotAnswerError";
  }
}

/** Said after a verdict when the cluster's nodes are kwok's, which explains why nothing answers. */
export function fakeNodeHint(fake: readonly string[]): string {
  return fake.length
    ? ` Its nodes ${fake.join(", ")} are kwok fake nodes: pods there report Ready but run nothing.`
    : "";
}

/** One zone as a check saw it: why it cannot answer, or what it showed when it can. */
export type ZoneLook = { broken: string } | { fine: string };

/**
 * The verdict over every zone: the cluster cannot answer when any zone is broken, and `reason` says
 * so in one sentence naming those zones, with the kwok hint where the nodes are fake. Each zone's
 * finding becomes a detail line, prefixed with `who` it is.
 */
export function verdictOverZones<T extends { zone: string }>(
  evidence: readonly T[],
  who: (zone: T) => string,
  look: (zone: T) => ZoneLook,
  reason: (broken: string[]) => string,
  fake: readonly string[],
): AnswerVerdict {
  const details: string[] = [];
  const broken: string[] = [];
  for (const zone of evidence) {
    const seen = look(zone);
    if ("broken" in seen) broken.push(zone.zone);
    details.push(`${who(zone)}: ${"broken" in seen ? seen.broken : seen.fine}`);
  }
  return broken.length
    ? { canAnswer: false, reason: `${reason(broken)}${fakeNodeHint(fake)}`, details }
    : { canAnswer: true, details };
}
