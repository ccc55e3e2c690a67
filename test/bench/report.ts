import * as vega from "vega";
import { compile, TopLevelSpec } from "vega-lite";
import { BENCH_STEPS, Growth, GROWTH_GOAL, Spread, StepSummary } from "./stats";

const seconds = (s: Spread) => `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;
const mib = (s: Spread) => s.max.toFixed(0);

/**
 * The table docs/benchmark.md shows, per step and size: median (min–max) seconds, the stack's resources, the
 * engine's widest moment and slowest operation, memory peaks (the largest of the runs) and istiod's pushes.
 */
export function benchTable(summaries: readonly StepSummary[]): string {
  const rows = summaries.map((s) => {
    const convergence = !s.istiod?.convergenceMeanMs
      ? "none timed"
      : `${s.istiod.convergenceMeanMs.median.toFixed(1)} / ${s.istiod.convergenceSlowestMs === null ? "> 30000" : `≤ ${s.istiod.convergenceSlowestMs}`}`;
    const istiod = s.istiod
      ? `${s.istiod.pushes.median.toFixed(0)} / ${s.istiod.debounceMeanMs.median.toFixed(0)} / ${convergence}`
      : "";
    return `| ${s.zones} | ${s.replicas} | ${s.step} | ${seconds(s.seconds)} | ${s.resources} | ${s.machineBusyPercent ? s.machineBusyPercent.median.toFixed(0) : ""} | ${s.widest} | ${s.slowest ? `${s.slowest.resource} ${s.slowest.seconds.toFixed(1)}` : ""} | ${mib(s.engineMiB)} | ${mib(s.providersMiB)} | ${mib(s.programMiB)} | ${istiod} |`;
  });
  return [
    "| zones | replicas | step | seconds, median (min–max) | resources | machine CPU busy % | most in flight | slowest operation, s | engine MiB | providers MiB | program MiB | istiod pushes / debounce ms / convergence ms mean / slowest |",
    "| ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |",
    ...rows,
  ].join("\n");
}

/** Median seconds per step (rows) and size (columns: zones × replicas per zone), the table docs/benchmark.md shows. */
export function benchMatrix(summaries: readonly StepSummary[]): string {
  const sizes = [...new Map(summaries.map((s) => [`${s.zones}×${s.replicas}`, s])).values()].sort(
    (a, b) => a.replicas - b.replicas || a.zones - b.zones,
  );
  const cell = (step: string, size: StepSummary) =>
    summaries
      .find((s) => s.step === step && s.zones === size.zones && s.replicas === size.replicas)
      ?.seconds.median.toFixed(1) ?? "";
  return [
    `| step | ${sizes.map((s) => `${s.zones} zones × ${s.replicas}`).join(" | ")} |`,
    `| --- | ${sizes.map(() => "---:").join(" | ")} |`,
    ...BENCH_STEPS.filter((step) => summaries.some((s) => s.step === step)).map(
      (step) => `| ${step} | ${sizes.map((size) => cell(step, size)).join(" | ")} |`,
    ),
    `| resources after up | ${sizes.map((size) => summaries.find((s) => s.step === "up" && s.zones === size.zones && s.replicas === size.replicas)?.resources ?? "").join(" | ")} |`,
  ].join("\n");
}

/** The lines printed last: each step's time at the largest size over its time at the smallest. */
export function growthLines(growth: readonly Growth[]): string[] {
  return growth.map(
    (g) =>
      `${g.step}, ${g.replicas} per zone: ${g.toZones} zones ÷ ${g.fromZones} zones = ${g.ratio.toFixed(2)}× ` +
      `(resources ${g.resourcesRatio.toFixed(2)}×; goal ≤ ${GROWTH_GOAL}×: ${g.ratio <= GROWTH_GOAL ? "met" : "missed"})`,
  );
}

/** Median seconds against zones, one line per step with its min–max band, one panel per replica count. */
export function benchChartSpec(summaries: readonly StepSummary[], title: string): TopLevelSpec {
  const values = summaries.map((s) => ({
    zones: s.zones,
    replicas: `${s.replicas} per zone`,
    step: s.step,
    median: s.seconds.median,
    min: s.seconds.min,
    max: s.seconds.max,
  }));
  const x = {
    field: "zones",
    type: "quantitative" as const,
    title: "zones (one node each)",
    scale: { zero: false },
  };
  const colour = {
    field: "step",
    type: "nominal" as const,
    title: null,
    scale: { domain: [...BENCH_STEPS] },
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title,
    data: { values },
    facet: { column: { field: "replicas", type: "nominal", title: null } },
    spec: {
      width: 380,
      height: 280,
      layer: [
        {
          mark: { type: "errorband", opacity: 0.15 },
          encoding: {
            x,
            y: { field: "min", type: "quantitative", title: "seconds" },
            y2: { field: "max" },
            color: colour,
          },
        },
        {
          mark: { type: "line", point: true },
          encoding: {
            x,
            y: { field: "median", type: "quantitative", title: "seconds (median; band: min–max)" },
            color: colour,
            tooltip: [
              { field: "step" },
              { field: "zones" },
              { field: "median" },
              { field: "min" },
              { field: "max" },
            ],
          },
        },
      ],
    },
  };
}

/** The chart as a standalone SVG document, rendered headless. */
export async function renderBenchSvg(summaries: readonly StepSummary[], title: string): Promise<string> {
  const view = new vega.View(vega.parse(compile(benchChartSpec(summaries, title)).spec), {
    renderer: "none",
  });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
