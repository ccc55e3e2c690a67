import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as k8s from "@kubernetes/client-node";
import { ISTIO_NAMESPACE, LAB_ISTIOD_REQUESTS } from "../../stacks/istio-releases";
import { proxyContainer } from "../../readers/live-mesh";

/** Where the test cluster's istiod listens: loopback only, the webhook port as in the pod. */
export const TEST_ISTIOD = {
  host: "127.0.0.1",
  xds: 15010,
  secureXds: 15012,
  webhook: 15017,
  http: 18080,
  monitoring: 15014,
};

/**
 * The Helm values the test cluster sets through `istio.values` so that the API server calls the local
 * istiod: its webhooks by URL, since nothing behind the `istiod` Service runs in a kwok cluster.
 */
export function testIstioValues(): Record<string, unknown> {
  const base = `https://${TEST_ISTIOD.host}:${TEST_ISTIOD.webhook}`;
  return {
    base: { base: { validationURL: `${base}/validate` } },
    istiod: {
      istiodRemote: { injectionURL: `${base}/inject` },
      base: { validationURL: `${base}/validate` },
      // The test cluster's nodes are minikube's size; the program sizes istiod so on minikube.
      pilot: { resources: { requests: LAB_ISTIOD_REQUESTS } },
    },
  };
}

/** The annotation istio-cni's node agent puts on every pod it has captured for ztunnel. */
export const REDIRECTION_ANNOTATION = "ambient.istio.io/redirection";
const AMBIENT_LABEL = "istio.io/dataplane-mode";

/** One start of pilot-discovery, for the istiod pod it plays. */
export interface IstiodRun {
  pod: string;
  startedAt: number;
  readyAt?: number;
  env: Record<string, string>;
  args: string[];
}

/**
 * Plays, on the test cluster, the two parts of Istio that run as pods with real work to do:
 *
 * - **istiod**: for the newest istiod pod that the program's Helm release created, it runs
 *   `pilot-discovery` as a local process with that pod's arguments and environment (mesh config and
 *   injection templates come from the release's ConfigMaps, which istiod reads through the API), and
 *   restarts it when a new pod replaces that one, as the switch's istiod upgrade does.
 * - **istio-cni's node agent**, while its DaemonSet exists: it marks each pod of an ambient
 *   namespace that has no sidecar as captured (`ambient.istio.io/redirection: enabled`), and unmarks
 *   it when the namespace leaves ambient, which is what istiod reads to send such a pod's traffic to
 *   ztunnel over HBONE.
 */
export class TestIstiod {
  readonly runs: IstiodRun[] = [];
  private readonly core: k8s.CoreV1Api;
  private readonly apps: k8s.AppsV1Api;
  private child?: ChildProcess;
  private playing?: string;
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private readonly workDir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-locality-istiod-"));
  private readonly logPath = path.join(this.workDir, "pilot-discovery.log");

