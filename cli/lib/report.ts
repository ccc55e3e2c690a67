import type { DataplaneMode } from "../../stacks/config";
import { HealthSnapshot, RoundVerdict, verdictCell } from "./locality";
import { GOAL, RunStats, SwitchStats, goalMet } from "./stats";
import { ZoneTally, answerColumns, errorColumns } from "./tally";

/** Column alignment for {@link renderTable}. */
export type Align = "left" | "right";

/** A plain text table: columns padded to their widest cell, two spaces apart, a rule under the header. */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) =>
        align[column] === "right" ? cell.padStart(widths[column]) : cell.padEnd(widths[column]),
      )
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

/** `2540` → `2,540`. */
export function formatCount(count: number): string {
  return count.toLocaleString("en-US");
}

/** `0.99763` → `99.76 %`; `—` when there is no rate. A rate below 1 never shows as 100 %. */
export function formatPercent(rate: number | null): string {
  if (rate === null) return "—";
  const text = (rate * 100).toFixed(2);
  return `${text === "100.00" && rate < 1 ? "99.99" : text} %`;
}

/** `3.0 s`. */
export function formatSeconds(seconds: number): string {
  return `${seconds.toFixed(1)} s`;
}

/** One round of the locality check: what was sent, what came back, and the judgement. */
export interface VerifyRound {
  /** E.g. `locality check`, `drill: zone-a drained`. */
  label: string;
  tallies: ZoneTally[];
  verdict: RoundVerdict;
  before: HealthSnapshot;
  after: HealthSnapshot;
}

/** The zone × answer table of one round, followed by its findings. */
export function renderVerifyRound(round: VerifyRound): string {
  const answers = answerColumns(round.tallies);
  const errors = errorColumns(round.tallies);
  const headers = ["client zone", "path", ...answers, ...errors, "verdict"];
  const rows = round.tallies.map((tally) => [
    tally.zone,
    tally.via,
    ...answers.map((key) => String(tally.answers[key] ?? 0)),
    ...errors.map((kind) => String(tally.errors[kind] ?? 0)),
    verdictCell(round.verdict.findings, tally.zone, tally.via),
  ]);
  const align: Align[] = [
    "left",
    "left",
    ...answers.map((): Align => "right"),
    ...errors.map((): Align => "right"),
    "left",
  ];
  const lines = [
    `${round.label} (judged as locality \`${round.verdict.intent}\`)`,
    renderTable(headers, rows, align),
  ];
  const health = Object.entries(round.before)
    .map(([zone, h]) => `${zone}: ${h.reviews} reviews, ${h.productpage} productpage`)
    .join("; ");
  lines.push(`ready endpoints before: ${health}`);
  for (const finding of round.verdict.findings) {
    const tag =
      finding.severity === "violation"
        ? "VIOLATION"
        : finding.severity === "failure"
          ? "FAILED"
          : finding.severity;
    lines.push(`  ${tag.padEnd(9)} ${finding.zone} ${finding.via}: ${finding.message}`);
  }
  lines.push(round.verdict.ok ? "result: locality holds" : "result: BROKEN");
  return lines.join("\n");
}

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
