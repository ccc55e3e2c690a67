import * as fs from "fs";
import * as path from "path";
import { CannotAnswerError } from "../../cli/lib/answerable";
import { Check, waitFor } from "../../cli/lib/interrupt";
import { summarisePlan } from "../../cli/lib/plan";
import { PROBE_RUN_LABEL } from "../../cli/lib/probe";
import { connectLab } from "../../cli/lib/stack";
import { measureSwitch } from "../../cli/switch";
import { runVerify } from "../../cli/verify";
import { ClusterReader, ServiceEndpoint, SwitchWatcher } from "../helpers/cluster";
import { createTestStack, runProgram, TestStack } from "../helpers/workspace";
import { PROJECT_DIR } from "../helpers/stacks";
import { MODE_ANNOTATION } from "../../components/istio";
import type { EngineEvent } from "@pulumi/pulumi/automation";

jest.setTimeout(30 * 60 * 1000);

const kubeconfig = process.env.KUBECONFIG!;
const profile = process.env.LAB_PROFILE!;
const charts = process.env.ISTIO_LOCALITY_CHARTS!;
const ZONES = ["zone-a", "zone-b", "zone-c"];
const NODES = { [profile]: "zone-a", [`${profile}-m02`]: "zone-b", [`${profile}-m03`]: "zone-c" };
const REVIEWS = { "reviews-v1": "zone-a", "reviews-v2": "zone-b", "reviews-v3": "zone-c" };

const durations: [string, number][] = [];
async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await run();
  } finally {
    durations.push([label, (Date.now() - start) / 1000]);
  }
}

const templateMode = (o: { object: any }) =>
  o.object.spec?.template?.metadata?.annotations?.[MODE_ANNOTATION];
const readyZones = (endpoints: ServiceEndpoint[]) =>
  [...new Set(endpoints.filter((e) => e.ready).map((e) => e.zone))].sort();
/** How the checks after an `up` wait for the cluster to catch up: once a second, for up to a minute. */
const SETTLING = { timeoutMs: 60_000, intervalMs: 1000 };
const labelsOf = (o: { object: any }): Record<string, string> => o.object.metadata?.labels ?? {};

