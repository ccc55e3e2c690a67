import { ErrorKind, Outcome, Via } from "../shared/answers";

/** The answers one zone's client got on one path, counted. */
export interface ZoneTally {
  /** The client's zone. */
  zone: string;
  via: Via;
  /** Requests sent. */
  total: number;
  /** Answers by `version@zone` (e.g. `v1@zone-a`). */
  answers: Record<string, number>;
  /** Failed requests by kind. */
  errors: Partial<Record<ErrorKind, number>>;
  /** Answers from the client's own zone. */
  ownZone: number;
  /** Answers from another zone. */
  crossZone: number;
  /** Answers whose zone could not be told. */
  unknownZone: number;
  /** Failed requests. */
  failed: number;
  /** v2/v3 answers that could not reach ratings (still answers: reviews itself replied). */
  ratingsUnavailable: number;
}

/** The column key of an answer: the answering version and its zone. */
export function answerKey(version: string, zone: string): string {
  return `${version}@${zone}`;
}

/** Counts one zone's outcomes on one path. */
export function tallyZone(zone: string, via: Via, outcomes: readonly Outcome[]): ZoneTally {
  const tally: ZoneTally = {
    zone,
    via,
    total: outcomes.length,
    answers: {},
    errors: {},
    ownZone: 0,
    crossZone: 0,
    unknownZone: 0,
    failed: 0,
    ratingsUnavailable: 0,
  };
  for (const outcome of outcomes) {
    if (outcome.kind === "error") {
      tally.failed += 1;
      tally.errors[outcome.error] = (tally.errors[outcome.error] ?? 0) + 1;
      continue;
    }
    const key = answerKey(outcome.version, outcome.zone);
    tally.answers[key] = (tally.answers[key] ?? 0) + 1;
    if (outcome.zone === "unknown") tally.unknownZone += 1;
    else if (outcome.zone === zone) tally.ownZone += 1;
    else tally.crossZone += 1;
    if (outcome.ratings === "unavailable") tally.ratingsUnavailable += 1;
  }
  return tally;
}

/** Every answer column seen across tallies, ordered by zone then version, for a stable table. */
export function answerColumns(tallies: readonly ZoneTally[]): string[] {
  const keys = new Set(tallies.flatMap((tally) => Object.keys(tally.answers)));
  return [...keys].sort((a, b) => {
    const [va, za] = a.split("@");
    const [vb, zb] = b.split("@");
    return za === zb ? va.localeCompare(vb) : za.localeCompare(zb);
  });
}

/** Every error kind seen across tallies, sorted. */
export function errorColumns(tallies: readonly ZoneTally[]): ErrorKind[] {
  const kinds = new Set(tallies.flatMap((tally) => Object.keys(tally.errors) as ErrorKind[]));
  return [...kinds].sort();
}
