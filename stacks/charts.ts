import * as fs from "fs";
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
import { IstioChart } from "./contract";
import { istioCharts, usesWaypoint } from "./modes";
import { istioMinor } from "./versions";

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

/**
 * Reads a URL's text with the given request headers, or rejects with why not; a refusal that asks
 * for a token rejects with a {@link TokenChallenge}.
 */
export type FetchText = (url: string, timeoutMs: number, headers?: Record<string, string>) => Promise<string>;

/** An HTTP 401 whose `WWW-Authenticate` names a Bearer token service, as OCI registries answer. */
export class TokenChallenge extends Error {
  constructor(readonly challenge: string) {
    super(`HTTP 401 Unauthorized (${challenge})`);
    this.name = "TokenChallenge";
  }
}

/** How long the repository check waits for the chart index. */
export const CHART_INDEX_TIMEOUT_MS = 15_000;

/** Node's own `fetch`, which fails on a status other than 2xx as on a broken connection. */
export const fetchText: FetchText = async (url, timeoutMs, headers) => {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  const challenge = response.headers.get("www-authenticate");
  if (response.status === 401 && challenge?.startsWith("Bearer ")) throw new TokenChallenge(challenge);
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
  return response.text();
};

/** The OCI registry path of `oci://` chart references. */
export const OCI_SCHEME = "oci://";

/**
 * The tags of one chart in an OCI registry (`oci://<host>/<path>/<chart>`), read as Helm pulls it:
 * the distribution API's tag list, anonymously, with the pull token the registry's challenge names.
 */
export async function ociChartTags(repository: string, chart: string, read: FetchText): Promise<string[]> {
  const [host, ...rest] = repository.slice(OCI_SCHEME.length).replace(/\/+$/, "").split("/");
  const name = [...rest, chart].join("/");
  const url = `https://${host}/v2/${name}/tags/list`;
  let text: string;
  try {
    text = await read(url, CHART_INDEX_TIMEOUT_MS);
  } catch (error) {
    if (!(error instanceof TokenChallenge)) throw error;
    const field = (key: string) => new RegExp(`${key}="([^"]*)"`).exec(error.challenge)?.[1];
    const realm = field("realm");
    if (!realm) throw error;
    const query = new URLSearchParams({
      scope: `repository:${name}:pull`,
      service: field("service") ?? host,
    });
    const { token } = JSON.parse(await read(`${realm}?${query.toString()}`, CHART_INDEX_TIMEOUT_MS)) as {
      token?: string;
    };
    text = await read(url, CHART_INDEX_TIMEOUT_MS, { Authorization: `Bearer ${token ?? ""}` });
  }
  const tags = (JSON.parse(text) as { tags?: unknown }).tags;
  return Array.isArray(tags) ? tags.filter((tag): tag is string => typeof tag === "string") : [];
}

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
  const charts = istioCharts(config.dataplaneMode, config.istio.ingressGateway);
  const version = config.istio.version;
  const unreachable = (where: string, error: unknown) => [
    configProblem(
      "istio.chartRepository",
      repository,
      `a Helm repository or OCI registry path this machine can read (${where}: ${reasonOf(error)}); ` +
        "where it is out of reach, set `istio.chartDirectory` to a folder of the charts",
    ),
  ];
  let missing: IstioChart[];
  if (repository.startsWith(OCI_SCHEME)) {
    missing = [];
    for (const chart of charts) {
      try {
        if (!(await ociChartTags(repository, chart, read)).includes(version)) missing.push(chart);
      } catch (error) {
        return unreachable(`${repository}/${chart}`, error);
      }
    }
  } else {
    const url = `${repository.replace(/\/+$/, "")}/index.yaml`;
    let index: { entries?: Record<string, { version?: unknown }[] | undefined> } | undefined;
    try {
      index = yaml.load(await read(url, CHART_INDEX_TIMEOUT_MS)) as typeof index;
    } catch (error) {
      return unreachable(url, error);
    }
    missing = charts.filter(
      (chart) => !(index?.entries?.[chart] ?? []).some((entry) => entry.version === version),
    );
  }
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