describe("the program against a real API server (kwok lab)", () => {
  let test: TestStack;
  let cluster: ClusterReader;

  beforeAll(async () => {
    for (const [name, value] of Object.entries({
      KUBECONFIG: kubeconfig,
      LAB_PROFILE: profile,
      ISTIO_LOCALITY_CHARTS: charts,
    })) {
      if (!value) throw new Error(`${name} is not set: run this tier through scripts/test-tier.sh lab`);
    }
    cluster = ClusterReader.fromFile(kubeconfig);
    test = await createTestStack("lab", {
      dataplaneMode: "sidecar",
      cluster: { provider: "existing", kubeconfig, nodeZones: NODES, kubernetesVersion: "v1.32.0" },
      istio: { chartDirectory: charts },
    });
  });

  let destroyed = false;
  afterAll(async () => {
    if (test && !destroyed) await test.stack.destroy({ onOutput: () => undefined });
    if (test) await test.remove();
    console.log(
      [
        "| step | seconds |",
        "| --- | ---: |",
        ...durations.map(([label, s]) => `| ${label} | ${s.toFixed(1)} |`),
      ].join("\n"),
    );
  });

  async function expectSidecarMode(): Promise<void> {
    expect(await cluster.helmReleases("istio-system")).toEqual(["istio-base", "istiod"]);
    expect(await cluster.helmReleases("istio-ingress")).toEqual(["istio-ingress"]);
    const labels = await cluster.namespaceLabels("bookinfo");
    expect(labels["istio-injection"]).toBe("enabled");
    expect(labels["istio.io/dataplane-mode"]).toBeUndefined();
    const rule = (await cluster.custom.getNamespacedCustomObject(
      "networking.istio.io",
      "v1",
      "bookinfo",
      "destinationrules",
      "reviews-locality",
    )) as { body: any };
    expect(rule.body.spec).toEqual({
      host: "reviews.bookinfo.svc.cluster.local",
      trafficPolicy: {
        loadBalancer: {
          localityLbSetting: {
            enabled: true,
            distribute: ZONES.map((zone) => ({ from: `*/${zone}/*`, to: { [`*/${zone}/*`]: 100 } })),
          },
        },
        outlierDetection: { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s" },
      },
    });
  }

  async function expectWorkloadsInTheirZones(mode: string): Promise<void> {
    await waitFor(
      "the bookinfo rollout to settle",
      async (): Promise<Check<true>> => {
        const unsettled = await cluster.rolloutUnsettled("bookinfo");
        return unsettled.length ? { done: false, reason: unsettled.join("; ") } : { done: true, value: true };
      },
      SETTLING,
    );
    const nodeZones = await cluster.nodeZones();
    const pods = await cluster.pods("bookinfo");
    const zonesOf = (app: string, extra?: (pod: any) => boolean) =>
      pods
        .filter((p) => p.metadata?.labels?.app === app && (!extra || extra(p)))
        .filter((p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"))
        .map((p) => nodeZones[p.spec!.nodeName!])
        .sort();
    for (const app of ["details", "ratings", "productpage", "client"]) {
      expect([app, [...new Set(zonesOf(app))]]).toEqual([app, ZONES]);
    }
    for (const [deployment, zone] of Object.entries(REVIEWS)) {
      expect([deployment, zonesOf("reviews", (p) => p.metadata.name.startsWith(`${deployment}-`))]).toEqual([
        deployment,
        [zone],
      ]);
    }
    for (const deployment of await cluster.deployments("bookinfo")) {
      expect([
        deployment.metadata!.name,
        deployment.spec!.template.metadata!.annotations![MODE_ANNOTATION],
      ]).toEqual([deployment.metadata!.name, mode]);
      expect([deployment.metadata!.name, deployment.status?.readyReplicas]).toEqual([
        deployment.metadata!.name,
        1,
      ]);
    }
    const gateway = (await cluster.deployments("istio-ingress")).find(
      (d) => d.metadata!.name === "istio-ingress",
    );
    expect(gateway?.status?.readyReplicas).toBeGreaterThanOrEqual(1);
  }

  async function expectTrafficDistribution(): Promise<void> {
    const service = await cluster.core.readNamespacedService("reviews", "bookinfo");
    expect(service.body.spec?.trafficDistribution).toBe("PreferClose");
    // The EndpointSlice controller catches up with the last rollout asynchronously; a pod replaced
    // a moment ago may still be listed, draining, next to its successor in the same zone.
    const endpoints = await waitFor(
      "a ready reviews endpoint in every zone",
      async (): Promise<Check<ServiceEndpoint[]>> => {
        const listed = await cluster.serviceEndpoints("bookinfo", "reviews");
        const zones = readyZones(listed);
        return zones.join() === ZONES.join()
          ? { done: true, value: listed }
          : { done: false, reason: `ready in ${zones.join(", ") || "no zone"}` };
      },
      SETTLING,
    );
    expect(readyZones(endpoints)).toEqual(ZONES);
    // PreferClose hints every endpoint, draining or not, to its own zone and to no other.
    for (const endpoint of endpoints) {
      expect([endpoint.zone, endpoint.hints]).toEqual([endpoint.zone, [endpoint.zone]]);
    }
  }

  async function switchTo(mode: "sidecar" | "ambient", watcher: SwitchWatcher): Promise<number> {
    await test.stack.setConfig("istio-locality:dataplaneMode", { value: mode });
    await watcher.start();
    // Let the initial list of each watch arrive, so "since" separates it from the switch.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const since = watcher.latest();
    await timed(`switch to ${mode} (up)`, () => test.stack.up({ onOutput: () => undefined }));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    watcher.stop();
    return since;
  }

  it("1. up in sidecar mode: releases, zones, labels, locality, gateway", async () => {
    const result = await timed("up (sidecar)", () => test.stack.up({ onOutput: () => undefined }));
    expect(result.summary.result).toBe("succeeded");
    expect(await cluster.nodeZones()).toEqual(NODES);
    await expectSidecarMode();
    await expectWorkloadsInTheirZones("sidecar");
    await expectTrafficDistribution();
  });

  it("1b. verify and switch see that kwok pods serve no traffic and say so instead of reporting numbers", async () => {
    const lab = await connectLab({
      workDir: PROJECT_DIR,
      stackName: test.name,
      envVars: test.envVars,
      program: runProgram,
    });
    const log: string[] = [];
    const verifying = runVerify(lab, { requests: 3, vias: ["reviews"], log: (line) => log.push(line) });
    await expect(verifying).rejects.toBeInstanceOf(CannotAnswerError);
    await expect(verifying).rejects.toThrow(/cannot answer/);

    const apply = jest.fn(() => Promise.resolve());
    const measuring = measureSwitch(lab, {
      runId: "lab-test",
      rate: 20,
      settleSeconds: 0,
      apply,
      signal: new AbortController().signal,
      log: (line) => log.push(line),
    });
    await expect(measuring).rejects.toThrow(/cannot answer.*the switch was not started/s);
    expect(apply).not.toHaveBeenCalled();
    expect(await cluster.pods("bookinfo", `${PROBE_RUN_LABEL}=lab-test`)).toEqual([]);
  });

  it("2. a second preview reports no changes", async () => {
    const preview = await timed("preview, no changes", () => test.stack.preview({ diff: false }));
    // `read` is the stack reading its own previous outputs, every run; it changes nothing.
    expect(Object.keys(preview.changeSummary).filter((op) => op !== "same" && op !== "read")).toEqual([]);
  });

  it("3. the preview of the switch to ambient creates cni and ztunnel and replaces nothing", async () => {
    await test.stack.setConfig("istio-locality:dataplaneMode", { value: "ambient" });
    const events: EngineEvent[] = [];
    await test.stack.preview({ onEvent: (e) => events.push(e) });
    await test.stack.setConfig("istio-locality:dataplaneMode", { value: "sidecar" });
    const steps = summarisePlan(events);
    const op = (name: string) => steps.find((s) => s.name === name)?.op;
    expect([op("istio-cni"), op("istio-ztunnel"), op("istio-istiod")]).toEqual([
      "create",
      "create",
      "update",
    ]);
    expect([op("bookinfo-ambient-label"), op("bookinfo-injection-label")]).toEqual(["update", "update"]);
    for (const deployment of await cluster.deployments("bookinfo")) {
      expect([deployment.metadata!.name, op(`bookinfo-${deployment.metadata!.name}`)]).toEqual([
        deployment.metadata!.name,
        "update",
      ]);
    }
    expect(steps.filter((s) => s.op === "delete").map((s) => s.type)).toEqual(
      Array(4).fill("kubernetes:networking.istio.io/v1:DestinationRule"),
    );
    expect(steps.filter((s) => s.op === "replace")).toEqual([]);
  });

  it("4. up in ambient: no zone ever without a ready pod, ambient everywhere, in the migration order", async () => {
    const watcher = new SwitchWatcher(cluster.config, "bookinfo");
    const since = await switchTo("ambient", watcher);

    for (const [deployment, ready] of Object.entries(watcher.minimumReady(since))) {
      expect([deployment, ready >= 1]).toEqual([deployment, true]);
    }
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
    const labels = await cluster.namespaceLabels("bookinfo");
    expect(labels["istio.io/dataplane-mode"]).toBe("ambient");
    expect(labels["istio-injection"]).toBeUndefined();
    await expectTrafficDistribution();
    await expectWorkloadsInTheirZones("ambient");

    const ztunnelReady = watcher.first(
      (o) => o.kind === "DaemonSet" && o.name === "ztunnel" && o.object.status?.numberReady === 3,
      since,
    );
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
    expect([ztunnelReady, ambientLabel, injectionOff, firstRestart].every(Number.isFinite)).toBe(true);
    expect(ztunnelReady).toBeLessThan(ambientLabel);
    expect(ambientLabel).toBeLessThan(injectionOff);
    expect(injectionOff).toBeLessThan(firstRestart);
  });

  it("5. back to sidecar: no zone ever without a ready pod, in the reverse order", async () => {
    const watcher = new SwitchWatcher(cluster.config, "bookinfo");
    const since = await switchTo("sidecar", watcher);

    for (const [deployment, ready] of Object.entries(watcher.minimumReady(since))) {
      expect([deployment, ready >= 1]).toEqual([deployment, true]);
    }
    await expectSidecarMode();
    await expectWorkloadsInTheirZones("sidecar");
    await expectTrafficDistribution();

    const injectionOn = watcher.first(
      (o) => o.kind === "Namespace" && labelsOf(o)["istio-injection"] === "enabled",
      since,
    );
    const lastRestart = Math.max(
      ...(await cluster.deployments("bookinfo")).map((d) =>
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
  });

  it("6. destroy leaves no namespace, release, Istio custom resource, zone label or stack file behind", async () => {
    await timed("destroy", () => test.stack.destroy({ onOutput: () => undefined }));
    destroyed = true;
    const namespaces = await cluster.namespaceNames();
    for (const namespace of ["bookinfo", "istio-system", "istio-ingress"])
      expect(namespaces).not.toContain(namespace);
    // Istio's CRDs stay (the base chart marks them `helm.sh/resource-policy: keep`); nothing of them does.
    expect(await cluster.istioCustomResources()).toEqual([]);
    expect(Object.values(await cluster.nodeZones())).toEqual([undefined, undefined, undefined]);
    await test.remove();
    expect(fs.existsSync(path.join(PROJECT_DIR, `Pulumi.${test.name}.yaml`))).toBe(false);
  });
});
