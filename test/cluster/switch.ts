/** Steps 3–5: the preview of a switch, the switch into ambient and back, under a watcher and xDS readers. */
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { summarisePlan } from "../../cli/preview-switch/plan";
import { MODE_KEY, WAYPOINT } from "../../stacks/contract";
import { SwitchWatcher } from "../helpers/cluster";
import {
  bookinfoDeployments,
  expectAnalyzeClean,
  expectInjected,
  expectNoProxies,
  expectSidecarMode,
  expectTrafficDistribution,
  expectWaypointDrainsLikeBookinfo,
  expectWaypointInEveryZone,
  expectWorkloadsInTheirZones,
  ztunnelReadyOnEveryNode,
} from "../helpers/cluster-tier-checks";
import {
  expectSidecarEndpoints,
  expectSidecarsAcceptOnlyMtls,
  expectWaypointEndpoints,
  expectZtunnelConfig,
} from "../helpers/cluster-tier-mesh-checks";
import {
  cluster,
  GATEWAY_API_CRDS,
  istiod,
  tier,
  labelsOf,
  NAMESPACE,
  templateMode,
  ZONES,
} from "../helpers/cluster-tier-setting";
import { switchTo } from "../helpers/cluster-tier-switching";

/**
 * A switch under a watcher and xDS readers: istiod pushed, no zone's client lost its in-zone
 * endpoints, and every Bookinfo Deployment kept a ready pod throughout. The waypoint is created
 * during a switch into ambient and goes at the end of one back; what it keeps per zone is checked
 * on its own.
 */
async function switchKeepingEveryZone(
  mode: "sidecar" | "ambient",
): Promise<{ watcher: SwitchWatcher; since: number }> {
  const watcher = new SwitchWatcher(cluster.config, NAMESPACE);
  const { since, gaps, pushes } = await switchTo(mode, watcher);
  expect(pushes).toBeGreaterThan(0);
  expect(gaps).toEqual([]);
  for (const [deployment, ready] of Object.entries(watcher.minimumReady(since))) {
    if (deployment !== WAYPOINT.name) expect([deployment, ready >= 1]).toEqual([deployment, true]);
  }
  return { watcher, since };
}