/** A Kubernetes object as the YAML of a manifest gives it. */
export type Manifest = {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; annotations?: Record<string, string> };
};

/** The text of a local source: a file, or every `.yaml` file of a folder in name order. */
function readLocal(source: string): string {
  if (!fs.statSync(source).isDirectory()) return fs.readFileSync(source, "utf8");
  return fs
    .readdirSync(source)
    .filter((file) => file.endsWith(".yaml"))
    .sort()
    .map((file) => fs.readFileSync(path.join(source, file), "utf8"))
    .join("\n---\n");
}

/**
 * The Gateway API CRDs this run installs, read before any resource is declared: none unless a
 * waypoint is used and the cluster lacks them; otherwise every CustomResourceDefinition of the source
 * (the release's URL, a file or a folder), each of the pinned bundle version. A source that cannot
 * be read, or holds other CRDs, is a configuration error naming the way out.
 */
export async function gatewayApiCrds(
  config: StackConfig,
  read: FetchText = fetchText,
): Promise<{ crds: Manifest[]; problems: string[] }> {
  const source = config.istio.gatewayApiCrds;
  if (
    !usesWaypoint(config.dataplaneMode, config.locality, config.waypoint) ||
    source === GATEWAY_API_INSTALLED
  ) {
    return { crds: [], problems: [] };
  }
  const row = istioMinor(config.istio.version);
  const minor = row?.minor ?? config.istio.version;
  const bundle = row?.gatewayApi;
  const refuse = (expected: string) => ({
    crds: [],
    problems: [configProblem("istio.gatewayApiCrds", source, expected)],
  });
  if (source === undefined) {
    return refuse(
      `the Gateway API standard CRDs Istio ${minor} is built against, which no source here names: ` +
        `their release's URL, a local file or folder of them, or \`${GATEWAY_API_INSTALLED}\``,
    );
  }
  let why: string;
  try {
    const text = /^https?:\/\//.test(source) ? await read(source, CHART_INDEX_TIMEOUT_MS) : readLocal(source);
    const crds = (yaml.loadAll(text) as (Manifest | null)[]).filter(
      (doc): doc is Manifest => doc?.kind === "CustomResourceDefinition",
    );
    const versions = new Set(crds.map((crd) => crd.metadata?.annotations?.[GATEWAY_API_BUNDLE_ANNOTATION]));
    const [found] = versions;
    const ofTheBundle =
      versions.size === 1 && found !== undefined && (bundle === undefined || found === bundle);
    if (crds.length > 0 && ofTheBundle) return { crds, problems: [] };
    why =
      crds.length === 0
        ? "it holds no CustomResourceDefinition"
        : `its CRDs are of bundle version ${[...versions].map(String).join(", ")}, not ${bundle ?? "one bundle"}`;
  } catch (error) {
    why = reasonOf(error);
  }
  return refuse(
    `the Gateway API ${bundle ? `${bundle} ` : ""}standard CRDs Istio ${minor} is built against, readable from this machine (${why}); ` +
      `where they are out of reach, set it to a local file or folder of them, or to \`${GATEWAY_API_INSTALLED}\``,
  );
}

/** The annotation every Gateway API CRD carries with its release. */
export const GATEWAY_API_BUNDLE_ANNOTATION = "gateway.networking.k8s.io/bundle-version";

/**
 * Reads what the run installs from outside the program — Istio's charts, the Gateway API CRDs — and
 * returns the CRDs; throws a {@link ConfigError} when a source cannot serve this run.
 */
export async function readInstallSources(
  config: StackConfig,
  read: FetchText = fetchText,
): Promise<Manifest[]> {
  const gatewayApi = await gatewayApiCrds(config, read);
  const problems = [
    ...chartDirectoryProblems(config),
    ...(await chartRepositoryProblems(config, read)),
    ...gatewayApi.problems,
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  return gatewayApi.crds;
}
