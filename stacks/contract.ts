/**
 * The contract between the Pulumi program and the tools that work on its stacks: config keys, the
 * closed sets and defaults, the labels and annotations both sides read, and the stack outputs. It
 * imports only the version table, which imports nothing, so a tool that loads it loads no Pulumi SDK.
 */
import { DEFAULT_ISTIO_VERSION, DEFAULT_KUBERNETES_VERSION } from "./versions";

/** The project's config namespace. */
export const PROJECT = "istio-locality";

/** A key of this project's stack config, as the Pulumi CLI and stack files spell it. */
export function configKey(key: string): string {
  return `${PROJECT}:${key}`;
}

/** The stack config key that selects the data plane. */
export const MODE_KEY = configKey("dataplaneMode");

/** How workloads join the mesh: an Envoy sidecar per pod, or the per-node ztunnel. */
export type DataplaneMode = "sidecar" | "ambient";
/** The one locality intent; `stacks/modes.ts` renders it for the dataplane in force. */
export type LocalityIntent = "strict" | "failover" | "off";
export type ReviewsVersion = "v1" | "v2" | "v3";
/**
 * When ambient mode routes Bookinfo's services through a zonal waypoint: `auto` for `strict` (the only
 * way ambient keeps traffic strictly in its zone), `always` with any intent, `never`.
 */
export type WaypointChoice = "auto" | "always" | "never";
/** Mesh-wide mTLS: `permissive` accepts plaintext too (Istio's default), `strict` only mTLS. */
export type MtlsMode = "permissive" | "strict";

/** Istio's Helm charts, by their published names: the releases, and the keys `istio.values` allows. */
export type IstioChart = "base" | "istiod" | "cni" | "ztunnel" | "gateway";

export const DATAPLANE_MODES: readonly DataplaneMode[] = ["sidecar", "ambient"];
export const ISTIO_CHARTS: readonly IstioChart[] = ["base", "istiod", "cni", "ztunnel", "gateway"];
export const LOCALITY_INTENTS: readonly LocalityIntent[] = ["strict", "failover", "off"];
export const REVIEWS_VERSIONS: readonly ReviewsVersion[] = ["v1", "v2", "v3"];
export const WAYPOINT_CHOICES: readonly WaypointChoice[] = ["auto", "always", "never"];
export const MTLS_MODES: readonly MtlsMode[] = ["permissive", "strict"];

/** Whether a value read from a stack file or a stack's outputs names a mode. */
export function isDataplaneMode(value: unknown): value is DataplaneMode {
  return (DATAPLANE_MODES as readonly unknown[]).includes(value);
}

/** The mode a switch goes to when none is named. */
export function otherMode(mode: DataplaneMode): DataplaneMode {
  return mode === "sidecar" ? "ambient" : "sidecar";
}

/** Node labels that carry locality, read by Istio and by the scheduler. */
export const ZONE_LABEL = "topology.kubernetes.io/zone";
export const REGION_LABEL = "topology.kubernetes.io/region";

/** Pod-template annotation whose value is the mode: changing the mode restarts the pods that carry it. */
export const MODE_ANNOTATION = "istio-locality.dev/dataplane-mode";

/** The waypoint's name, and the label that sends a namespace's services through it. */
export const WAYPOINT = {
  name: "waypoint",
  useLabel: "istio.io/use-waypoint",
  /** The label Istio puts on every pod of the Deployment it generates for a Gateway. */
  podLabel: "gateway.networking.k8s.io/gateway-name",
} as const;

/** Labels of every Bookinfo and client pod: the service, its version and the zone it is pinned to. */
export const POD_LABELS = { app: "app", version: "version", zone: "zone" } as const;

/** The per-zone client pods the checks exec into: their `app` label and their one container's name. */
export const CLIENT = { app: "client", container: "client" } as const;

/** Bookinfo's services the checks send to, and their port. */
export const BOOKINFO_SERVICES = ["details", "ratings", "reviews", "productpage"] as const;
export type BookinfoService = (typeof BOOKINFO_SERVICES)[number];
export const BOOKINFO_PORT = 9080;

