import * as k8s from "@kubernetes/client-node";
import { rolloutsPending } from "../../cli/shared/workloads";
import { ZONE_LABEL } from "../../stacks/contract";
import { podReady } from "../../readers/pods";

export interface ServiceEndpoint {
  zone?: string;
  hints: string[];
  ready: boolean;
}

/** Typed clients of one cluster, read through its kubeconfig (never the machine's default). */
export class ClusterReader {
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly discovery: k8s.DiscoveryV1Api;
  readonly extensions: k8s.ApiextensionsV1Api;
  readonly custom: k8s.CustomObjectsApi;
  readonly admission: k8s.AdmissionregistrationV1Api;
  readonly policy: k8s.PolicyV1Api;
  readonly version: k8s.VersionApi;

  constructor(readonly config: k8s.KubeConfig) {
    this.core = config.makeApiClient(k8s.CoreV1Api);
    this.apps = config.makeApiClient(k8s.AppsV1Api);
    this.discovery = config.makeApiClient(k8s.DiscoveryV1Api);
    this.extensions = config.makeApiClient(k8s.ApiextensionsV1Api);
    this.custom = config.makeApiClient(k8s.CustomObjectsApi);
    this.admission = config.makeApiClient(k8s.AdmissionregistrationV1Api);
    this.policy = config.makeApiClient(k8s.PolicyV1Api);
    this.version = config.makeApiClient(k8s.VersionApi);
  }

  static fromFile(path: string): ClusterReader {
    const config = new k8s.KubeConfig();
    config.loadFromFile(path);
    return new ClusterReader(config);
  }

  async namespaceNames(): Promise<string[]> {
    return (await this.core.listNamespace()).body.items.map((n) => n.metadata!.name!);
  }

  async namespaceLabels(name: string): Promise<Record<string, string>> {
    return (await this.core.readNamespace(name)).body.metadata?.labels ?? {};
  }

  async deployments(namespace: string): Promise<k8s.V1Deployment[]> {
    return (await this.apps.listNamespacedDeployment(namespace)).body.items;
  }

  async pods(namespace: string, labelSelector?: string): Promise<k8s.V1Pod[]> {
    return (
      await this.core.listNamespacedPod(namespace, undefined, undefined, undefined, undefined, labelSelector)
    ).body.items;
  }

  /**
   * What keeps a namespace's rollout from having settled: each Deployment still rolling out, as the
   * switch command judges it, and each pod still being deleted. Pulumi's await returns once the new
   * pods are ready, a moment before the replaced pods have left and the status has been recounted.
   */
  async rolloutUnsettled(namespace: string): Promise<string[]> {
    const leaving = (await this.pods(namespace))
      .filter((pod) => pod.metadata?.deletionTimestamp)
      .map((pod) => `${pod.metadata!.name} is still being deleted`);
    return [...rolloutsPending(await this.deployments(namespace)), ...leaving];
  }

  /** Node name → its `topology.kubernetes.io/zone` label (undefined when unlabelled). */
  async nodeZones(): Promise<Record<string, string | undefined>> {
    const nodes = (await this.core.listNode()).body.items;
    return Object.fromEntries(nodes.map((n) => [n.metadata!.name!, n.metadata?.labels?.[ZONE_LABEL]]));
  }

  /** Helm releases in a namespace with the given status, from Helm's release secrets. */
  async helmReleases(namespace: string, status = "deployed"): Promise<string[]> {
    const secrets = await this.core.listNamespacedSecret(
      namespace,
      undefined,
      undefined,
      undefined,
      undefined,
      `owner=helm,status=${status}`,
    );
    return secrets.body.items.map((s) => s.metadata!.labels!.name).sort();
  }

  /**
   * Each endpoint of a Service, from its EndpointSlices: the zone it runs in, the zones it is
   * hinted to, and whether it is ready (a terminating pod stays listed, not ready, while it drains).
   */
  async serviceEndpoints(namespace: string, service: string): Promise<ServiceEndpoint[]> {
    const slices = await this.discovery.listNamespacedEndpointSlice(
      namespace,
      undefined,
      undefined,
      undefined,
      undefined,
      `kubernetes.io/service-name=${service}`,
    );
    return slices.body.items.flatMap((slice) =>
      slice.endpoints.map((e) => ({
        zone: e.zone,
        hints: (e.hints?.forZones ?? []).map((z) => z.name),
        ready: e.conditions?.ready === true,
      })),
    );
  }

