/**
 * The versions the program installs: one row per Istio minor it knows, with what each minor needs
 * (Kubernetes, the Gateway API bundle), how long it is supported, whether the project's tests judge it, and
 * where it behaves differently for this program. Part of the contract: it imports nothing.
 */

/** A Kubernetes minor, `1.<minor>`. */
export interface KubernetesRange {
  /** The oldest `1.<min>` the Istio minor supports. */
  min: number;
  /** The newest `1.<max>` the Istio minor supports. */
  max: number;
}

/** What one Istio minor needs and does, each fact with its source beside it. */
export interface IstioMinor {
  /** `1.30`. */
  minor: string;
  /** The newest patch this project knows of; where a deployed stack of this minor should be. */
  newestPatch: string;
  /** Supported Kubernetes minors; undefined where no source here gives them. */
  kubernetes?: KubernetesRange;
  /** The Gateway API release its `go.mod` requires, whose standard CRDs a waypoint needs. */
  gatewayApi?: string;
  /** When upstream support ends (`YYYY-MM-DD`, or `YYYY-MM` where the day is not published). */
  endOfLife?: string;
  /** Whether the cluster tier runs this minor's istiod, so Istio's own code judges what users get. */
  judgedByTests: boolean;
  /** Where this minor behaves differently for the program, said at preview. */
  differences: string[];
}

/**
 * Istio's minors from the original post's to the newest whose name is served, oldest first. Sources:
 * istio.io `data/compatibility/supportStatus.yml` (the support table: Kubernetes range, end of life),
 * `content/en/news/releases/1.NN.x/` (release and patch notes) and `content/en/news/support/` (end of
 * life notices); istio/istio's `go.mod` at each release (Gateway API) and `releasenotes/notes/`.
 */
