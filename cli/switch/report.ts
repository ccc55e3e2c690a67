import type { DataplaneMode } from "../../stacks/contract";
import { formatCount, formatPercent, formatSeconds, renderTable } from "../shared/table";
import { GOAL, RunStats, SwitchStats, goalMet } from "./stats";

function statsRow(label: string, stats: RunStats): string[] {
  const kinds = Object.entries(stats.failuresByKind)
    .map(([kind, count]) => `${kind}: ${formatCount(count)}`)
    .join(", ");
  return [
    label,
    formatCount(stats.requests),
    formatCount(stats.failures),
    formatPercent(stats.successRate),
    formatSeconds(stats.longestNoSuccessSeconds),
    kinds || "-",
  ];
}

/** The goal line: whether no request failed among at least 2,500. */
export function goalLine(total: RunStats): string {
  const goal = `goal "${GOAL.maxFailures} failed of at least ${formatCount(GOAL.minRequests)}"`;
  if (goalMet(total)) return `${goal}: MET (${formatCount(total.requests)} requests, none failed)`;
  const why: string[] = [];
  if (total.failures > GOAL.maxFailures) why.push(`${formatCount(total.failures)} failed`);
  if (total.requests < GOAL.minRequests)
    why.push(`only ${formatCount(total.requests)} requests; raise --rate or --settle`);
  return `${goal}: NOT MET (${why.join("; ")})`;
}

/** The per-zone and total table of a switch, with the goal line. */
export function renderSwitchTable(stats: SwitchStats): string {
  const headers = [
    "zone",
    "requests",
    "failed",
    "success rate",
    "longest without success",
    "failures by kind",
  ];
  const rows = [...stats.zones.map((zone) => statsRow(zone.zone, zone)), statsRow("total", stats.total)];
  return [
    renderTable(headers, rows, ["left", "right", "right", "right", "right", "left"]),
    goalLine(stats.total),
  ].join("\n");
}

/** Moments of a switch, ms since the epoch on this machine's clock. */
export interface SwitchTimeline {
  probesReady: number;
  upStart: number;
  upEnd: number;
  rolloutDone?: number;
  probesStopped: number;
}

/** Everything a switch run produced, as written to `results.json`. */
export interface SwitchResult {
  /** Identifies this file's shape. */
  schema: "istio-locality/switch-result@1";
  stack: string;
  from: DataplaneMode;
  to: DataplaneMode;
  ratePerZone: number;
  settleSeconds: number;
  /** ISO times. */
  timeline: Record<keyof SwitchTimeline, string | null>;
  up: { result: "succeeded" | "failed"; error?: string };
  zones: (Omit<RunStats, "firstRequestAt" | "lastRequestAt"> & {
    zone: string;
    firstRequest: string | null;
    lastRequest: string | null;
  })[];
  total: Omit<RunStats, "firstRequestAt" | "lastRequestAt"> & {
    firstRequest: string | null;
    lastRequest: string | null;
  };
  goal: { minRequests: number; maxFailures: number; met: boolean };
  /** Whether the locality check after the switch held; null when it did not run. */
  verify: { ok: boolean; summary: string } | null;
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

function jsonStats({ firstRequestAt, lastRequestAt, ...rest }: RunStats) {
  return { ...rest, firstRequest: iso(firstRequestAt), lastRequest: iso(lastRequestAt) };
}

/** Builds the JSON result of a switch. */
export function switchResult(input: {
  stack: string;
  from: DataplaneMode;
  to: DataplaneMode;
  ratePerZone: number;
  settleSeconds: number;
  timeline: SwitchTimeline;
  up: SwitchResult["up"];
  stats: SwitchStats;
  verify: SwitchResult["verify"];
}): SwitchResult {
  const t = input.timeline;
  return {
    schema: "istio-locality/switch-result@1",
    stack: input.stack,
    from: input.from,
    to: input.to,
    ratePerZone: input.ratePerZone,
    settleSeconds: input.settleSeconds,
    timeline: {
      probesReady: iso(t.probesReady),
      upStart: iso(t.upStart),
      upEnd: iso(t.upEnd),
      rolloutDone: iso(t.rolloutDone),
      probesStopped: iso(t.probesStopped),
    },
    up: input.up,
    zones: input.stats.zones.map(({ zone, ...stats }) => ({ zone, ...jsonStats(stats) })),
    total: jsonStats(input.stats.total),
    goal: { minRequests: GOAL.minRequests, maxFailures: GOAL.maxFailures, met: goalMet(input.stats.total) },
    verify: input.verify,
  };
}