  constructor(
    private readonly kubeconfigPath: string,
    private readonly binary: string,
  ) {
    const config = new k8s.KubeConfig();
    config.loadFromFile(kubeconfigPath);
    this.core = config.makeApiClient(k8s.CoreV1Api);
    this.apps = config.makeApiClient(k8s.AppsV1Api);
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), 500);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.stopProcess();
  }

  /** The last lines istiod printed, for a failure message. */
  logTail(lines = 40): string {
    if (!fs.existsSync(this.logPath)) return "";
    return fs.readFileSync(this.logPath, "utf8").trim().split("\n").slice(-lines).join("\n");
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.followIstiod();
      await this.playCni();
    } catch {
      // The API server is briefly unreachable while the test cluster starts or stops; the next tick retries.
    } finally {
      this.ticking = false;
    }
  }

  private async followIstiod(): Promise<void> {
    const pods = (
      await this.core.listNamespacedPod(
        ISTIO_NAMESPACE,
        undefined,
        undefined,
        undefined,
        undefined,
        "app=istiod",
      )
    ).body.items.filter((pod) => !pod.metadata?.deletionTimestamp && pod.status?.podIP);
    pods.sort((a, b) =>
      String(a.metadata!.creationTimestamp).localeCompare(String(b.metadata!.creationTimestamp)),
    );
    const newest = pods[pods.length - 1];
    if (newest?.metadata?.uid === this.playing) {
      await this.checkReady();
      return;
    }
    await this.stopProcess();
    if (newest) this.startProcess(newest);
  }

  private startProcess(pod: k8s.V1Pod): void {
    const container = pod.spec!.containers.find((c) => c.name === "discovery") ?? pod.spec!.containers[0];
    const env = resolveEnv(container.env ?? [], pod);
    const args = localArgs(container.args ?? [], this.kubeconfigPath);
    this.playing = pod.metadata!.uid;
    this.runs.push({ pod: pod.metadata!.name!, startedAt: Date.now(), env, args });
    const log = fs.openSync(this.logPath, "a");
    this.child = spawn(this.binary, args, {
      cwd: this.workDir,
      env: { PATH: process.env.PATH ?? "", HOME: this.workDir, ...env },
      stdio: ["ignore", log, log],
    });
    fs.closeSync(log);
    const child = this.child;
    child.on("exit", () => {
      if (this.child === child) {
        this.child = undefined;
        // A crash is retried on the next tick, as the kubelet restarts a container.
        this.playing = undefined;
      }
    });
  }

  private async checkReady(): Promise<void> {
    const run = this.runs[this.runs.length - 1];
    if (!run || run.readyAt || !this.child) return;
    try {
      const response = await fetch(`http://${TEST_ISTIOD.host}:${TEST_ISTIOD.http}/ready`);
      if (response.ok) run.readyAt = Date.now();
    } catch {
      // Not listening yet.
    }
  }

  private async stopProcess(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.playing = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const forced = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(forced);
  }

  private async playCni(): Promise<void> {
    const cni = await this.apps.listNamespacedDaemonSet(ISTIO_NAMESPACE);
    const cniRuns = cni.body.items.some((d) => d.metadata?.name === "istio-cni-node");
    const ambient = new Set(
      (
        await this.core.listNamespace(undefined, undefined, undefined, undefined, `${AMBIENT_LABEL}=ambient`)
      ).body.items.map((n) => n.metadata!.name!),
    );
    const pods = (await this.core.listPodForAllNamespaces()).body.items;
    for (const pod of pods) {
      const namespace = pod.metadata!.namespace!;
      if (namespace === ISTIO_NAMESPACE || pod.metadata?.deletionTimestamp || !pod.status?.podIP) continue;
      const captured = pod.metadata?.annotations?.[REDIRECTION_ANNOTATION] === "enabled";
      const wanted =
        cniRuns &&
        ambient.has(namespace) &&
        !hasSidecar(pod) &&
        pod.metadata?.labels?.[AMBIENT_LABEL] !== "none";
      if (captured === wanted) continue;
      await this.core.patchNamespacedPod(
        pod.metadata!.name!,
        namespace,
        { metadata: { annotations: { [REDIRECTION_ANNOTATION]: wanted ? "enabled" : null } } },
        undefined,
        undefined,
        "lab-istio-cni",
        undefined,
        undefined,
        { headers: { "Content-Type": k8s.PatchUtils.PATCH_FORMAT_STRATEGIC_MERGE_PATCH } },
      );
    }
  }
}

/** Whether a pod runs Istio's proxy (a waypoint's pod too). */
export const hasSidecar = (pod: k8s.V1Pod): boolean => proxyContainer(pod) !== undefined;

/**
 * A container's environment as the kubelet would give it: literal values, and the downward-API
 * fields istiod's Deployment uses read from the pod it plays. Resource limits (GOMAXPROCS,
 * GOMEMLIMIT) are left to the Go runtime's defaults on this machine.
 */
export function resolveEnv(env: k8s.V1EnvVar[], pod: k8s.V1Pod): Record<string, string> {
  const fields: Record<string, string | undefined> = {
    "metadata.name": pod.metadata?.name,
    "metadata.namespace": pod.metadata?.namespace,
    "spec.serviceAccountName": pod.spec?.serviceAccountName,
    "spec.nodeName": pod.spec?.nodeName,
    "status.podIP": pod.status?.podIP,
    "status.hostIP": pod.status?.hostIP,
  };
  const resolved: Record<string, string> = {};
  for (const variable of env) {
    const value =
      variable.value ??
      (variable.valueFrom?.fieldRef ? fields[variable.valueFrom.fieldRef.fieldPath] : undefined);
    if (value !== undefined) resolved[variable.name] = value;
  }
  // The test cluster's kubeconfig comes by flag, not from a remote-cluster secret mounted in the pod.
  delete resolved.KUBECONFIG;
  // Its serving certificate then covers the loopback address the webhooks and readers use.
  resolved.ISTIOD_CUSTOM_HOST = TEST_ISTIOD.host;
  return resolved;
}

/** The pod's arguments, with every listener on loopback and the test cluster's kubeconfig in place of in-cluster config. */
export function localArgs(args: string[], kubeconfigPath: string): string[] {
  const listeners: Record<string, number> = {
    "--monitoringAddr": TEST_ISTIOD.monitoring,
    "--httpAddr": TEST_ISTIOD.http,
    "--grpcAddr": TEST_ISTIOD.xds,
    "--secureGRPCAddr": TEST_ISTIOD.secureXds,
    "--httpsAddr": TEST_ISTIOD.webhook,
  };
  const kept = args.filter((arg) => !Object.keys(listeners).some((flag) => arg.startsWith(`${flag}=`)));
  return [
    ...kept,
    ...Object.entries(listeners).map(([flag, port]) => `${flag}=${TEST_ISTIOD.host}:${port}`),
    `--kubeconfig=${kubeconfigPath}`,
  ];
}