  /** Every object of every Istio CRD, cluster-wide, as `<plural>.<group> <namespace>/<name>`. */
  async istioCustomResources(): Promise<string[]> {
    const crds = (await this.extensions.listCustomResourceDefinition()).body.items.filter((crd) =>
      crd.spec.group.endsWith(".istio.io"),
    );
    const found: string[] = [];
    for (const crd of crds) {
      const version = crd.spec.versions.find((v) => v.served)!.name;
      const list = (await this.custom.listClusterCustomObject(
        crd.spec.group,
        version,
        crd.spec.names.plural,
      )) as {
        body: { items: { metadata: { namespace?: string; name: string } }[] };
      };
      for (const item of list.body.items) {
        found.push(`${crd.metadata!.name} ${item.metadata.namespace ?? ""}/${item.metadata.name}`);
      }
    }
    return found;
  }
}

/** One change the watcher saw, ordered cluster-wide by etcd revision. */
export interface Observed {
  revision: number;
  at: number;
  kind: string;
  name: string;
  object: any;
}

/**
 * Watches the objects a mode switch touches and records every change with its resourceVersion,
 * which is etcd's cluster-wide revision: it orders changes across kinds exactly.
 */
export class SwitchWatcher {
  readonly seen: Observed[] = [];
  private readonly requests: { abort(): void }[] = [];

  constructor(
    private readonly config: k8s.KubeConfig,
    private readonly namespace: string,
    /** The pods whose readiness per zone is followed (the waypoint's). */
    private readonly podSelector = "gateway.networking.k8s.io/gateway-name=waypoint",
  ) {}

  async start(): Promise<void> {
    const watch = new k8s.Watch(this.config);
    const paths: [string, string, Record<string, string>][] = [
      ["Namespace", "/api/v1/namespaces", { fieldSelector: `metadata.name=${this.namespace}` }],
      ["Deployment", `/apis/apps/v1/namespaces/${this.namespace}/deployments`, {}],
      ["DaemonSet", "/apis/apps/v1/namespaces/istio-system/daemonsets", {}],
      ["Secret", "/api/v1/namespaces/istio-system/secrets", { labelSelector: "owner=helm" }],
      ["CustomResourceDefinition", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", {}],
      ["PodDisruptionBudget", `/apis/policy/v1/namespaces/${this.namespace}/poddisruptionbudgets`, {}],
      ["Pod", `/api/v1/namespaces/${this.namespace}/pods`, { labelSelector: this.podSelector }],
    ];
    for (const [kind, path, query] of paths) {
      this.requests.push(
        (await watch.watch(
          path,
          query,
          (phase, object: any) => {
            this.seen.push({
              revision: Number(object.metadata.resourceVersion),
              at: Date.now(),
              kind: phase === "DELETED" ? `${kind}/deleted` : kind,
              name: object.metadata.name,
              object,
            });
          },
          () => undefined,
        )) as { abort(): void },
      );
    }
  }

  stop(): void {
    for (const request of this.requests) request.abort();
  }

  /** The revision of the first change matching `test` after `since` (Infinity when none). */
  first(test: (o: Observed) => boolean, since = 0): number {
    return Math.min(
      ...this.seen.filter((o) => o.revision > since && test(o)).map((o) => o.revision),
      Infinity,
    );
  }

  /** The lowest ready-replica count each Deployment reported after `since`. */
  minimumReady(since: number): Record<string, number> {
    const minimum: Record<string, number> = {};
    for (const o of this.seen) {
      if (o.kind !== "Deployment" || o.revision <= since) continue;
      const ready = (o.object.status?.readyReplicas as number | undefined) ?? 0;
      minimum[o.name] = Math.min(minimum[o.name] ?? Infinity, ready);
    }
    return minimum;
  }

  /**
   * The lowest number of ready followed pods each zone had after `since`, counted from the moment every
   * zone first had one, up to `until`: what a zone kept once the pods served all zones. Empty when
   * that moment never came.
   */
  minimumReadyPerZone(
    nodeZones: Record<string, string | undefined>,
    zones: string[],
    since: number,
    until = Infinity,
  ): Record<string, number> {
    const ready = new Map<string, string | undefined>();
    let minimum: Record<string, number> | undefined;
    for (const o of [...this.seen].sort((a, b) => a.revision - b.revision)) {
      if (o.kind !== "Pod" && o.kind !== "Pod/deleted") continue;
      const isReady = o.kind === "Pod" && podReady(o.object as k8s.V1Pod);
      if (isReady) ready.set(o.name, nodeZones[o.object.spec?.nodeName]);
      else ready.delete(o.name);
      if (o.revision <= since || o.revision >= until) continue;
      const counts = Object.fromEntries(zones.map((zone) => [zone, 0]));
      for (const zone of ready.values()) if (zone !== undefined && zone in counts) counts[zone] += 1;
      if (!minimum && zones.every((zone) => counts[zone] > 0)) minimum = { ...counts };
      if (minimum) for (const zone of zones) minimum[zone] = Math.min(minimum[zone], counts[zone]);
    }
    return minimum ?? {};
  }

  /** The newest revision seen so far. */
  latest(): number {
    return Math.max(0, ...this.seen.map((o) => o.revision));
  }
}
