import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
  DATAPLANE_MODES,
  DataplaneMode,
  DEFAULTS,
  ISTIO_CHARTS,
  IstioChart,
  LOCALITY_INTENTS,
  LocalityIntent,
  MTLS_MODES,
  MtlsMode,
  PROJECT,
  REVIEWS_VERSIONS,
  ReviewsVersion,
  WAYPOINT_CHOICES,
  WaypointChoice,
} from "./contract";
import { chooseVersions, DeployedVersions, gatewayApiCrdsUrl, istioMinor, VersionChoice } from "./versions";

export type ClusterProvider = "minikube" | "existing";
export type MinikubeDriver = "podman" | "docker";
export type ContainerRuntime = "cri-o" | "containerd" | "docker";
export type IngressServiceType = "NodePort" | "ClusterIP" | "LoadBalancer";

/** What both kinds of cluster need to say about their nodes' locality. */
interface ClusterLocality {
  /** The Kubernetes version: minikube's to start, or the one an existing cluster runs. */
  kubernetesVersion: string;
  /** The `topology.kubernetes.io/region` every labelled node shares. */
  region: string;
}

/** A minikube cluster the program creates and deletes; node i carries zone i mod N. */
export interface MinikubeClusterConfig extends ClusterLocality {
  provider: "minikube";
  /** minikube profile; also the prefix of its node names. */
  profile: string;
  nodes: number;
  /** CPUs per node. */
  cpus: number;
  /** Memory per node in MB. */
  memoryMb: number;
  driver: MinikubeDriver;
  /** The runtime inside the minikube nodes; it decides Istio CNI's netns path. */
  containerRuntime: ContainerRuntime;
  /** Node name → zone to label. */
  nodeZones: Record<string, string>;
}

/** A cluster the user already has, reached through its own kubeconfig (never the machine's default). */
export interface ExistingClusterConfig extends ClusterLocality {
  provider: "existing";
  /** Path of a readable kubeconfig file. */
  kubeconfig: string;
  /** The context in that kubeconfig; its current context when unset. */
  context?: string;
  /** Node name → zone to label, or `labelled` when the nodes already carry zone labels. */
  nodeZones: Record<string, string> | "labelled";
}

/** Where the cluster comes from and how its nodes map to zones. */
export type ClusterConfig = MinikubeClusterConfig | ExistingClusterConfig;

/** Whether the nodes came labelled, so the program checks their labels instead of setting them. */
export function nodesCameLabelled(
  cluster: ClusterConfig,
): cluster is ExistingClusterConfig & { nodeZones: "labelled" } {
  return cluster.provider === "existing" && cluster.nodeZones === "labelled";
}

export interface IstioConfig {
  /** Istio version; it is both the chart version and the image tag. */
  version: string;
  /** Helm repository of Istio's charts. */
  chartRepository: string;
  /** A local folder holding the `base`, `istiod`, `cni`, `ztunnel` and `gateway` charts (air-gapped installs). */
  chartDirectory?: string;
  /** Image registry of Istio's own images. */
  hub: string;
  /** Install the `gateway` chart as ingress gateway (in both modes). */
  ingressGateway: boolean;
  /** The gateway's Service type; `LoadBalancer` only where the cluster assigns external addresses. */
  ingressServiceType: IngressServiceType;
  /** Helm values per chart, merged over the program's own (maps recursively; anything else replaces). */
  values: IstioValues;
  /**
   * Where the Gateway API CRDs come from when a waypoint is used: a URL, a local file or glob of
   * files (air-gapped clusters), or `installed` where the cluster already has them. Undefined when
   * the stack names none and no source here gives the bundle its Istio minor is built against.
   */
  gatewayApiCrds?: string;
}

/** User Helm values by chart; a chart left out keeps the program's values. */
export type IstioValues = Partial<Record<IstioChart, Record<string, unknown>>>;