export const ISTIO_MINORS: readonly IstioMinor[] = [
  {
    // Support table: K8s 1.29–1.33, end of life 2025-12-22; newest patch notes: 1.26.8 (2025-12-22);
    // go.mod at 1.26.8: sigs.k8s.io/gateway-api v1.3.0.
    minor: "1.26",
    newestPatch: "1.26.8",
    kubernetes: { min: 29, max: 33 },
    gatewayApi: "v1.3.0",
    endOfLife: "2025-12-22",
    judgedByTests: false,
    differences: [
      // manifests/charts/istio-control/istio-discovery/files/waypoint.yaml; removed in 1.28.0
      // (releasenotes/notes/waypoint-termination-grace-period.yaml).
      "its waypoint template hard-codes `terminationGracePeriodSeconds: 2`; the program's waypoint parameters set Bookinfo's grace period over it",
      // Fixed by istio/istio#60423 in 1.28.8, 1.29.4 and 1.30.1; never in 1.26 or 1.27.
      "one Service with `publishNotReadyAddresses: true` turns every `PreferClose` Service's ztunnel health policy to ALLOW_ALL until istiod restarts",
      // istio/istio#59367 (releasenotes/notes/webhook-failurepolicy-upgrade.yaml), first in 1.28.6, 1.29.2, 1.30.0.
      "its charts render the validating webhooks with `failurePolicy: Ignore` on every Helm upgrade (every switch upgrades istiod): Istio's validation fails open until istiod sets it back",
      // The istio-cni and ztunnel DaemonSet templates at 1.26.6.
      "its cni and ztunnel DaemonSets hard-code their tolerations: `istio.values` tolerations do nothing there",
      // releasenotes/notes/55848.yaml (1.27).
      "ztunnel acts on the literal `PreferClose` only (1.27 adds `PreferSameZone` and `PreferSameNode`)",
      // ENABLE_NATIVE_SIDECARS defaults to false until 1.27 (releasenotes/notes/native-sidecar-default.yaml).
      "sidecars are not native sidecars (init containers) by default",
    ],
  },
  {
    // Support table: K8s 1.29–1.33, end of life 2026-04-07; newest patch notes: 1.27.9 (2026-04-07);
    // go.mod at 1.27.0 and 1.27.9: v1.3.0.
    minor: "1.27",
    newestPatch: "1.27.9",
    kubernetes: { min: 29, max: 33 },
    gatewayApi: "v1.3.0",
    endOfLife: "2026-04-07",
    judgedByTests: false,
    differences: [
      "its waypoint template hard-codes `terminationGracePeriodSeconds: 2`; the program's waypoint parameters set Bookinfo's grace period over it",
      "one Service with `publishNotReadyAddresses: true` turns every `PreferClose` Service's ztunnel health policy to ALLOW_ALL until istiod restarts",
      "its charts render the validating webhooks with `failurePolicy: Ignore` on every Helm upgrade: Istio's validation fails open until istiod sets it back",
    ],
  },
  {
    // Support table: K8s 1.30–1.34, end of life 2026-07-01; newest patch notes: 1.28.10 (2026-07-01);
    // go.mod at 1.28.10: v1.4.1.
    minor: "1.28",
    newestPatch: "1.28.10",
    kubernetes: { min: 30, max: 34 },
    gatewayApi: "v1.4.1",
    endOfLife: "2026-07-01",
    judgedByTests: false,
    differences: [
      "before 1.28.6 its charts render the validating webhooks with `failurePolicy: Ignore` on every Helm upgrade; before 1.28.8 one Service with `publishNotReadyAddresses: true` turns every `PreferClose` Service's ztunnel health policy to ALLOW_ALL",
    ],
  },
  {
    // Support table: K8s 1.31–1.35; end of life 2026-10-12 (content/en/news/support/announcing-1.29-eol);
    // newest patch notes: 1.29.8 (2026-09-21); go.mod at 1.29.6: v1.4.1.
    minor: "1.29",
    newestPatch: "1.29.8",
    kubernetes: { min: 31, max: 35 },
    gatewayApi: "v1.4.1",
    endOfLife: "2026-10-12",
    judgedByTests: false,
    differences: [
      "before 1.29.2 its charts render the validating webhooks with `failurePolicy: Ignore` on every Helm upgrade; before 1.29.4 one Service with `publishNotReadyAddresses: true` turns every `PreferClose` Service's ztunnel health policy to ALLOW_ALL",
    ],
  },
  {
    // Support table and announcing-1.30: K8s 1.32–1.36, released 2026-05-18; supported until six weeks
    // after 1.32.0, which no source here dates (the table says "~Nov 2026, expected"); newest patch
    // notes: 1.30.5 (2026-09-21); go.mod at 1.30.0 and 1.30.3: v1.5.1.
    minor: "1.30",
    newestPatch: "1.30.5",
    kubernetes: { min: 32, max: 36 },
    gatewayApi: "v1.5.1",
    judgedByTests: true,
    differences: [],
  },
  {
    // announcing-1.31 (released 2026-08-31; the support table has no 1.31 row yet): K8s 1.32–1.36;
    // newest patch notes: 1.31.1 (2026-09-21); go.mod at release-1.31: v1.6.0. The module proxy does
    // not serve istio.io/istio's release-1.31, so the cluster tier cannot build its istiod.
    minor: "1.31",
    newestPatch: "1.31.1",
    kubernetes: { min: 32, max: 36 },
    gatewayApi: "v1.6.0",
    judgedByTests: false,
    differences: [
      // releasenotes/notes/60690.yaml; 1.31 upgrade notes.
      "istiod sends unhealthy endpoints by default (`PILOT_AUTO_SEND_UNHEALTHY_ENDPOINTS`) unless a DestinationRule sets `outlierDetection.minHealthPercent`",
      // releasenotes/notes/network-preferred-not-required.yaml.
      "failover prefers the network instead of requiring it",
      // The Gateway API v1.6 CRDs' safe-upgrades policy refuses v1.5 ones afterwards.
      "its Gateway API v1.6.0 CRDs cannot be replaced by 1.30's v1.5.1 once installed",
    ],
  },
  {
    // istio.io/api and istio.io/client-go v1.32.0 are served by the Go module proxy; no release note,
    // support table row or go.mod of a 1.32 release is readable here, so its Kubernetes range and
    // Gateway API bundle are not known.
    minor: "1.32",
    newestPatch: "1.32.0",
    judgedByTests: false,
    differences: [],
  },
];

/**
 * When upstream stops patching a Kubernetes minor (kubernetes.io/releases/1.NN pages for 1.33–1.37;
 * 1.32's page is not stored here, its date is the same 14-month cycle's).
 */
export const KUBERNETES_END_OF_LIFE: Readonly<Record<number, string>> = {
  32: "2026-02-28",
  33: "2026-06-28",
  34: "2026-10-27",
  35: "2027-02-28",
  36: "2027-06-28",
  37: "2027-10-28",
};

/** Istio's version the program installs on a new stack: the newest patch of the minor the tests judge. */
export const DEFAULT_ISTIO_VERSION = "1.30.5";

/**
 * Kubernetes the program's minikube clusters run on a new stack: the newest minor the default Istio
 * supports, at the patch the cluster tier's control plane is built from.
 */
export const DEFAULT_KUBERNETES_VERSION = "v1.36.5";

/**
 * What a stack deployed before the program recorded its versions runs: the original post's Istio and
 * Kubernetes, the defaults of every commit until then.
 */
