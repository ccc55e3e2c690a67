import * as path from "path";
import { ConfigError, configProblem, FileCheck, readableFile, StackConfig } from "./config";
import { istioCharts } from "./modes";

/**
 * What is wrong with `istio.chartDirectory` for the charts this run installs: each must be a folder
 * named after the chart, holding its `Chart.yaml`. Judged before any resource is declared, so a
 * missing chart is not found by Helm half way through an `up`.
 */
export function chartDirectoryProblems(config: StackConfig, files: FileCheck = readableFile): string[] {
  const directory = config.istio.chartDirectory;
  if (!directory) return [];
  const charts = istioCharts(config.dataplaneMode, config.istio.ingressGateway);
  const missing = charts
    .map((chart) => ({ chart, why: files(path.join(directory, chart, "Chart.yaml")) }))
    .filter((found): found is { chart: (typeof charts)[number]; why: string } => found.why !== undefined);
  if (missing.length === 0) return [];
  const named = missing.map(({ chart, why }) => `${path.resolve(directory, chart, "Chart.yaml")}: ${why}`);
  return [
    configProblem(
      "istio.chartDirectory",
      directory,
      `a folder with one folder per chart this run installs (${charts.join(", ")}); ${named.join("; ")}`,
    ),
  ];
}

/** Throws a {@link ConfigError} when the chart folder lacks a chart this run installs. */
export function checkChartDirectory(config: StackConfig): void {
  const problems = chartDirectoryProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
}