export function switchSteps(): void {
  it("3. the preview of the switch to ambient creates cni and ztunnel and replaces nothing", async () => {
    await tier.test.stack.setConfig(MODE_KEY, { value: "ambient" });
    const events: EngineEvent[] = [];
    await tier.test.stack.preview({ onEvent: (e) => events.push(e) });
    await tier.test.stack.setConfig(MODE_KEY, { value: "sidecar" });
    const steps = summarisePlan(events);
    const op = (name: string) => steps.find((s) => s.name === name)?.op;
    expect([op("istio-cni"), op("istio-ztunnel"), op("istio-istiod")]).toEqual([
      "create",
      "create",
      "update",
    ]);
    expect([op("bookinfo-ambient-label"), op("bookinfo-injection-label")]).toEqual(["update", "update"]);
    for (const deployment of await cluster.deployments(NAMESPACE)) {
      expect([deployment.metadata!.name, op(`bookinfo-${deployment.metadata!.name}`)]).toEqual([
        deployment.metadata!.name,
        "update",
      ]);
    }
    // The waypoint applies the DestinationRules in ambient: nothing goes.
    expect(steps.filter((s) => s.op === "delete")).toEqual([]);
    expect(
      [
        "bookinfo-waypoint-gateway",
        "bookinfo-waypoint-zones",
        ...GATEWAY_API_CRDS.map((c) => `istio-gateway-api-${c}`),
      ].map(op),
    ).toEqual(Array(2 + GATEWAY_API_CRDS.length).fill("create"));
    expect(steps.filter((s) => s.op === "replace")).toEqual([]);
  });

  it("4. up in ambient: no zone ever without a ready pod, ambient everywhere, in the migration order", async () => {
    const { watcher, since } = await switchKeepingEveryZone("ambient");
    expect(await cluster.helmReleases("istio-system")).toEqual([
      "istio-base",
      "istio-cni",
      "istiod",
      "ztunnel",
    ]);
    const nodeZones = await cluster.nodeZones();
    for (const selector of ["k8s-app=istio-cni-node", "app=ztunnel"]) {
      const nodes = (await cluster.pods("istio-system", selector)).map((p) => p.spec!.nodeName!).sort();
      expect([selector, nodes]).toEqual([selector, Object.keys(nodeZones).sort()]);
    }
    const labels = await cluster.namespaceLabels(NAMESPACE);
    expect(labels["istio.io/dataplane-mode"]).toBe("ambient");
    expect(labels[WAYPOINT.useLabel]).toBe(WAYPOINT.name);
    expect(labels["istio-injection"]).toBeUndefined();
    await expectTrafficDistribution();
    await expectWorkloadsInTheirZones("ambient");
    await expectNoProxies();
    expect(istiod.runs[istiod.runs.length - 1].env.PILOT_ENABLE_AMBIENT).toBe("true");
    await expectZtunnelConfig();
    await expectWaypointEndpoints(await expectWaypointInEveryZone());
    await expectWaypointDrainsLikeBookinfo();
    await expectAnalyzeClean("switch to ambient");
    const nodeZonesNow = await cluster.nodeZones();
    expect(watcher.minimumReadyPerZone(nodeZonesNow, ZONES, since)).toEqual(
      Object.fromEntries(ZONES.map((zone) => [zone, 1])),
    );

    const ztunnelReady = watcher.first(ztunnelReadyOnEveryNode, since);
    const ambientLabel = watcher.first(
      (o) => o.kind === "Namespace" && labelsOf(o)["istio.io/dataplane-mode"] === "ambient",
      since,
    );
    const injectionOff = watcher.first(
      (o) => o.kind === "Namespace" && labelsOf(o)["istio-injection"] === undefined,
      since,
    );
    const firstRestart = watcher.first(
      (o) => o.kind === "Deployment" && templateMode(o) === "ambient",
      since,
    );
    const crdsCreated = Math.max(
      ...GATEWAY_API_CRDS.map((name) =>
        watcher.first((o) => o.kind === "CustomResourceDefinition" && o.name === name),
      ),
    );
    const waypointReady = watcher.first(
      (o) => o.kind === "PodDisruptionBudget" && o.object.status?.currentHealthy === ZONES.length,
      since,
    );
    expect(
      [crdsCreated, waypointReady, ztunnelReady, ambientLabel, injectionOff, firstRestart].every(
        Number.isFinite,
      ),
    ).toBe(true);
    expect(crdsCreated).toBeLessThan(waypointReady);
    expect(waypointReady).toBeLessThan(ambientLabel);
    expect(ztunnelReady).toBeLessThan(ambientLabel);
    expect(ambientLabel).toBeLessThan(injectionOff);
    expect(injectionOff).toBeLessThan(firstRestart);
  });

  it("5. back to sidecar: no zone ever without a ready pod, in the reverse order", async () => {
    const { watcher, since } = await switchKeepingEveryZone("sidecar");
    await expectSidecarMode();
    await expectWorkloadsInTheirZones("sidecar");
    await expectTrafficDistribution();
    await expectInjected();
    expect(istiod.runs[istiod.runs.length - 1].env.PILOT_ENABLE_AMBIENT).toBeUndefined();
    await expectSidecarEndpoints("strict");
    await expectSidecarsAcceptOnlyMtls();
    await expectAnalyzeClean("switch back to sidecar");

    const injectionOn = watcher.first(
      (o) => o.kind === "Namespace" && labelsOf(o)["istio-injection"] === "enabled",
      since,
    );
    const lastRestart = Math.max(
      ...(await bookinfoDeployments()).map((d) =>
        watcher.first(
          (o) => o.kind === "Deployment" && o.name === d.metadata!.name && templateMode(o) === "sidecar",
          since,
        ),
      ),
    );
    const ambientOff = watcher.first(
      (o) => o.kind === "Namespace" && labelsOf(o)["istio.io/dataplane-mode"] === undefined,
      since,
    );
    const istiodRelease = watcher.first(
      (o) => o.kind === "Secret" && labelsOf(o).name === "istiod" && labelsOf(o).status === "pending-upgrade",
      since,
    );
    const ztunnelGone = watcher.first((o) => o.kind === "DaemonSet/deleted" && o.name === "ztunnel", since);
    expect([injectionOn, lastRestart, ambientOff, istiodRelease, ztunnelGone].every(Number.isFinite)).toBe(
      true,
    );
    expect(injectionOn).toBeLessThan(lastRestart);
    expect(lastRestart).toBeLessThan(ambientOff);
    expect(ambientOff).toBeLessThan(istiodRelease);
    expect(istiodRelease).toBeLessThan(ztunnelGone);

    const waypointGone = watcher.first(
      (o) => o.kind === "Deployment/deleted" && o.name === WAYPOINT.name,
      since,
    );
    expect(Number.isFinite(waypointGone)).toBe(true);
    expect(lastRestart).toBeLessThan(waypointGone);
    expect(watcher.minimumReadyPerZone(await cluster.nodeZones(), ZONES, 0, lastRestart)).toEqual(
      Object.fromEntries(ZONES.map((zone) => [zone, 1])),
    );
    // The Gateway API CRDs stay for other users of the cluster; the stack no longer tracks them.
    const crds = (await cluster.extensions.listCustomResourceDefinition()).body.items.map(
      (c) => c.metadata!.name!,
    );
    expect(crds).toEqual(expect.arrayContaining(GATEWAY_API_CRDS));
  });
}
