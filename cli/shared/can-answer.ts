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
