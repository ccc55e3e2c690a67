/** Step 5d: a node drain within the disruption budgets. */
import { execFile } from "child_process";
import { promisify } from "util";
import { configKey, ENGINE_PARALLEL } from "../../stacks/contract";
import { SwitchWatcher } from "../helpers/cluster";
import { bookinfoDeployments, expectNoDeploymentEmptied } from "../helpers/cluster-tier-checks";
import { cluster, kubeconfig, tier, NAMESPACE, profile, timed, ZONES } from "../helpers/cluster-tier-setting";

export function drainSteps(): void {
  it("5d. a node drain with two nodes per zone completes within the budgets, and every zone keeps a ready pod of every service", async () => {
    // A second kwok node per zone, shaped like test-cluster.sh's, named on as minikube names its nodes.
    const template = (await cluster.core.readNode(profile)).body;
    const extra = ZONES.map((zone, i) => ({
      name: `${profile}-m${String(ZONES.length + i + 1).padStart(2, "0")}`,
      zone,
      cidr: `10.244.${ZONES.length + i}.0/24`,
    }));
    for (const node of extra) {
      await cluster.core.createNode({
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name: node.name,
          annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
          // Not the template's zone and region: the program labels the node, as every other.
          labels: {
            ...Object.fromEntries(
              Object.entries(template.metadata!.labels!).filter(
                ([key]) => !key.startsWith("topology.kubernetes.io/"),
              ),
            ),
            "kubernetes.io/hostname": node.name,
            "minikube.k8s.io/primary": "false",
          },
        },
        spec: { podCIDR: node.cidr, podCIDRs: [node.cidr] },
        status: {
          allocatable: template.status!.allocatable,
          capacity: template.status!.capacity,
          nodeInfo: template.status!.nodeInfo,
        },
      });
      // The program labels the new nodes with their zones, as it labels the first ones.
      await tier.test.stack.setConfig(
        configKey(`cluster.nodeZones.${node.name}`),
        { value: node.zone },
        true,
      );
    }
    // Two replicas per zone: the budgets let a drain take one of a zone's pods at a time.
    await tier.test.stack.setConfig(configKey("bookinfo.replicasPerZone"), { value: "2" }, true);
    const scaled = await tier.test.stack.up({ onOutput: () => undefined, parallel: ENGINE_PARALLEL });
    expect(scaled.summary.result).toBe("succeeded");
    const budgets = (await cluster.policy.listNamespacedPodDisruptionBudget(NAMESPACE)).body.items;
    expect(budgets.map((b) => b.spec?.maxUnavailable)).toEqual(
      Array((await bookinfoDeployments()).length).fill(1),
    );

    const drained = profile;
    const watcher = new SwitchWatcher(cluster.config, NAMESPACE);
    await watcher.start();
    const since = watcher.latest();
    try {
      const drain = await timed("drain of a zone's node", () =>
        promisify(execFile)(
          "kubectl",
          [
            "drain",
            drained,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--timeout=300s",
            `--kubeconfig=${kubeconfig}`,
          ],
          { maxBuffer: 16 * 1024 * 1024 },
        ),
      );
      expect(drain.stdout).toContain(`node/${drained} drained`);
      expect((await cluster.pods(NAMESPACE)).filter((p) => p.spec?.nodeName === drained)).toEqual([]);
      expectNoDeploymentEmptied(watcher, since, "5d");
    } finally {
      watcher.stop();
      await promisify(execFile)("kubectl", ["uncordon", drained, `--kubeconfig=${kubeconfig}`]);
    }
  });
}
