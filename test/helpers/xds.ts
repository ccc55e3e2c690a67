import { ChildProcess, spawn } from "child_process";
import * as readline from "readline";
import * as k8s from "@kubernetes/client-node";
import { proxyContainer } from "../../readers/live-mesh";
import { TEST_ISTIOD } from "./istiod";

/** One line of xds-reader: a full snapshot of what istiod sent, or a connection event. */
export interface ReaderLine {
  at: number;
  /** Endpoints by cluster name (sidecar, waypoint) or addresses by name (ztunnel). */
  snapshot?: Record<string, any>;
  /** A sidecar's inbound listener by name. */
  listeners?: Record<string, any>;
  /** The authorization policies ztunnel receives, by `namespace/name`. */
  authorizations?: Record<string, any>;
  event?: "connected" | "disconnected";
  error?: string;
}

/** Who the reader connects as: a proxy's node ID and the metadata its bootstrap would send. */
export interface ProxyIdentity {
  kind: "sidecar" | "waypoint" | "ztunnel";
  node: string;
  metadata: Record<string, unknown>;
  /** `region/zone`; istiod takes a proxy's locality from its pod's node first, this only when the pod is gone. */
  locality?: string;
}

/**
 * The identity of a pod's sidecar, as its pilot-agent presents it: `sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local`,
 * and the `ISTIO_META_*` values the injection template set on its proxy container.
 */
export function sidecarIdentity(pod: k8s.V1Pod, proxyVersion: string, locality?: string): ProxyIdentity {
  const namespace = pod.metadata!.namespace!;
  const name = pod.metadata!.name!;
  const proxy = proxyContainer(pod);
  const metadata: Record<string, unknown> = {};
  for (const variable of proxy?.env ?? []) {
    if (variable.name.startsWith("ISTIO_META_") && variable.value !== undefined) {
      metadata[variable.name.slice("ISTIO_META_".length)] = variable.value;
    }
  }
  Object.assign(metadata, {
    NAME: name,
    NAMESPACE: namespace,
    LABELS: pod.metadata?.labels ?? {},
    SERVICE_ACCOUNT: pod.spec?.serviceAccountName,
    INSTANCE_IPS: pod.status!.podIP,
    NODE_NAME: pod.spec?.nodeName,
    ISTIO_VERSION: proxyVersion,
  });
  return {
    kind: "sidecar",
    node: `sidecar~${pod.status!.podIP}~${name}.${namespace}~${namespace}.svc.cluster.local`,
    metadata,
    locality,
  };
}

/**
 * The identity of a waypoint pod's proxy. Its pilot-agent names its node type from the container's
 * arguments (`proxy waypoint` in the releases this project reads), so the reader takes it from the
 * pod istiod generated rather than assuming one release's.
 */
export function waypointIdentity(pod: k8s.V1Pod, proxyVersion: string): ProxyIdentity {
  const args = proxyContainer(pod)?.args ?? [];
  const nodeType = args[0] === "proxy" ? args[1] : undefined;
  if (!nodeType)
    throw new Error(`waypoint pod ${pod.metadata?.name} has no "proxy <type>" arguments: ${args.join(" ")}`);
  const sidecar = sidecarIdentity(pod, proxyVersion);
  return { ...sidecar, kind: "waypoint", node: sidecar.node.replace(/^sidecar~/, `${nodeType}~`) };
}

/** The identity of a node's ztunnel pod. */
export function ztunnelIdentity(pod: k8s.V1Pod, proxyVersion: string): ProxyIdentity {
  const namespace = pod.metadata!.namespace!;
  const name = pod.metadata!.name!;
  return {
    kind: "ztunnel",
    node: `ztunnel~${pod.status!.podIP}~${name}.${namespace}~${namespace}.svc.cluster.local`,
    metadata: {
      NAME: name,
      NAMESPACE: namespace,
      SERVICE_ACCOUNT: pod.spec?.serviceAccountName,
      NODE_NAME: pod.spec?.nodeName,
      CLUSTER_ID: "Kubernetes",
      ISTIO_VERSION: proxyVersion,
    },
  };
}

function readerArgs(identity: ProxyIdentity, hosts: string[], watch?: string): string[] {
  return [
    `--addr=${TEST_ISTIOD.host}:${TEST_ISTIOD.xds}`,
    `--kind=${identity.kind}`,
    `--node=${identity.node}`,
    `--metadata=${JSON.stringify(identity.metadata)}`,
    ...(identity.locality ? [`--locality=${identity.locality}`] : []),
    ...(hosts.length ? [`--hosts=${hosts.join(",")}`] : []),
    ...(watch ? [`--watch=${watch}`] : []),
  ];
}