export interface BookinfoConfig {
  /** Namespace for Bookinfo and the zone clients. */
  namespace: string;
  /** Tag of the `docker.io/istio/examples-bookinfo-*` images. */
  imageTag: string;
  /** Replicas of each per-zone Deployment (and of each reviews version). */
  replicasPerZone: number;
  /**
   * How long a new pod of any Deployment (the waypoint's too) stays ready before the rollout takes an
   * old one away: the time the mesh gets to send every client the new endpoint.
   */
  minReadySeconds: number;
  /** The zone each reviews version is pinned to. */
  reviewsZones: Record<ReviewsVersion, string>;
  /** Image of the per-zone client pods (needs `curl` and `sleep`). */
  clientImage: string;
}

/** The validated configuration of one stack. */
export interface StackConfig {
  stack: string;
  dataplaneMode: DataplaneMode;
  locality: LocalityIntent;
  waypoint: WaypointChoice;
  mtls: MtlsMode;
  zones: string[];
  cluster: ClusterConfig;
  istio: IstioConfig;
  bookinfo: BookinfoConfig;
  /** Where the Istio and Kubernetes versions of `istio` and `cluster` came from. */
  versions: VersionChoice;
}

/** Raw values as they come out of Pulumi config, before validation. */
export interface RawConfig {
  dataplaneMode?: unknown;
  locality?: unknown;
  waypoint?: unknown;
  mtls?: unknown;
  zones?: unknown;
  cluster?: unknown;
  istio?: unknown;
  bookinfo?: unknown;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const KUBERNETES_VERSION = /^v(\d+)\.(\d+)\.(\d+)$/;
const ISTIO_VERSION = /^(\d+)\.(\d+)\.(\d+)$/;

/** The first Kubernetes minor with `spec.trafficDistribution` on by default (beta). */
export const TRAFFIC_DISTRIBUTION_MIN_MINOR = 31;

/** Thrown for invalid configuration; Pulumi prints a RunError's message without a stack trace. */
export class ConfigError extends pulumi.RunError {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

const show = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));
const oneOf = (values: readonly string[]): string => {
  const quoted = values.map((v) => `\`${v}\``);
  return quoted.length === 2 ? `${quoted[0]} or ${quoted[1]}` : `one of ${quoted.join(", ")}`;
};

/** One problem of a key, as every configuration error says it: the key, its value, what is allowed. */
export function configProblem(key: string, value: unknown, expected: string): string {
  const is = value === undefined ? "is not set" : `is \`${show(value)}\``;
  return `\`${PROJECT}:${key}\` ${is}; expected ${expected}`;
}

/** Why a file cannot be read, or undefined when it can. */
export type FileCheck = (file: string) => string | undefined;

