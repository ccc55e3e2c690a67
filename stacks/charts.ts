import * as path from "path";
import * as yaml from "js-yaml";
import {
  ConfigError,
  configProblem,
  FileCheck,
  GATEWAY_API_INSTALLED,
  readableFile,
  StackConfig,
} from "./config";
import { istioCharts, usesWaypoint } from "./modes";

/**
 * What is wrong with `istio.chartDirectory` for the charts this run installs: each must be a folder
 * named after the chart, holding its `Chart.yaml`. Judged before any resource is declared, so a
 * missing chart is not found by Helm half way through an `up`.
 */
export function chartDirectoryProblems(config: StackConfig, files: FileCheck = readableFile): string[] {
  const directory = config.istio.chartDirectory;
  if (!directory) return [];
  const charts = istioCharts(config.dataplaneMode, config.istio.ingressGateway);
  const missing = charts.flatMap((chart) => {
    const file = path.resolve(directory, chart, "Chart.yaml");
    const why = files(file);
    return why === undefined ? [] : [`${file}: ${why}`];
  });
  if (missing.length === 0) return [];
  return [
    configProblem(
      "istio.chartDirectory",
      directory,
      `a folder with one folder per chart this run installs (${charts.join(", ")}); ${missing.join("; ")}`,
    ),
  ];
}

/** Reads a URL's text, or rejects with why not. */
export type FetchText = (url: string, timeoutMs: number) => Promise<string>;

/** How long the repository check waits for the chart index. */
export const CHART_INDEX_TIMEOUT_MS = 15_000;

/** Node's own `fetch`, which fails on a status other than 2xx as on a broken connection. */
export const fetchText: FetchText = async (url, timeoutMs) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
  return response.text();
};

function reasonOf(error: unknown): string {
  const failure = error as {
    name?: unknown;
    message?: unknown;
    cause?: { code?: unknown; message?: unknown };
  };
  if (failure.name === "TimeoutError") return `no answer within ${CHART_INDEX_TIMEOUT_MS / 1000} s`;
  const message = typeof failure.message === "string" ? failure.message : String(error);
  const cause = [failure.cause?.code, failure.cause?.message].find((part) => typeof part === "string");
  return cause ? `${message} (${cause})` : message;
}

/**
 * What is wrong with `istio.chartRepository` for this run, read from its `index.yaml` before any
 * resource is declared: it must answer, and hold `istio.version` of every chart the run installs.
 * Otherwise Helm finds out only once the cluster and the first releases exist.
 */
export async function chartRepositoryProblems(
  config: StackConfig,
  read: FetchText = fetchText,
): Promise<string[]> {
  if (config.istio.chartDirectory) return [];
  const repository = config.istio.chartRepository;
  const url = `${repository.replace(/\/+$/, "")}/index.yaml`;
  let index: { entries?: Record<string, { version?: unknown }[] | undefined> } | undefined;
  try {
    index = yaml.load(await read(url, CHART_INDEX_TIMEOUT_MS)) as typeof index;
  } catch (error) {
    return [
      configProblem(
        "istio.chartRepository",
        repository,
        `a Helm repository this machine can read (${url}: ${reasonOf(error)}); ` +
          "where it is out of reach, set `istio.chartDirectory` to a folder of the charts",
      ),
    ];
  }
  const version = config.istio.version;
  const missing = istioCharts(config.dataplaneMode, config.istio.ingressGateway).filter(
    (chart) => !(index?.entries?.[chart] ?? []).some((entry) => entry.version === version),
  );
  return missing.length === 0
    ? []
    : [
        configProblem(
          "istio.version",
          version,
          `a version ${repository} holds for every chart this run installs; it has no ${missing.join(", ")} ${version}`,
        ),
      ];
}

/** The Gateway API release Istio 1.26 is built against; its CRDs carry it as their bundle version. */
export const GATEWAY_API_VERSION = "v1.3.0";

/**
 * What is wrong with `istio.gatewayApiCrds` for this run: when a waypoint is used and the CRDs come
 * from a URL, it must answer with the pinned release's CRDs. Local files are judged with the rest of
 * the configuration; `installed` is the cluster's business.
 */
export async function gatewayApiProblems(
  config: StackConfig,
  read: FetchText = fetchText,
): Promise<string[]> {
  const source = config.istio.gatewayApiCrds;
  if (!usesWaypoint(config.dataplaneMode, config.locality, config.waypoint)) return [];
  if (source === GATEWAY_API_INSTALLED || !/^https?:\/\//.test(source)) return [];
  let why: string;
  try {
    const text = await read(source, CHART_INDEX_TIMEOUT_MS);
    if (text.includes(`gateway.networking.k8s.io/bundle-version: ${GATEWAY_API_VERSION}`)) return [];
    why = `it holds no CRD of bundle version ${GATEWAY_API_VERSION}`;
  } catch (error) {
    why = reasonOf(error);
  }
  return [
    configProblem(
      "istio.gatewayApiCrds",
      source,
      `the Gateway API ${GATEWAY_API_VERSION} standard CRDs, readable from this machine (${why}); ` +
        `where they are out of reach, set it to a local file or glob of them, or to \`${GATEWAY_API_INSTALLED}\``,
    ),
  ];
}

/** Throws a {@link ConfigError} when the chart source (or the Gateway API CRDs) cannot serve this run. */
export async function checkChartSource(config: StackConfig, read: FetchText = fetchText): Promise<void> {
  const problems = [
    ...chartDirectoryProblems(config),
    ...(await chartRepositoryProblems(config, read)),
    ...(await gatewayApiProblems(config, read)),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
}
