import { ProbeRecord, probeFailureKind } from "./probe";

/** The goal, against the blog's 2,540 requests at 99.76 %: no failed request among at least this many. */
export const GOAL = { minRequests: 2500, maxFailures: 0 } as const;

/** Availability figures for a set of probe requests. */
export interface RunStats {
  requests: number;
  failures: number;
  /** Successes over requests, 0..1; null when there were no requests. */
  successRate: number | null;
  /**
   * The longest stretch without a successful answer, in seconds: from the start of the first failed
   * request after a success to the start of the next successful one (or to the end of the last request
   * when no success followed). 0 when nothing failed.
   */
  longestNoSuccessSeconds: number;
  /** Start of the first and end of the last request, ms since the epoch. */
  firstRequestAt?: number;
  lastRequestAt?: number;
  /** Failures by kind (`timeout`, `connection-reset`, `http-503`, …). */
  failuresByKind: Record<string, number>;
}

/** One second of one series. */
export interface Bucket {
  /** Whole seconds since the origin. */
  second: number;
  requests: number;
  ok: number;
}

function byStart(records: readonly ProbeRecord[]): ProbeRecord[] {
  return [...records].sort((a, b) => a.start - b.start || a.seq - b.seq);
}

/** The longest stretch without a success, in seconds (see {@link RunStats.longestNoSuccessSeconds}). */
export function longestRunWithoutSuccess(records: readonly ProbeRecord[]): number {
  let longest = 0;
  let failingSince: number | undefined;
  let lastEnd = 0;
  for (const record of byStart(records)) {
    lastEnd = Math.max(lastEnd, record.end);
    if (record.ok) {
      if (failingSince !== undefined) longest = Math.max(longest, record.start - failingSince);
      failingSince = undefined;
    } else if (failingSince === undefined) {
      failingSince = record.start;
    }
  }
  if (failingSince !== undefined) longest = Math.max(longest, lastEnd - failingSince);
  return longest / 1000;
}

/** Requests, failures, success rate and the longest stretch without success. */
export function runStats(records: readonly ProbeRecord[]): RunStats {
  const failuresByKind: Record<string, number> = {};
  let failures = 0;
  for (const record of records) {
    if (record.ok) continue;
    failures += 1;
    const kind = probeFailureKind(record);
    failuresByKind[kind] = (failuresByKind[kind] ?? 0) + 1;
  }
  const starts = records.map((record) => record.start);
  const ends = records.map((record) => record.end);
  return {
    requests: records.length,
    failures,
    successRate: records.length === 0 ? null : (records.length - failures) / records.length,
    longestNoSuccessSeconds: longestRunWithoutSuccess(records),
    firstRequestAt: records.length ? Math.min(...starts) : undefined,
    lastRequestAt: records.length ? Math.max(...ends) : undefined,
    failuresByKind,
  };
}

/** Requests and successes per whole second since `origin` (ms), by request start; empty seconds included. */
export function perSecondBuckets(records: readonly ProbeRecord[], origin: number): Bucket[] {
  if (records.length === 0) return [];
  const counts = new Map<number, Bucket>();
  let last = 0;
  for (const record of records) {
    const second = Math.floor((record.start - origin) / 1000);
    if (second < 0) continue;
    last = Math.max(last, second);
    const bucket = counts.get(second) ?? { second, requests: 0, ok: 0 };
    bucket.requests += 1;
    bucket.ok += record.ok ? 1 : 0;
    counts.set(second, bucket);
  }
  return Array.from(
    { length: last + 1 },
    (_, second) => counts.get(second) ?? { second, requests: 0, ok: 0 },
  );
}

/** Per-zone and total figures for a switch. */
export interface SwitchStats {
  zones: (RunStats & { zone: string })[];
  total: RunStats;
}

/** Figures per zone (in the given zone order) and over all zones together. */
export function switchStats(zones: readonly string[], records: readonly ProbeRecord[]): SwitchStats {
  return {
    zones: zones.map((zone) => ({ zone, ...runStats(records.filter((record) => record.zone === zone)) })),
    total: runStats(records),
  };
}

/** Whether the goal holds: no failure among at least {@link GOAL.minRequests} requests. */
export function goalMet(total: RunStats): boolean {
  return total.failures <= GOAL.maxFailures && total.requests >= GOAL.minRequests;
}