/**
 * How many resource operations the project's tools let the engine run at once (`--parallel`). The
 * engine's default, 4 × the machine's CPUs, made the Deployments of one migration step wait for each
 * other: at 12 zones, 51 rollouts went 8 at a time on 2 cores. Each operation is an API call and a
 * wait on the cluster, not work on this machine, so the graph's own width should bound it; 128 covers
 * the widest step (a rollout of every Bookinfo Deployment: 4 per zone and 3 reviews) up to 31 zones.
 */
export const ENGINE_PARALLEL = 128;

/**
 * Defaults; `Pulumi.yaml` declares the same, which mocks and the automation API do not see — except
 * the versions, which it leaves out so the program can tell a version a stack names from one it
 * runs (see `chooseVersions`), and the Gateway API CRDs, whose release follows the Istio minor.
 */
export const DEFAULTS = {
  dataplaneMode: "sidecar" as DataplaneMode,
  locality: "strict" as LocalityIntent,
  waypoint: "auto" as WaypointChoice,
  mtls: "permissive" as MtlsMode,
  zones: ["zone-a", "zone-b", "zone-c"],
  cluster: {
    provider: "minikube" as const,
    nodes: 3,
    cpus: 2,
    memoryMb: 4096,
    driver: "podman" as const,
    kubernetesVersion: DEFAULT_KUBERNETES_VERSION,
    region: "region-1",
  },
  istio: {
    version: DEFAULT_ISTIO_VERSION,
    /** Where Istio publishes the charts of every release since it left storage.googleapis.com (December 2026). */
    chartRepository: "https://blob.istio.io/istio-release/charts",
    hub: "docker.io/istio",
    ingressGateway: true,
    ingressServiceType: "NodePort" as const,
  },
  bookinfo: {
    namespace: "bookinfo",
    imageTag: "1.20.2",
    replicasPerZone: 1,
    minReadySeconds: 10,
    clientImage: "curlimages/curl:8.16.0",
  },
};

/** Every stack output the program exports; the `Lab` component's outputs are typed against it. */
export interface StackOutputs {
  dataplaneMode: DataplaneMode;
  locality: LocalityIntent;
  /** How the program carries out the intent in this mode, in words. */
  localityMechanism: string;
  /** The intent the data plane carries out now: `strict` in ambient only through the zonal waypoint. */
  carriedIntent: LocalityIntent;
  /** The zonal waypoint Bookinfo's services go through (`waypoint.<namespace>`), or `none`. */
  waypoint: string;
  mtls: MtlsMode;
  zones: string[];
  /** Node name → zone as the program labelled them (empty when the nodes came labelled). */
  nodeZones: Record<string, string>;
  /** Full kubeconfig YAML (a secret output). */
  kubeconfig: string;
  istioReleases: string[];
  /** The Istio version the stack runs; absent on stacks deployed before it was recorded (they run 1.26.6). */
  istioVersion: string;
  /** The Kubernetes version the stack's config names or keeps; absent like `istioVersion` (then v1.32.0). */
  kubernetesVersion: string;
  bookinfoNamespace: string;
  bookinfoServices: BookinfoService[];
  reviewsZones: Record<ReviewsVersion, string>;
  clientImage: string;
  /** The switch this run performed (`sidecar → ambient`), or `none`. */
  migration: string;
  /** A ready-to-run command that prints productpage's title. */
  productpage: string;
}

/** The outputs the tools read; the others are for people. */
export type ToolOutputs = Pick<
  StackOutputs,
  | "dataplaneMode"
  | "locality"
  | "localityMechanism"
  | "zones"
  | "nodeZones"
  | "kubeconfig"
  | "bookinfoNamespace"
  | "reviewsZones"
  | "clientImage"
> &
  /** Absent on stacks deployed before waypoints; they carried `strict` in ambient as `failover`. */
  Partial<Pick<StackOutputs, "carriedIntent">>;

