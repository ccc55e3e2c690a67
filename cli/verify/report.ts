import { Align, renderTable } from "../shared/table";
import { HealthSnapshot } from "../shared/workloads";
import { RoundVerdict, verdictCell } from "./judge";
import { ZoneTally, answerColumns, errorColumns } from "./tally";

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