export const UNRECORDED_VERSIONS = { istio: "1.26.6", kubernetes: "v1.32.0" } as const;

/** The Gateway API's release of its standard CRDs. */
export function gatewayApiCrdsUrl(version: string): string {
  return `https://github.com/kubernetes-sigs/gateway-api/releases/download/${version}/standard-install.yaml`;
}

/** `1.30` of `1.30.5`; undefined when malformed. */
export function istioMinorOf(version: string): string | undefined {
  return /^(\d+\.\d+)\.\d+$/.exec(version)?.[1];
}

/** The row of an Istio version's minor, or undefined when the program does not know it. */
export function istioMinor(version: string): IstioMinor | undefined {
  const minor = istioMinorOf(version);
  return ISTIO_MINORS.find((row) => row.minor === minor);
}

/** The minor rows from one version's to another's, both included, in the order an upgrade takes them. */
export function minorPath(from: string, to: string): string[] {
  const index = (version: string) => ISTIO_MINORS.findIndex((row) => row.minor === istioMinorOf(version));
  const [a, b] = [index(from), index(to)];
  if (a < 0 || b < 0) return [];
  const rows = a <= b ? ISTIO_MINORS.slice(a, b + 1) : ISTIO_MINORS.slice(b, a + 1).reverse();
  return rows.map((row) => row.minor);
}

/**
 * When a minor's support ends, in words: its date where Istio published one, else Istio's rule that a
 * minor is supported until six weeks after the minor two after it is released.
 */
export function endOfLifeText(row: IstioMinor): string {
  if (row.endOfLife !== undefined) return row.endOfLife;
  const [major, minor] = row.minor.split(".").map(Number);
  return `six weeks after ${major}.${minor + 2}.0`;
}

/** The minor whose istiod the cluster tier runs. */
export function testedMinor(): IstioMinor {
  const judged = ISTIO_MINORS.filter((row) => row.judgedByTests);
  if (judged.length !== 1) throw new Error("the version table must name exactly one minor the tests judge");
  return judged[0];
}

/** Where a version a run installs comes from. */
export type VersionSource = "config" | "deployed" | "default";

/** The versions a deployed stack runs, from its last run's outputs. */
export interface DeployedVersions {
  istio: string;
  kubernetes: string;
  /**
   * Whether its last run recorded them. A stack deployed before they were recorded runs the post's
   * versions unless its config named others, which no record tells: it keeps the post's when its
   * config names none, and a version it names is not judged against them.
   */
  recorded: boolean;
}

/** The versions one run installs, and where each came from. */
export interface VersionChoice {
  istio: { version: string; source: VersionSource };
  kubernetes: { version: string; source: VersionSource };
}

/** A problem with a version key, in the parts every configuration error names. */
export interface VersionProblem {
  key: "istio.version" | "cluster.kubernetesVersion";
  value: string;
  expected: string;
}

/** The minor of a Kubernetes version (`36` of `v1.36.5`, or of an API server's `v1.36.5+k3s1`). */
function kubernetesMinorOf(version: string): number | undefined {
  const match = /^v1\.(\d+)\./.exec(version);
  return match ? Number(match[1]) : undefined;
}

/**
 * The Kubernetes range of an Istio minor in words (`v1.32 to v1.36`) when a Kubernetes version lies
 * outside it; undefined when it lies within, or when the range or the version is not known.
 */
export function outsideKubernetesRange(row: IstioMinor, kubernetesVersion: string): string | undefined {
  const minor = kubernetesMinorOf(kubernetesVersion);
  if (!row.kubernetes || minor === undefined) return undefined;
  const { min, max } = row.kubernetes;
  return minor < min || minor > max ? `v1.${min} to v1.${max}` : undefined;
}

/**
 * The versions a run installs. A version the stack's config names wins; otherwise a deployed stack
 * keeps what it runs, so a new default never upgrades Istio under live traffic nor — through the
 * minikube command's triggers — recreates a cluster; a new stack gets the defaults. Then the
 * choice is judged against the table: a minor the program knows, Kubernetes within its range, and
 * on a deployed stack at most one minor away from what it runs (Istio supports a control plane one
 * minor ahead of its data plane, no more).
 */
