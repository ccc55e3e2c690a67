import { LiveMesh, readMesh } from "../../readers/live-mesh";
import {
  AppsV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  Exec,
  KubeConfig,
  V1Deployment,
  V1Node,
  V1Pod,
  V1Status,
} from "@kubernetes/client-node";
import { Writable } from "node:stream";
import { describeFailure } from "./failure";
import { HEALTH_SLICE_SELECTOR, HealthSnapshot, healthFromEndpointSlices } from "./workloads";

/** Shown as the field manager of every change the tools make, so they are recognisable in managedFields. */
export const FIELD_MANAGER = "istio-locality-cli";

/** What one exec produced. */
export interface ExecRun {
  stdout: string;
  /** The status the API server sent when the command ended. */
  status?: V1Status;
  /** Set when the exec could not start at all. */
  startError?: string;
}

function collector(chunks: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
}

/** A stack's Bookinfo namespace (and its nodes), reached with the stack's own kubeconfig. */
export class BookinfoClient {
  private readonly config: KubeConfig;
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly discovery: DiscoveryV1Api;
  private readonly exec: Exec;

  /** @param kubeconfig the stack's `kubeconfig` output (YAML); never the machine's default context. */
  constructor(
    kubeconfig: string,
    readonly namespace: string,
  ) {
    const config = new KubeConfig();
    config.loadFromString(kubeconfig);
    this.config = config;
    this.core = config.makeApiClient(CoreV1Api);
    this.apps = config.makeApiClient(AppsV1Api);
    this.discovery = config.makeApiClient(DiscoveryV1Api);
    this.exec = new Exec(config);
  }
  /** What of each dataplane the cluster runs now (see `readers/live-mesh.ts`). */
  mesh(): Promise<LiveMesh> {
    return readMesh(this.config, this.namespace);
  }

  /** All nodes. */
  async nodes(): Promise<V1Node[]> {
    return (await this.core.listNode()).body.items;
  }

  /** Pods in the namespace matching a label selector. */
  async pods(labelSelector: string): Promise<V1Pod[]> {
    return (
      await this.core.listNamespacedPod(
        this.namespace,
        undefined,
        undefined,
        undefined,
        undefined,
        labelSelector,
      )
    ).body.items;
  }

  /** Deployments in the namespace. */
  async deployments(): Promise<V1Deployment[]> {
    return (await this.apps.listNamespacedDeployment(this.namespace)).body.items;
  }

  /** Ready reviews and productpage endpoints per zone. */
  async health(zones: readonly string[], nodeZones: Record<string, string>): Promise<HealthSnapshot> {
    const slices = await this.discovery.listNamespacedEndpointSlice(
      this.namespace,
      undefined,
      undefined,
      undefined,
      undefined,
      HEALTH_SLICE_SELECTOR,
    );
    return healthFromEndpointSlices(slices.body.items, zones, nodeZones);
  }

  /** Runs a shell script in a container, waiting for it to end (or for the time limit or the signal). */
  async execScript(
    pod: string,
    container: string,
    script: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<ExecRun> {
    const out: Buffer[] = [];
    let status: V1Status | undefined;
    let socket: Awaited<ReturnType<Exec["exec"]>>;
    try {
      socket = await this.exec.exec(
        this.namespace,
        pod,
        container,
        ["sh", "-c", script],
        collector(out),
        null,
        null,
        false,
        (s) => (status = s),
      );
    } catch (error) {
      return { stdout: "", startError: describeFailure(error) };
    }
    await new Promise<void>((resolve) => {
      const stop = (): void => socket.close();
      const timer = setTimeout(stop, timeoutMs);
      signal?.addEventListener("abort", stop, { once: true });
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", stop);
        resolve();
      };
      if (socket.readyState === socket.CLOSED) done();
      else socket.once("close", done);
    });
    return {
      stdout: Buffer.concat(out).toString("utf8"),
      status,
    };
  }

  /** Sets a Deployment's replicas through its scale subresource. */
  async scaleDeployment(name: string, replicas: number): Promise<void> {
    const { body } = await this.apps.readNamespacedDeploymentScale(name, this.namespace);
    body.spec = { ...body.spec, replicas };
    await this.apps.replaceNamespacedDeploymentScale(
      name,
      this.namespace,
      body,
      undefined,
      undefined,
      FIELD_MANAGER,
    );
  }

  /** Creates a pod. */
  async createPod(pod: V1Pod): Promise<void> {
    await this.core.createNamespacedPod(this.namespace, pod, undefined, undefined, FIELD_MANAGER);
  }

  /** Deletes the pods matching a label selector; returns their names. */
  async deletePods(labelSelector: string): Promise<string[]> {
    const pods = await this.pods(labelSelector);
    await Promise.all(
      pods.map((pod) =>
        this.core.deleteNamespacedPod(pod.metadata!.name!, this.namespace).catch(() => undefined),
      ),
    );
    return pods.map((pod) => pod.metadata!.name!);
  }

  /** A container's whole log. */
  async podLog(pod: string, container: string): Promise<string> {
    return (await this.core.readNamespacedPodLog(pod, this.namespace, container)).body;
  }
}
