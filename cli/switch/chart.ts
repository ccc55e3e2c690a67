import * as vega from "vega";
import { TopLevelSpec, compile } from "vega-lite";
import { Bucket } from "./stats";

/** A moment to mark on the chart, ms since the epoch. */
export interface ChartMarker {
  label: string;
  at: number;
}

/** One series of per-second buckets (a zone, or `total`). */
export interface ChartSeries {
  name: string;
  buckets: Bucket[];
}

/** What the chart shows. */
export interface ChartInput {
  title: string;
  /** The moment second 0 stands for, ms since the epoch. */
  origin: number;
  series: ChartSeries[];
  markers: ChartMarker[];
  /** Shaded as "up running" between these two markers' times, when both are known. */
  upWindow?: { start: number; end: number };
}

const TOTAL_COLOUR = "#222222";
const ZONE_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"];

/**
 * The Vega-Lite spec: success rate (%) per second for each zone and in total, the `up` window shaded
 * and each marker drawn as a labelled vertical rule. Seconds without requests are left out rather than
 * drawn as 0 %, since no request is not a failed request.
 */
export function successRateChartSpec(input: ChartInput): TopLevelSpec {
  const rows = input.series.flatMap((series) =>
    series.buckets
      .filter((bucket) => bucket.requests > 0)
      .map((bucket) => ({
        second: bucket.second,
        series: series.name,
        rate: (100 * bucket.ok) / bucket.requests,
        requests: bucket.requests,
        failed: bucket.requests - bucket.ok,
      })),
  );
  const seconds = (at: number): number => Math.round((at - input.origin) / 100) / 10;
  const markers = input.markers.map((marker) => ({ second: seconds(marker.at), label: marker.label }));
  // Marker labels go on separate lines (pixels from the top), since `up end` and `rolled out` often nearly coincide.
  const labels = markers.map((marker, i) => ({ ...marker, y: 2 + 12 * i }));
  const names = input.series.map((series) => series.name);
  const colours = names.map((name, i) =>
    name === "total" ? TOTAL_COLOUR : ZONE_COLOURS[i % ZONE_COLOURS.length],
  );
  const upWindow = input.upWindow
    ? [{ from: seconds(input.upWindow.start), to: seconds(input.upWindow.end) }]
    : [];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: input.title,
    width: 900,
    height: 320,
    layer: [
      {
        data: { values: upWindow },
        mark: { type: "rect", color: "#f0c000", opacity: 0.12 },
        encoding: { x: { field: "from", type: "quantitative" }, x2: { field: "to" } },
      },
      {
        data: { values: rows },
        mark: { type: "line", interpolate: "step-after", strokeWidth: 1.5 },
        encoding: {
          x: { field: "second", type: "quantitative", title: "seconds since the probes were ready" },
          y: { field: "rate", type: "quantitative", title: "success rate (%)", scale: { domain: [0, 100] } },
          color: { field: "series", type: "nominal", title: null, scale: { domain: names, range: colours } },
          tooltip: [{ field: "series" }, { field: "second" }, { field: "requests" }, { field: "failed" }],
        },
      },
      {
        data: { values: markers },
        mark: { type: "rule", strokeDash: [4, 3], color: "#555555" },
        encoding: { x: { field: "second", type: "quantitative" } },
      },
      {
        data: { values: labels },
        mark: { type: "text", align: "left", baseline: "top", dx: 3, fontSize: 10, color: "#555555" },
        encoding: {
          x: { field: "second", type: "quantitative" },
          y: { field: "y", type: "quantitative", scale: null },
          text: { field: "label" },
        },
      },
    ],
  };
}

/** Renders the chart to a standalone SVG document, headless (no browser, no canvas). */
export async function renderSuccessRateSvg(input: ChartInput): Promise<string> {
  const view = new vega.View(vega.parse(compile(successRateChartSpec(input)).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