/** Reads once what istiod sends this proxy now. */
export async function readOnce(
  binary: string,
  identity: ProxyIdentity,
  hosts: string[] = [],
): Promise<ReaderLine & { snapshot: Record<string, any> }> {
  const reader = new XdsFollower(binary, identity, hosts);
  // A proxy istiod never completes a snapshot for fails the read instead of holding the test.
  const deadline = setTimeout(() => void reader.stop(), 30_000);
  const lines = await reader.finished();
  clearTimeout(deadline);
  // The reader prints after each response and exits once it has every kind it asked for: the last is complete.
  const line = lines.filter((l) => l.snapshot).pop();
  if (!line?.snapshot) {
    throw new Error(
      `xds-reader got no snapshot for ${identity.node}: ${JSON.stringify(lines)} ${reader.stderr}`,
    );
  }
  return { ...line, snapshot: line.snapshot };
}

/** A reader that follows every push to one proxy until stopped. */
export class XdsFollower {
  readonly lines: ReaderLine[] = [];
  stderr = "";
  private readonly child: ChildProcess;
  private readonly done: Promise<ReaderLine[]>;

  /** `record: false` only keeps the connection, as a client istiod pushes to, and keeps none of it here. */
  constructor(
    binary: string,
    readonly identity: ProxyIdentity,
    hosts: string[] = [],
    watch?: string,
    record = true,
  ) {
    this.child = spawn(binary, readerArgs(identity, hosts, watch), {
      stdio: ["ignore", record ? "pipe" : "ignore", "pipe"],
    });
    this.child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    if (record) {
      const lines = readline.createInterface({ input: this.child.stdout! });
      lines.on("line", (line) => this.lines.push(JSON.parse(line) as ReaderLine));
    }
    this.done = new Promise((resolve) => this.child.on("close", () => resolve(this.lines)));
  }

  finished(): Promise<ReaderLine[]> {
    return this.done;
  }

  async stop(): Promise<ReaderLine[]> {
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
    return this.done;
  }

  /** The snapshots received, in order. */
  snapshots(): { at: number; snapshot: Record<string, any> }[] {
    return this.lines.filter((l) => l.snapshot).map((l) => ({ at: l.at, snapshot: l.snapshot! }));
  }
}

/** An outbound cluster's name for a Service port, as istiod names it. */
export const outboundCluster = (host: string, port: number): string => `outbound|${port}||${host}`;

/** A waypoint's cluster for the HTTP requests to a Service port it serves, as istiod names it. */
export const waypointCluster = (host: string, port: number): string => `inbound-vip|${port}|http|${host}`;

/** One locality group of a ClusterLoadAssignment, as the tests judge it. */
export interface LocalityGroup {
  zone: string;
  region: string;
  priority: number;
  /** The locality's weight; undefined when istiod set none (no `distribute`). */
  weight?: number;
  /** Endpoints by address with their health as Envoy will see it. */
  endpoints: { address: string; health: string }[];
}

/** The locality groups of one cluster's endpoints (protojson omits zero values: priority 0, health UNKNOWN). */
export function localityGroups(assignment: any): LocalityGroup[] {
  return (assignment?.endpoints ?? []).map((group: any) => ({
    zone: group.locality?.zone ?? "",
    region: group.locality?.region ?? "",
    priority: group.priority ?? 0,
    weight: group.loadBalancingWeight,
    endpoints: (group.lbEndpoints ?? []).map((e: any) => ({
      // A waypoint reaches a pod through an HBONE tunnel: an internal address naming the pod's IP and port.
      address:
        e.endpoint?.address?.socketAddress?.address ??
        e.endpoint?.address?.envoyInternalAddress?.endpointId?.split(":")[0] ??
        "",
      health: e.healthStatus ?? "UNKNOWN",
    })),
  }));
}

/** Whether a group's endpoints carry traffic: weighted (or unweighted) and not zero. */
export const carriesTraffic = (group: LocalityGroup): boolean =>
  group.weight === undefined || group.weight > 0;

/** Workloads and Services in a ztunnel snapshot. */
export function ztunnelView(snapshot: Record<string, any>): { workloads: any[]; services: any[] } {
  const values = Object.values(snapshot);
  return {
    workloads: values.filter((a) => a.workload).map((a) => a.workload),
    services: values.filter((a) => a.service).map((a) => a.service),
  };
}