/** Checks a file on this machine, as the program will read it. */
export const readableFile: FileCheck = (file) => {
  try {
    if (!fs.statSync(file).isFile()) return "it is not a file";
    fs.accessSync(file, fs.constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "no such file" : code === "EACCES" ? "it is not readable" : String(error);
  }
};

/** The minikube runtime the program assumes when none is set: minikube's advice per driver. */
export function defaultContainerRuntime(driver: MinikubeDriver): ContainerRuntime {
  return driver === "podman" ? "cri-o" : "docker";
}

/** minikube's node names: the profile, then `<profile>-m02`, `<profile>-m03`, … */
export function minikubeNodeNames(profile: string, nodes: number): string[] {
  return Array.from({ length: nodes }, (_, i) =>
    i === 0 ? profile : `${profile}-m${String(i + 1).padStart(2, "0")}`,
  );
}

/** Node i carries zone i mod N, so every zone gets a node when there are at least as many nodes as zones. */
export function defaultNodeZones(nodeNames: string[], zones: string[]): Record<string, string> {
  return Object.fromEntries(nodeNames.map((node, i) => [node, zones[i % zones.length]]));
}

/** Version i lives in zone i mod N, as in the blog's lab (v1→zone-a, v2→zone-b, v3→zone-c). */
export function defaultReviewsZones(zones: string[]): Record<ReviewsVersion, string> {
  return Object.fromEntries(REVIEWS_VERSIONS.map((v, i) => [v, zones[i % zones.length]])) as Record<
    ReviewsVersion,
    string
  >;
}

/** Parses `v1.32.0` into numbers; undefined when malformed. */
export function parseKubernetesVersion(version: string): { major: number; minor: number } | undefined {
  const match = KUBERNETES_VERSION.exec(version);
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : undefined;
}

/** Whether the API server keeps `spec.trafficDistribution` (the field is dropped while its gate is off). */
export function supportsTrafficDistribution(kubernetesVersion: string): boolean {
  const parsed = parseKubernetesVersion(kubernetesVersion);
  return parsed !== undefined && (parsed.major > 1 || parsed.minor >= TRAFFIC_DISTRIBUTION_MIN_MINOR);
}

/** Collects every problem, so one run of `pulumi preview` names them all. */
class Reader {
  readonly problems: string[] = [];

  problem(key: string, value: unknown, expected: string): void {
    this.problems.push(configProblem(key, value, expected));
  }

  object(key: string, value: unknown): Record<string, unknown> {
    if (value === undefined) return {};
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
    this.problem(key, value, "an object");
    return {};
  }

  choice<T extends string>(key: string, value: unknown, allowed: readonly T[], fallback: T): T {
    if (value === undefined) return fallback;
    if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
    this.problem(key, value, oneOf(allowed));
    return fallback;
  }

  string(key: string, value: unknown, fallback: string, pattern?: RegExp, expected?: string): string {
    if (value === undefined) return fallback;
    if (typeof value === "string" && value !== "" && (!pattern || pattern.test(value))) return value;
    this.problem(key, value, expected ?? "a non-empty string");
    return fallback;
  }

  /** A string the key may leave out, of the given shape. */
  optionalMatch(key: string, value: unknown, pattern: RegExp, expected: string): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value === "string" && pattern.test(value)) return value;
    this.problem(key, value, expected);
    return undefined;
  }

  optionalString(key: string, value: unknown): string | undefined {
    if (value === undefined || value === "") return undefined;
    if (typeof value === "string") return value;
    this.problem(key, value, "a string");
    return undefined;
  }

  integer(key: string, value: unknown, fallback: number, min: number, max: number): number {
    if (value === undefined) return fallback;
    const parsed = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof parsed === "number" && Number.isInteger(parsed) && parsed >= min && parsed <= max)
      return parsed;
    this.problem(key, value, `an integer from ${min} to ${max}`);
    return fallback;
  }

  boolean(key: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value === "boolean") return value;
    if (value === "true" || value === "false") return value === "true";
    this.problem(key, value, "`true` or `false`");
    return fallback;
  }
}

function readZones(r: Reader, value: unknown): string[] {
  if (value === undefined) return [...DEFAULTS.zones];
  if (!Array.isArray(value) || value.length === 0) {
    r.problem("zones", value, "a non-empty list of zone names");
    return [...DEFAULTS.zones];
  }
  const zones: string[] = [];
  for (const zone of value) {
    if (typeof zone !== "string" || !LABEL_VALUE.test(zone) || zone.length > 63) {
      r.problem("zones", value, `zone names that are Kubernetes label values; \`${show(zone)}\` is not`);
    } else if (zones.includes(zone)) {
      r.problem("zones", value, `distinct zone names; \`${zone}\` appears twice`);
    } else {
      zones.push(zone);
    }
  }
  return zones;
}

function readNodeZones(
  r: Reader,
  value: unknown,
  zones: string[],
  fallback: Record<string, string> | "labelled",
): Record<string, string> | "labelled" {
  if (value === undefined) return fallback;
  if (value === "labelled") return value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    r.problem("cluster.nodeZones", value, "`labelled` or a map of node name to zone");
    return fallback;
  }
  const map: Record<string, string> = {};
  for (const [node, zone] of Object.entries(value as Record<string, unknown>)) {
    if (typeof zone !== "string" || !zones.includes(zone)) {
      r.problem(`cluster.nodeZones.${node}`, zone, `one of the zones (${oneOf(zones)})`);
    } else {
      map[node] = zone;
    }
  }
  return map;
}