/** A stack's outputs lack what the tools need, or are not what this program exports. */
export class StackOutputsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StackOutputsError";
  }
}

/** Stack outputs as the automation API returns them. */
export type OutputMap = Record<string, { value: unknown; secret?: boolean } | undefined>;

const isString = (value: unknown): value is string => typeof value === "string" && value.length > 0;
const isStringRecord = (value: unknown): value is Record<string, string> =>
  !!value &&
  typeof value === "object" &&
  !Array.isArray(value) &&
  Object.values(value).every((v) => typeof v === "string");
const oneOf =
  <T extends string>(allowed: readonly T[]) =>
  (value: unknown): value is T =>
    typeof value === "string" && (allowed as readonly string[]).includes(value);
const quoted = (values: readonly string[]): string => values.map((v) => `\`${v}\``).join(", ");

/**
 * Reads and checks the outputs the tools rely on. A missing or malformed one means the stack was not
 * deployed with this program (or not yet): the error names the output and what was expected.
 */
export function readToolOutputs(outputs: OutputMap, stackName: string): ToolOutputs {
  const get = <T>(key: keyof ToolOutputs, ok: (value: unknown) => value is T, expected: string): T => {
    const value = outputs[key]?.value;
    if (value === undefined) {
      throw new StackOutputsError(
        `stack \`${stackName}\` has no output \`${key}\`; deploy it first (\`pulumi up\`)`,
      );
    }
    if (!ok(value)) {
      throw new StackOutputsError(
        `stack \`${stackName}\`: output \`${key}\` is ${JSON.stringify(value)}; expected ${expected}`,
      );
    }
    return value;
  };
  return {
    dataplaneMode: get("dataplaneMode", isDataplaneMode, `one of ${quoted(DATAPLANE_MODES)}`),
    locality: get("locality", oneOf(LOCALITY_INTENTS), `one of ${quoted(LOCALITY_INTENTS)}`),
    localityMechanism: get("localityMechanism", isString, "a description"),
    zones: get(
      "zones",
      (value): value is string[] => Array.isArray(value) && value.length > 0 && value.every(isString),
      "a non-empty list of zone names",
    ),
    nodeZones: get("nodeZones", isStringRecord, "a map of node name to zone"),
    kubeconfig: get("kubeconfig", isString, "kubeconfig YAML"),
    bookinfoNamespace: get("bookinfoNamespace", isString, "a namespace name"),
    reviewsZones: get(
      "reviewsZones",
      (value): value is Record<ReviewsVersion, string> =>
        isStringRecord(value) && REVIEWS_VERSIONS.every((version) => isString(value[version])),
      `a map of reviews version (${quoted(REVIEWS_VERSIONS)}) to zone`,
    ),
    clientImage: get("clientImage", isString, "an image name"),
    ...(outputs.carriedIntent === undefined
      ? {}
      : {
          carriedIntent: get("carriedIntent", oneOf(LOCALITY_INTENTS), `one of ${quoted(LOCALITY_INTENTS)}`),
        }),
  };
}

/** Where a stack's current mode was read from. */
export type ModeSource = "cluster" | "last run" | "stack config" | "project default";

/**
 * The mode a stack runs now, the one rule every tool uses: the one whole mode its cluster runs
 * (`cluster`, see `readers/live-mesh.ts`); else what its last run recorded in its outputs; for a
 * stack that never ran, the mode its config names, else the project default. Neither the outputs
 * nor the config alone are the truth after a cancelled or failed `up`: both then name the target
 * mode while the cluster is part-way there.
 */
export function currentMode(
  lastRun: DataplaneMode | undefined,
  configured: DataplaneMode | undefined,
  inCluster?: DataplaneMode,
): { mode: DataplaneMode; source: ModeSource } {
  if (inCluster) return { mode: inCluster, source: "cluster" };
  if (lastRun) return { mode: lastRun, source: "last run" };
  if (configured) return { mode: configured, source: "stack config" };
  return { mode: DEFAULTS.dataplaneMode, source: "project default" };
}
