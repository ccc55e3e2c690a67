import * as k8s from "@kubernetes/client-node";
import { podReady } from "../../readers/pods";
import { ClusterReader } from "../helpers/cluster";
import { hasSidecar } from "../helpers/istiod";
import { sidecarIdentity, XdsFollower, ztunnelIdentity } from "../helpers/xds";

const isRunning = (pod: k8s.V1Pod) => podReady(pod) && pod.status?.podIP !== undefined;

/** Where the clients are and how they present themselves to istiod. */
export interface ClientsArgs {
  cluster: ClusterReader;
  reader: string;
  namespace: string;
  region: string;
  proxyVersion: string;
  hosts: string[];
}

/**
 * istiod's clients in the benchmark: for each zone, the proxy its client pod uses, as it comes and
 * goes — the pod's sidecar while it has one, every node's ztunnel while ztunnel runs. One client
 * per zone (not one per pod) keeps the readers' own load on a 2-core machine small, while the count
 * still grows with the zones, as istiod's work does. What they receive is not kept: this process
 * also runs the program, whose memory and pace the benchmark measures.
 */
export class ZoneClients {
  private readonly followers = new Map<string, XdsFollower>();
  private readonly timer: NodeJS.Timeout;
  private ticking = false;

  constructor(private readonly args: ClientsArgs) {
    this.timer = setInterval(() => void this.tick(), 2000);
  }

  get connected(): number {
    return this.followers.size;
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const { cluster, namespace, region, proxyVersion, hosts, reader } = this.args;
      const [clients, ztunnels, zones] = await Promise.all([
        cluster.pods(namespace, "app=client"),
        cluster.pods("istio-system", "app=ztunnel"),
        cluster.nodeZones(),
      ]);
      const wanted = new Map<string, () => XdsFollower>();
      for (const pod of clients.filter((p) => isRunning(p) && hasSidecar(p))) {
        const locality = `${region}/${zones[pod.spec!.nodeName!]}`;
        wanted.set(
          pod.metadata!.uid!,
          () => new XdsFollower(reader, sidecarIdentity(pod, proxyVersion, locality), hosts, "6h", false),
        );
      }
      for (const pod of ztunnels.filter(isRunning)) {
        wanted.set(
          pod.metadata!.uid!,
          () => new XdsFollower(reader, ztunnelIdentity(pod, proxyVersion), [], "6h", false),
        );
      }
      for (const [uid, follow] of wanted) if (!this.followers.has(uid)) this.followers.set(uid, follow());
      for (const [uid, follower] of this.followers) {
        if (!wanted.has(uid)) {
          this.followers.delete(uid);
          void follower.stop();
        }
      }
    } catch {
      // The API server is briefly unreachable while the test cluster starts or stops; the next tick retries.
    } finally {
      this.ticking = false;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.followers.values()].map((f) => f.stop()));
    this.followers.clear();
  }
}