export function chooseVersions(
  named: { istio?: string; kubernetes?: string },
  deployed: DeployedVersions | undefined,
): { choice: VersionChoice; problems: VersionProblem[] } {
  const pick = (name: string | undefined, kept: string | undefined, fallback: string) =>
    name !== undefined
      ? { version: name, source: "config" as const }
      : kept !== undefined
        ? { version: kept, source: "deployed" as const }
        : { version: fallback, source: "default" as const };
  const choice: VersionChoice = {
    istio: pick(named.istio, deployed?.istio, DEFAULT_ISTIO_VERSION),
    kubernetes: pick(named.kubernetes, deployed?.kubernetes, DEFAULT_KUBERNETES_VERSION),
  };
  const problems: VersionProblem[] = [];
  const istio = choice.istio.version;
  const row = istioMinor(istio);
  if (!row) {
    problems.push({
      key: "istio.version",
      value: istio,
      expected: `a version of an Istio minor this program knows (${ISTIO_MINORS.map((r) => r.minor).join(", ")}), such as \`${DEFAULT_ISTIO_VERSION}\``,
    });
    return { choice, problems };
  }
  const range = outsideKubernetesRange(row, choice.kubernetes.version);
  if (range) {
    problems.push({
      key: "cluster.kubernetesVersion",
      value: choice.kubernetes.version,
      expected: `a Kubernetes version Istio ${row.minor} supports, ${range}`,
    });
  }
  if (deployed?.recorded && istioMinor(deployed.istio)) {
    const path = minorPath(deployed.istio, istio);
    if (path.length > 2) {
      problems.push({
        key: "istio.version",
        value: istio,
        expected:
          `at most one minor from the Istio ${deployed.istio} this stack runs; ` +
          `move one minor per \`up\`: ${path.join(" → ")}`,
      });
    }
  }
  return { choice, problems };
}

/**
 * What preview says about the versions of a run: a default the stack did not take and how to move,
 * an Istio past its end of life or behind its minor's newest patch, and a minor whose behaviour
 * the tests do not judge, with where it differs from the one it does.
 */
export function versionNotes(
  choice: VersionChoice,
  provider: "minikube" | "existing",
  today: Date,
): string[] {
  const notes: string[] = [];
  const istio = choice.istio.version;
  const row = istioMinor(istio);
  if (choice.istio.source === "deployed" && istio !== DEFAULT_ISTIO_VERSION) {
    // The next minor on the way to the default's, whichever way that is; none within the same minor.
    const path = minorPath(istio, DEFAULT_ISTIO_VERSION);
    const next = ISTIO_MINORS.find((candidate) => candidate.minor === path[1]);
    const step = next
      ? `one minor per \`up\`, ${path.join(" → ")} (next: \`${next.newestPatch}\`)`
      : `\`${DEFAULT_ISTIO_VERSION}\``;
    notes.push(
      `this stack keeps the Istio ${istio} it runs; new stacks get ${DEFAULT_ISTIO_VERSION}. ` +
        `To move, set \`istio-locality:istio.version\`: ${step}`,
    );
  }
  if (choice.kubernetes.source === "deployed" && choice.kubernetes.version !== DEFAULT_KUBERNETES_VERSION) {
    notes.push(
      `this stack keeps the Kubernetes ${choice.kubernetes.version} it runs; new stacks get ${DEFAULT_KUBERNETES_VERSION}` +
        (provider === "minikube"
          ? ". Setting `istio-locality:cluster.kubernetesVersion` on a minikube stack deletes and recreates its cluster"
          : ""),
    );
  }
  const kubernetesMinor = kubernetesMinorOf(choice.kubernetes.version);
  const kubernetesEnd = kubernetesMinor === undefined ? undefined : KUBERNETES_END_OF_LIFE[kubernetesMinor];
  if (kubernetesEnd !== undefined && kubernetesEnd <= isoDay(today)) {
    notes.push(
      `Kubernetes v1.${kubernetesMinor} reached its upstream end of life on ${kubernetesEnd}; new stacks get ${DEFAULT_KUBERNETES_VERSION}`,
    );
  }
  if (!row) return notes;
  if (row.endOfLife !== undefined && row.endOfLife <= isoDay(today)) {
    notes.push(
      `Istio ${row.minor} reached its end of life on ${row.endOfLife}: it gets no security fixes. ` +
        `The newest supported release this project's tests judge is ${DEFAULT_ISTIO_VERSION}`,
    );
  } else if (comparePatch(istio, row.newestPatch) < 0) {
    notes.push(`Istio ${istio} is not the newest ${row.minor} patch: ${row.newestPatch} carries its fixes`);
  }
  if (!row.judgedByTests) {
    const tested = testedMinor();
    notes.push(
      `this project's tests judge Istio ${tested.minor} by its own istiod; ${row.minor}'s webhook, injection and proxy configuration are not judged by them` +
        (row.differences.length > 0 ? `. Where ${row.minor} differs: ${row.differences.join("; ")}` : ""),
    );
  }
  return notes;
}

const isoDay = (date: Date): string => date.toISOString().slice(0, 10);

const comparePatch = (a: string, b: string): number => Number(a.split(".")[2]) - Number(b.split(".")[2]);
