import type { V1DaemonSet, V1Node, V1Pod, V1Taint, V1Toleration } from "@kubernetes/client-node";
import { awaitNodeAgents, nodeAgentGaps, NodeAgentsView, UNPLACED_GRACE_MS } from "../../readers/node-agents";
import { ZONE_LABEL } from "../../stacks/contract";

const ZONES = ["zone-a", "zone-b", "zone-c"];
const TAINT = { key: "dedicated", value: "batch", effect: "NoSchedule" };
const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{ name: lab, cluster: { server: "https://127.0.0.1:1" } }]
users: [{ name: lab, user: {} }]
contexts: [{ name: lab, context: { cluster: lab, user: lab } }]
current-context: lab
`;

const node = (name: string, zone: string | undefined, taints: V1Taint[] = []): V1Node => ({
  metadata: { name, labels: zone ? { [ZONE_LABEL]: zone } : {} },
  spec: { taints },
});
const daemonSet = (name: string, settled = true, tolerations: V1Toleration[] = []): V1DaemonSet => ({
  metadata: { name, generation: 2 },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { spec: { containers: [], tolerations } },
  },
  status: {
    observedGeneration: settled ? 2 : 1,
    currentNumberScheduled: 0,
    desiredNumberScheduled: 0,
    numberMisscheduled: 0,
    numberReady: 0,
  },
});
const pod = (agent: string, nodeName: string, ready = true, waiting?: string): V1Pod => ({
  metadata: { name: `${agent}-${nodeName}` },
  spec: { nodeName, containers: [] },
  status: {
    phase: ready ? "Running" : "Pending",
    conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
    containerStatuses: waiting
      ? [
          {
            name: "istio-proxy",
            image: "",
            imageID: "",
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: waiting } },
          },
        ]
      : [],
  },
});

/** Three zoned nodes and an unzoned control-plane node; both agents ready on the zoned ones unless told. */
function view(changes: (v: NodeAgentsView) => void = () => undefined): NodeAgentsView {
  const nodes = [node("m01", "zone-a"), node("m02", "zone-b"), node("m03", "zone-c"), node("cp", undefined)];
  const v: NodeAgentsView = {
    nodes,
    daemonSets: { "istio-cni-node": daemonSet("istio-cni-node"), ztunnel: daemonSet("ztunnel") },
    pods: {
      "istio-cni-node": ["m01", "m02", "m03"].map((n) => pod("istio-cni-node", n)),
      ztunnel: ["m01", "m02", "m03"].map((n) => pod("ztunnel", n)),
    },
  };
  changes(v);
  return v;
}

describe("nodeAgentGaps", () => {
  it("finds none when both agents run a ready pod on every zoned node; unzoned nodes do not count", () => {
    expect(nodeAgentGaps(view(), ZONES)).toEqual([]);
  });

  it("names a tainted node the up-to-date DaemonSet left out, with the taint and the agent's tolerations", () => {
    const gaps = nodeAgentGaps(
      view((v) => {
        v.nodes[2].spec!.taints = [TAINT, { key: "soft", effect: "PreferNoSchedule" }];
        v.daemonSets.ztunnel = daemonSet("ztunnel", true, [
          { key: "CriticalAddonsOnly", operator: "Exists" },
        ]);
        v.pods.ztunnel = v.pods.ztunnel!.slice(0, 2);
      }),
      ZONES,
    );
    expect(gaps).toEqual([
      {
        agent: "ztunnel",
        node: "m03",
        zone: "zone-c",
        kind: "unplaced",
        detail:
          "its DaemonSet controller placed no pod there; the node's taints: dedicated=batch:NoSchedule; " +
          "the agent's tolerations: CriticalAddonsOnly exists",
      },
    ]);
  });

  it("waits for a pod that is not ready yet, saying why, and for a DaemonSet its controller has not caught up with", () => {
    const gaps = nodeAgentGaps(
      view((v) => {
        v.pods.ztunnel![0] = pod("ztunnel", "m01", false, "ImagePullBackOff");
        v.daemonSets["istio-cni-node"] = daemonSet("istio-cni-node", false);
        v.pods["istio-cni-node"] = v.pods["istio-cni-node"]!.slice(0, 2);
      }),
      ZONES,
    );
    expect(gaps.map((g) => [g.agent, g.node, g.kind, g.detail])).toEqual([
      ["istio-cni-node", "m03", "waiting", "its DaemonSet controller has not caught up yet"],
      ["ztunnel", "m01", "waiting", "pod ztunnel-m01 is Pending, ImagePullBackOff"],
    ]);
  });

  it("counts neither a pod on its way out nor a missing DaemonSet as ready", () => {
    const gaps = nodeAgentGaps(
      view((v) => {
        v.pods.ztunnel![1].metadata!.deletionTimestamp = new Date();
        delete v.daemonSets["istio-cni-node"];
        v.pods["istio-cni-node"] = [];
      }),
      ["zone-b"],
    );
    expect(gaps.map((g) => [g.agent, g.node, g.detail])).toEqual([
      ["istio-cni-node", "m02", "its DaemonSet does not exist"],
      ["ztunnel", "m02", "pod ztunnel-m02 is Running, not ready"],
    ]);
  });
});

describe("awaitNodeAgents", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it("resolves once the agents are ready everywhere, reading again while a pod warms up", async () => {
    const reads = [
      view((v) => (v.pods.ztunnel![2] = pod("ztunnel", "m03", false, "ContainerCreating"))),
      view(),
    ];
    const read = jest.fn(() => Promise.resolve(reads.shift()!));
    const done = awaitNodeAgents(KUBECONFIG, "istio-system", ZONES, 60_000, read);
    await jest.advanceTimersByTimeAsync(1000);
    await expect(done).resolves.toBeUndefined();
    expect(read).toHaveBeenCalledTimes(2);
  });

  it("fails once a node has stayed without a pod for the grace period, naming it and what to change", async () => {
    const unplaced = view((v) => {
      v.nodes[2].spec!.taints = [TAINT];
      v.pods.ztunnel = v.pods.ztunnel!.slice(0, 2);
    });
    const read = jest.fn(() => Promise.resolve(unplaced));
    const done = awaitNodeAgents(KUBECONFIG, "istio-system", ZONES, 60_000, read);
    const failed = expect(done).rejects.toThrow(
      /ztunnel on node m03 \(zone-c\): its DaemonSet controller placed no pod there; the node's taints: dedicated=batch:NoSchedule[\s\S]*`tolerations` and `nodeSelector` in `istio-locality:istio\.values\.<cni\|ztunnel>`/,
    );
    await jest.advanceTimersByTimeAsync(UNPLACED_GRACE_MS + 1000);
    await failed;
    await expect(done).rejects.toThrow(/labels no namespace ambient and restarts no workload/);
  });

  it("gives a pod that never turns ready until the timeout, then says how long it waited", async () => {
    const stuck = view((v) => (v.pods.ztunnel![0] = pod("ztunnel", "m01", false, "ImagePullBackOff")));
    const done = awaitNodeAgents(KUBECONFIG, "istio-system", ZONES, 10_000, () => Promise.resolve(stuck));
    const failed = expect(done).rejects.toThrow(
      /after 10 s[\s\S]*ztunnel on node m01 \(zone-a\): pod ztunnel-m01 is Pending, ImagePullBackOff[\s\S]*Once they are ready/,
    );
    await jest.advanceTimersByTimeAsync(11_000);
    await failed;
  });
});