function readReviewsZones(r: Reader, value: unknown, zones: string[]): Record<ReviewsVersion, string> {
  const result = defaultReviewsZones(zones);
  const raw = r.object("bookinfo.reviewsZones", value);
  for (const [version, zone] of Object.entries(raw)) {
    if (!(REVIEWS_VERSIONS as readonly string[]).includes(version)) {
      r.problem(`bookinfo.reviewsZones.${version}`, zone, `a key among ${oneOf(REVIEWS_VERSIONS)}`);
    } else if (typeof zone !== "string" || !zones.includes(zone)) {
      r.problem(`bookinfo.reviewsZones.${version}`, zone, `one of the zones (${oneOf(zones)})`);
    } else {
      result[version as ReviewsVersion] = zone;
    }
  }
  return result;
}

function readIstioValues(r: Reader, value: unknown): IstioValues {
  const values: IstioValues = {};
  if (value === undefined) return values;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    r.problem("istio.values", value, `an object of Helm values by chart (${oneOf(ISTIO_CHARTS)})`);
    return values;
  }
  for (const [chart, chartValues] of Object.entries(value as Record<string, unknown>)) {
    if (!(ISTIO_CHARTS as readonly string[]).includes(chart)) {
      r.problem(`istio.values.${chart}`, chartValues, `a chart name as key, ${oneOf(ISTIO_CHARTS)}`);
    } else if (typeof chartValues !== "object" || chartValues === null || Array.isArray(chartValues)) {
      r.problem(`istio.values.${chart}`, chartValues, `an object of Helm values for the \`${chart}\` chart`);
    } else {
      values[chart as IstioChart] = chartValues as Record<string, unknown>;
    }
  }
  return values;
}

/** `installed`: the cluster has the Gateway API CRDs already, and the program leaves them alone. */
export const GATEWAY_API_INSTALLED = "installed";

/**
 * The Gateway API CRDs' source: a URL is read before any resource is declared; a local file, or a
 * folder of `.yaml` files, must be readable now.
 */
function readGatewayApiCrds(
  r: Reader,
  value: unknown,
  files: FileCheck,
  istioVersion: string,
): string | undefined {
  if (value === undefined) {
    const bundle = istioMinor(istioVersion)?.gatewayApi;
    return bundle === undefined ? undefined : gatewayApiCrdsUrl(bundle);
  }
  const source = r.string("istio.gatewayApiCrds", value, "");
  if (source === GATEWAY_API_INSTALLED || /^https?:\/\//.test(source)) return source;
  const why = folderProblem(source) === undefined ? undefined : files(source);
  if (why) {
    r.problem(
      "istio.gatewayApiCrds",
      source,
      `an http(s) URL, \`${GATEWAY_API_INSTALLED}\`, or a readable file or folder of the Gateway API CRDs (${path.resolve(source)}: ${why})`,
    );
  }
  return source;
}

function folderProblem(folder: string): string | undefined {
  try {
    return fs.statSync(folder).isDirectory() ? undefined : "it is not a folder";
  } catch {
    return "no such folder";
  }
}

/**
 * The `cluster` object as one of its two kinds. Keys of the other kind are not read, so a stack
 * that moves from minikube to an existing cluster may keep them.
 */
function readCluster(
  r: Reader,
  c: Record<string, unknown>,
  zones: string[],
  stack: string,
  files: FileCheck,
  kubernetesVersion: string,
): ClusterConfig {
  const provider = r.choice<ClusterProvider>(
    "cluster.provider",
    c.provider,
    ["minikube", "existing"],
    DEFAULTS.cluster.provider,
  );
  const locality: ClusterLocality = {
    kubernetesVersion,
    region: r.string(
      "cluster.region",
      c.region,
      DEFAULTS.cluster.region,
      LABEL_VALUE,
      "a Kubernetes label value",
    ),
  };
  if (provider === "existing") {
    const kubeconfig = r.optionalString("cluster.kubeconfig", c.kubeconfig);
    if (kubeconfig === undefined) {
      r.problem(
        "cluster.kubeconfig",
        c.kubeconfig,
        "the path of a kubeconfig file when `cluster.provider` is `existing`",
      );
    } else {
      const why = files(kubeconfig);
      if (why)
        r.problem(
          "cluster.kubeconfig",
          kubeconfig,
          `a readable kubeconfig file (${path.resolve(kubeconfig)}: ${why})`,
        );
    }
    return {
      provider,
      ...locality,
      kubeconfig: kubeconfig ?? "",
      context: r.optionalString("cluster.context", c.context),
      nodeZones: readNodeZones(r, c.nodeZones, zones, "labelled"),
    };
  }
  const profile = r.string(
    "cluster.profile",
    c.profile,
    `istio-locality-${stack}`.toLowerCase().replace(/[^a-z0-9-]/g, "-"),
    DNS_LABEL,
    "a DNS label (lowercase letters, digits and `-`)",
  );
  const nodes = r.integer("cluster.nodes", c.nodes, DEFAULTS.cluster.nodes, 1, 20);
  const driver = r.choice<MinikubeDriver>(
    "cluster.driver",
    c.driver,
    ["podman", "docker"],
    DEFAULTS.cluster.driver,
  );
  if (zones.length > nodes) {
    r.problem(
      "zones",
      zones,
      `at most ${nodes} zones, one per minikube node (\`cluster.nodes\` is ${nodes})`,
    );
  }
  if (c.nodeZones !== undefined) {
    r.problem("cluster.nodeZones", c.nodeZones, "no value with minikube: node i carries zone i mod N");
  }
  return {
    provider,
    ...locality,
    profile,
    nodes,
    cpus: r.integer("cluster.cpus", c.cpus, DEFAULTS.cluster.cpus, 2, 64),
    memoryMb: r.integer("cluster.memoryMb", c.memoryMb, DEFAULTS.cluster.memoryMb, 1800, 262144),
    driver,
    containerRuntime: r.choice<ContainerRuntime>(
      "cluster.containerRuntime",
      c.containerRuntime,
      ["cri-o", "containerd", "docker"],
      defaultContainerRuntime(driver),
    ),
    nodeZones: defaultNodeZones(minikubeNodeNames(profile, nodes), zones),
  };
}

/**
 * Validates raw configuration and fills in defaults. Throws one {@link ConfigError} naming every
 * bad key, its value and what is allowed, before any resource is declared. `files` judges the
 * kubeconfig of an `existing` cluster.
 */
export function parseConfig(
  raw: RawConfig,
  stack: string,
  files: FileCheck = readableFile,
  deployed?: DeployedVersions,
): StackConfig {
  const r = new Reader();
  const dataplaneMode = r.choice("dataplaneMode", raw.dataplaneMode, DATAPLANE_MODES, DEFAULTS.dataplaneMode);
  const locality = r.choice("locality", raw.locality, LOCALITY_INTENTS, DEFAULTS.locality);
  const waypoint = r.choice("waypoint", raw.waypoint, WAYPOINT_CHOICES, DEFAULTS.waypoint);
  const mtls = r.choice("mtls", raw.mtls, MTLS_MODES, DEFAULTS.mtls);
  const zones = readZones(r, raw.zones);

  const c = r.object("cluster", raw.cluster);
  const i = r.object("istio", raw.istio);
  const named = {
    istio: r.optionalMatch("istio.version", i.version, ISTIO_VERSION, "an Istio version such as `1.30.5`"),
    kubernetes: r.optionalMatch(
      "cluster.kubernetesVersion",
      c.kubernetesVersion,
      KUBERNETES_VERSION,
      "a Kubernetes version such as `v1.36.5`",
    ),
  };
  const chosen = chooseVersions(named, deployed);
  for (const problem of chosen.problems) r.problem(problem.key, problem.value, problem.expected);
  const versions = chosen.choice;

  const cluster = readCluster(r, c, zones, stack, files, versions.kubernetes.version);
  const istio: IstioConfig = {
    version: versions.istio.version,
    chartRepository: r.string("istio.chartRepository", i.chartRepository, DEFAULTS.istio.chartRepository),
    chartDirectory: r.optionalString("istio.chartDirectory", i.chartDirectory),
    hub: r.string("istio.hub", i.hub, DEFAULTS.istio.hub),
    ingressGateway: r.boolean("istio.ingressGateway", i.ingressGateway, DEFAULTS.istio.ingressGateway),
    ingressServiceType: r.choice<IngressServiceType>(
      "istio.ingressServiceType",
      i.ingressServiceType,
      ["NodePort", "ClusterIP", "LoadBalancer"],
      DEFAULTS.istio.ingressServiceType,
    ),
    values: readIstioValues(r, i.values),
    gatewayApiCrds: readGatewayApiCrds(r, i.gatewayApiCrds, files, versions.istio.version),
  };

  const b = r.object("bookinfo", raw.bookinfo);
  const bookinfo: BookinfoConfig = {
    namespace: r.string(
      "bookinfo.namespace",
      b.namespace,
      DEFAULTS.bookinfo.namespace,
      DNS_LABEL,
      "a DNS label",
    ),
    imageTag: r.string(
      "bookinfo.imageTag",
      b.imageTag,
      DEFAULTS.bookinfo.imageTag,
      LABEL_VALUE,
      "an image tag",
    ),
    replicasPerZone: r.integer(
      "bookinfo.replicasPerZone",
      b.replicasPerZone,
      DEFAULTS.bookinfo.replicasPerZone,
      1,
      10,
    ),
    minReadySeconds: r.integer(
      "bookinfo.minReadySeconds",
      b.minReadySeconds,
      DEFAULTS.bookinfo.minReadySeconds,
      1,
      600,
    ),
    reviewsZones: readReviewsZones(r, b.reviewsZones, zones),
    clientImage: r.string("bookinfo.clientImage", b.clientImage, DEFAULTS.bookinfo.clientImage),
  };

  if (
    dataplaneMode === "ambient" &&
    locality !== "off" &&
    KUBERNETES_VERSION.test(cluster.kubernetesVersion) &&
    !supportsTrafficDistribution(cluster.kubernetesVersion)
  ) {
    r.problem(
      "cluster.kubernetesVersion",
      cluster.kubernetesVersion,
      `v1.${TRAFFIC_DISTRIBUTION_MIN_MINOR} or newer: ambient locality needs Service \`spec.trafficDistribution\` (beta and on by default from v1.${TRAFFIC_DISTRIBUTION_MIN_MINOR}); or set \`locality\` to \`off\``,
    );
  }

  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return { stack, dataplaneMode, locality, waypoint, mtls, zones, cluster, istio, bookinfo, versions };
}

/**
 * Reads this stack's configuration from Pulumi config and validates it; `deployed` are the versions
 * the stack runs, when it runs.
 */
export function loadConfig(deployed?: DeployedVersions): StackConfig {
  const config = new pulumi.Config(PROJECT);
  const raw: RawConfig = {
    dataplaneMode: config.get("dataplaneMode"),
    locality: config.get("locality"),
    waypoint: config.get("waypoint"),
    mtls: config.get("mtls"),
    zones: config.getObject<unknown>("zones"),
    cluster: config.getObject<unknown>("cluster"),
    istio: config.getObject<unknown>("istio"),
    bookinfo: config.getObject<unknown>("bookinfo"),
  };
  return parseConfig(raw, pulumi.getStack(), readableFile, deployed);
}

/** Where minikube writes this profile's kubeconfig, instead of the machine's default one: named by the profile alone. */
export function minikubeKubeconfigPath(profile: string): string {
  return path.join(os.homedir(), ".kube", `${profile}.yaml`);
}
