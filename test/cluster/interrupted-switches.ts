/** Steps 5a–5c: switches the cluster denies, Ctrl-C stops at each step boundary, or a killed engine leaves. */
import type * as k8s from "@kubernetes/client-node";
import type { OutputMap } from "@pulumi/pulumi/automation";
import { describeUndone } from "../../cli/recover/patches";
import { recoverStack, Recovery } from "../../cli/recover/recover";
import { Check, waitFor } from "../../cli/shared/interrupt";
import { describeOperation, PendingOperation, pendingOperations } from "../../cli/shared/stack";
import { configKey, MODE_ANNOTATION, WAYPOINT } from "../../stacks/contract";
import { Observed, SwitchWatcher } from "../helpers/cluster";
import {
  bookinfoDeployments,
  expectAmbientMode,
  expectInjected,
  expectNoDeploymentEmptied,
  expectSidecarMode,
  ztunnelReadyOnEveryNode,
} from "../helpers/cluster-tier-checks";
import { expectSidecarEndpoints } from "../helpers/cluster-tier-mesh-checks";
import {
  cluster,
  tier,
  labelsOf,
  NAMESPACE,
  NODES,
  SETTLING,
  templateMode,
  timed,
} from "../helpers/cluster-tier-setting";
import { switchThrough } from "../helpers/cluster-tier-switching";

/** The program's warning when the cluster and the last outputs disagree (see `orderingMode`). */
export const HALF_WAY_NOTE = "completing or undoing a switch that stopped half way";

/**
 * An admission policy of the cluster's own that denies one step of a switch, as a policy engine or
 * webhook would. It is enforced once the API server's informer has it: `deniedNow` is a dry run of
 * that step, retried until the policy denies it.
 */
export async function denyByPolicy(
  name: string,
  spec: { rule: k8s.V1RuleWithOperations; match: string; allowed: string; message: string },
  deniedNow: () => Promise<unknown>,
): Promise<void> {
  await cluster.admission.createValidatingAdmissionPolicy({
    metadata: { name },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: { resourceRules: [spec.rule] },
      matchConditions: [{ name: "target", expression: spec.match }],
      validations: [{ expression: spec.allowed, message: spec.message }],
    },
  });
  await cluster.admission.createValidatingAdmissionPolicyBinding({
    metadata: { name },
    spec: { policyName: name, validationActions: ["Deny"] },
  });
  await waitFor(
    `the admission policy ${name} to be enforced`,
    async (): Promise<Check<true>> => {
      const denied = await deniedNow().then(
        () => false,
        (error: { body?: { message?: string } }) => (error.body?.message ?? "").includes(spec.message),
      );
      return denied ? { done: true, value: true } : { done: false, reason: "not denied yet" };
    },
    SETTLING,
  );
}

export async function removePolicy(name: string): Promise<void> {
  await cluster.admission.deleteValidatingAdmissionPolicyBinding(name);
  await cluster.admission.deleteValidatingAdmissionPolicy(name);
}

export const generations = async () =>
  Object.fromEntries((await bookinfoDeployments()).map((d) => [d.metadata!.name!, d.metadata!.generation]));

/** Denies adding the injection label to the Bookinfo namespace: the first step of the way back to sidecar. */
export const DENY_INJECTION = "lab-deny-injection-label";

export const DENIAL = "the test cluster's admission policy denies the injection label";

export const denyInjectionLabel = () =>
  denyByPolicy(
    DENY_INJECTION,
    {
      rule: { apiGroups: [""], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["namespaces"] },
      match: `object.metadata.name == '${NAMESPACE}'`,
      allowed: "!(has(object.metadata.labels) && 'istio-injection' in object.metadata.labels)",
      message: DENIAL,
    },
    () =>
      cluster.core.patchNamespace(
        NAMESPACE,
        { metadata: { labels: { "istio-injection": "enabled" } } },
        undefined,
        "All",
        undefined,
        undefined,
        undefined,
        { headers: { "Content-Type": "application/merge-patch+json" } },
      ),
  );

/** Denies ztunnel's DaemonSet, as a cluster that forbids privileged node agents would: ambient's first step. */
export const DENY_ZTUNNEL = "lab-deny-ztunnel";

export const ZTUNNEL_DENIAL = "the test cluster's admission policy denies the ztunnel DaemonSet";

export const denyZtunnel = () =>
  denyByPolicy(
    DENY_ZTUNNEL,
    {
      rule: {
        apiGroups: ["apps"],
        apiVersions: ["v1"],
        operations: ["CREATE", "UPDATE"],
        resources: ["daemonsets"],
      },
      match: "object.metadata.name == 'ztunnel'",
      allowed: "false",
      message: ZTUNNEL_DENIAL,
    },
    () =>
      cluster.apps.createNamespacedDaemonSet(
        "istio-system",
        {
          metadata: { name: "ztunnel" },
          spec: {
            selector: { matchLabels: { app: "ztunnel" } },
            template: {
              metadata: { labels: { app: "ztunnel" } },
              spec: { containers: [{ name: "z", image: "z" }] },
            },
          },
        },
        undefined,
        "All",
      ),
  );

/** The restart time a pod template carries; a new one marks a restart. */
export const restartedAt = (d: any): string | undefined =>
  d?.spec?.template?.metadata?.annotations?.["kubectl.kubernetes.io/restartedAt"];

export const restartTimes = async () =>
  Object.fromEntries((await bookinfoDeployments()).map((d) => [d.metadata!.name!, restartedAt(d)]));

export const isBookinfoDeployment = (o: Observed) => o.kind === "Deployment" && o.name !== WAYPOINT.name;

/** The Deployments whose pod templates name a mode, now. */
export const templatesIn = async (mode: string) =>
  (await bookinfoDeployments())
    .filter((d) => d.spec?.template.metadata?.annotations?.[MODE_ANNOTATION] === mode)
    .map((d) => d.metadata!.name!);

/** Some but not all of the Bookinfo Deployments: a step caught in its middle. */
export const someButNotAll = async (names: string[]) => {
  const total = (await bookinfoDeployments()).length;
  return names.length > 0 && names.length < total ? "some" : `${names.length} of ${total}`;
};

/**
 * The engine's `--parallel` for a cancel in the middle of the restarts: below the number of
 * Deployments, as on a cluster with more Deployments than the engine runs at once, so that some
 * restarts are still waiting to start when the cancel lands.
 */
export const FEWER_THAN_THE_DEPLOYMENTS = 4;

/** A node label the test cluster's ztunnel is restricted to, as a platform restricts node agents to a node pool. */
export const ZTUNNEL_POOL = "lab-ztunnel-pool";

export const ZTUNNEL_NODE_SELECTOR = configKey(`istio.values.ztunnel.nodeSelector.${ZTUNNEL_POOL}`);

export const labelNode = (node: string, value: string | null) =>
  cluster.core.patchNode(
    node,
    { metadata: { labels: { [ZTUNNEL_POOL]: value } } },
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    { headers: { "Content-Type": "application/merge-patch+json" } },
  );

export function interruptedSwitchSteps(): void {
  it("5a. a switch into ambient whose first step the cluster denies fails with the cause and touches no workload; once the cause is gone, cancelled at each step boundary, it is completed by `up` again from where it stopped", async () => {
    const watcher = new SwitchWatcher(cluster.config, NAMESPACE);
    const earlier = await restartTimes();
    // What Pulumi recorded of the first cancelled update: its stack outputs, and operations left pending.
    let recordedMode: unknown;
    let pending: PendingOperation[] = [];
    // What each cancel left, read once its update had ended.
    const left: Record<string, unknown> = {};
    const labels = () => cluster.namespaceLabels(NAMESPACE);
    const restarted = async () =>
      Object.entries(await restartTimes())
        .filter(([name, time]) => time !== earlier[name])
        .map(([name]) => name);
    await denyZtunnel();
    const before = await generations();
    const { since, gaps, replaced, logs } = await switchThrough(
      [
        {
          mode: "ambient",
          label: "into ambient, ztunnel denied (up)",
          failsWith: ZTUNNEL_DENIAL,
          after: async () => {
            left.denied = [(await labels())["istio.io/dataplane-mode"], await generations()];
            await removePolicy(DENY_ZTUNNEL);
          },
        },
        {
          mode: "ambient",
          label: "into ambient, cancelled at ztunnel ready (up)",
          cancelAt: ztunnelReadyOnEveryNode,
          after: async () => {
            recordedMode = (await tier.test.stack.outputs()).dataplaneMode?.value;
            pending = await pendingOperations(tier.test.stack);
            left.ztunnel = [(await labels())["istio.io/dataplane-mode"], (await restarted()).length];
          },
        },
        {
          mode: "ambient",
          label: "into ambient, cancelled in the middle of the HBONE restarts (up)",
          parallel: FEWER_THAN_THE_DEPLOYMENTS,
          cancelAt: (o) =>
            isBookinfoDeployment(o) && o.name in earlier && restartedAt(o.object) !== earlier[o.name],
          after: async () => {
            left.restarts = [
              (await labels())["istio.io/dataplane-mode"],
              await someButNotAll(await restarted()),
            ];
          },
        },
        {
          mode: "ambient",
          label: "into ambient, cancelled at the ambient label (up)",
          cancelAt: (o) => o.kind === "Namespace" && labelsOf(o)["istio.io/dataplane-mode"] === "ambient",
          after: async () => {
            left.label = [(await labels())["istio.io/dataplane-mode"], await templatesIn("ambient")];
          },
        },
        {
          mode: "ambient",
          label: "into ambient, cancelled in the middle of the sidecar removals (up)",
          parallel: FEWER_THAN_THE_DEPLOYMENTS,
          cancelAt: (o) => isBookinfoDeployment(o) && templateMode(o) === "ambient",
          after: async () => {
            left.removals = await someButNotAll(await templatesIn("ambient"));
          },
        },
        { mode: "ambient", label: "resumed into ambient (up)" },
      ],
      watcher,
    );
    // A cancelled update writes its outputs as if it had completed; Ctrl-C leaves nothing pending.
    expect(recordedMode).toBe("ambient");
    expect(pending).toEqual([]);
    // Each cancel stopped the switch at its boundary: nothing after it had started.
    expect(left).toEqual({
      denied: [undefined, before],
      ztunnel: [undefined, 0],
      restarts: [undefined, "some"],
      label: ["ambient", []],
      removals: "some",
    });
    // The failed run changed no workload, so the cluster still runs sidecar only; by its outputs the
    // next run would be ambient → ambient.
    expect(logs[1]).toContain("this run orders its steps as a switch from `sidecar` to `ambient`");
    // By its outputs each resume would be an ambient → ambient run, with none of the switch's steps.
    for (const [i, log] of logs.slice(2).entries())
      expect([i + 2, log]).toEqual([i + 2, expect.stringContaining(HALF_WAY_NOTE)]);
    expect((await tier.test.stack.outputs()).migration?.value).toBe("sidecar → ambient");
    expect(gaps).toEqual([]);
    expect(replaced).toEqual([]);
    expectNoDeploymentEmptied(watcher, since, "5a");
    await expectAmbientMode();
  });

  it("5b. a switch back to sidecar whose first step the cluster denies fails with the cause and touches no workload; once the cause is gone, cancelled at each step boundary, it completes", async () => {
    const watcher = new SwitchWatcher(cluster.config, NAMESPACE);
    await denyInjectionLabel();
    const before = await generations();
    let afterFailure: Record<string, number | undefined> = {};
    let labelsAfterFailure: Record<string, string> = {};
    const left: Record<string, unknown> = {};
    const ambientLabel = async () => (await cluster.namespaceLabels(NAMESPACE))["istio.io/dataplane-mode"];
    const ztunnelRuns = async () =>
      (await cluster.apps.listNamespacedDaemonSet("istio-system")).body.items.some(
        (d) => d.metadata?.name === "ztunnel",
      );
    const { since, gaps, replaced, logs } = await switchThrough(
      [
        {
          mode: "sidecar",
          label: "back to sidecar, denied (up)",
          failsWith: DENIAL,
          after: async () => {
            afterFailure = await generations();
            labelsAfterFailure = await cluster.namespaceLabels(NAMESPACE);
            await removePolicy(DENY_INJECTION);
          },
        },
        {
          mode: "sidecar",
          label: "back to sidecar, cancelled at the injection label (up)",
          cancelAt: (o) => o.kind === "Namespace" && labelsOf(o)["istio-injection"] === "enabled",
          after: async () => {
            left.label = [await ambientLabel(), await templatesIn("sidecar")];
          },
        },
        {
          mode: "sidecar",
          label: "back to sidecar, cancelled in the middle of the sidecar restarts (up)",
          parallel: FEWER_THAN_THE_DEPLOYMENTS,
          cancelAt: (o) => isBookinfoDeployment(o) && templateMode(o) === "sidecar",
          after: async () => {
            left.restarts = [await ambientLabel(), await someButNotAll(await templatesIn("sidecar"))];
          },
        },
        {
          mode: "sidecar",
          label: "back to sidecar, cancelled once the ambient label is off (up)",
          cancelAt: (o) => o.kind === "Namespace" && labelsOf(o)["istio.io/dataplane-mode"] === undefined,
          after: async () => {
            const all = (await bookinfoDeployments()).length;
            left.ambientOff = [
              await ambientLabel(),
              (await templatesIn("sidecar")).length === all,
              await ztunnelRuns(),
            ];
          },
        },
        { mode: "sidecar", label: "back to sidecar, resumed (up)" },
      ],
      watcher,
    );
    // Each cancel stopped the way back at its boundary: nothing after it had started.
    expect(left).toEqual({
      label: ["ambient", []],
      restarts: ["ambient", "some"],
      ambientOff: [undefined, true, true],
    });
    for (const [i, log] of logs.slice(2).entries()) {
      expect([i + 2, log]).toEqual([i + 2, expect.stringContaining(HALF_WAY_NOTE)]);
    }
    expect(afterFailure).toEqual(before);
    expect([labelsAfterFailure["istio.io/dataplane-mode"], labelsAfterFailure["istio-injection"]]).toEqual([
      "ambient",
      undefined,
    ]);
    expect(gaps).toEqual([]);
    expect(replaced).toEqual([]);
    expectNoDeploymentEmptied(watcher, since, "5b");
    expect((await tier.test.stack.outputs()).migration?.value).toBe("ambient → sidecar");
    await expectSidecarMode();
    await expectInjected();
    await expectSidecarEndpoints("strict");
  });

  it("5c. a switch into ambient whose ztunnel cannot run on a node fails with the cause before any workload; once the node is let in, killed during the HBONE restarts, it is recovered and rolled back to sidecar", async () => {
    const watcher = new SwitchWatcher(cluster.config, NAMESPACE);
    const [kept, ...pool] = Object.keys(NODES).reverse();
    for (const node of pool) await labelNode(node, "enabled");
    await tier.test.stack.setConfig(ZTUNNEL_NODE_SELECTOR, { value: "enabled" }, true);
    const before = await generations();
    // The restart times the last switch left on the pod templates: a new one marks this switch's restarts.
    const earlier = await restartTimes();
    let leftByTheFailure: unknown;
    let outputsAfterTheFailure: OutputMap = {};
    let outputsAfterTheKill: OutputMap = {};
    let pending: PendingOperation[] = [];
    let refused = "";
    let recovery: Recovery | undefined;
    let labelsRecovered: Record<string, string> = {};
    let restartsAtTheKill: string[] = [];
    let result: Awaited<ReturnType<typeof switchThrough>>;
    try {
      result = await switchThrough(
        [
          {
            mode: "ambient",
            label: "into ambient, ztunnel kept off a node (up)",
            failsWith: `ztunnel on node ${kept} (${NODES[kept]}): its DaemonSet controller placed no pod there`,
            after: async () => {
              leftByTheFailure = [
                (await cluster.namespaceLabels(NAMESPACE))["istio.io/dataplane-mode"],
                await generations(),
              ];
              outputsAfterTheFailure = await tier.test.stack.outputs();
              await labelNode(kept, "enabled");
            },
          },
          {
            mode: "ambient",
            label: "into ambient, engine killed during the HBONE restarts (up)",
            killAt: (o) =>
              isBookinfoDeployment(o) && o.name in earlier && restartedAt(o.object) !== earlier[o.name],
            after: async () => {
              restartsAtTheKill = Object.entries(await restartTimes())
                .filter(([name, at]) => at !== earlier[name])
                .map(([name]) => name);
              outputsAfterTheKill = await tier.test.stack.outputs();
              pending = await pendingOperations(tier.test.stack);
              // The dead engine's lock refuses every update until it is removed.
              refused = await tier.test.stack.up({ onOutput: () => undefined }).then(
                () => "ran",
                (error: Error) => error.message,
              );
              recovery = await timed("recover (cancel + undo + refresh)", () =>
                recoverStack(tier.test.stack),
              );
              expect(await pendingOperations(tier.test.stack)).toEqual([]);
              labelsRecovered = await cluster.namespaceLabels(NAMESPACE);
            },
          },
          { mode: "sidecar", label: "rolled back to sidecar (up)" },
        ],
        watcher,
      );
    } finally {
      await tier.test.stack.removeConfig(configKey("istio.values.ztunnel.nodeSelector"), true);
      for (const node of Object.keys(NODES)) await labelNode(node, null);
    }
    const { since, gaps, replaced, logs } = result;
    // The failure came before the ambient label and before any restart.
    expect(leftByTheFailure).toEqual([undefined, before]);
    expect(logs[0]).toMatch(new RegExp(`its nodeSelector: .*${ZTUNNEL_POOL}=enabled`));
    console.log(
      `after the killed switch the state held ${pending.length} pending operation(s): ${pending.map(describeOperation).join(", ")}`,
    );
    // The failed run wrote its outputs as if it had completed; the killed one wrote nothing over them.
    expect(outputsAfterTheFailure.dataplaneMode?.value).toBe("ambient");
    expect(outputsAfterTheKill).toEqual(outputsAfterTheFailure);
    expect(refused).toContain("the stack is currently locked");
    expect((await tier.test.stack.outputs()).migration?.value).toBe("ambient → sidecar");
    expect(gaps).toEqual([]);
    expect(replaced).toEqual([]);
    expectNoDeploymentEmptied(watcher, since, "5c");
    // The engine died with Deployment updates in flight, awaiting their rollouts.
    expect(restartsAtTheKill.length).toBeGreaterThan(0);
    expect(pending.map((operation) => operation.type)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^(creating|updating)$/)]),
    );
    console.log(
      `recover put back: ${recovery?.undone.map(describeUndone).join("; ") || "nothing"}; ` +
        `cleared ${recovery?.cleared.length ?? 0} pending operation(s)`,
    );
    // The label comes after the restarts: no run got as far as it, and recover left none behind.
    expect(
      watcher.first(
        (o) => o.kind === "Namespace" && labelsOf(o)["istio.io/dataplane-mode"] === "ambient",
        since,
      ),
    ).toBe(Infinity);
    expect(labelsRecovered["istio.io/dataplane-mode"]).toBeUndefined();
    await expectSidecarMode();
    await expectInjected();
    await expectSidecarEndpoints("strict");
  });
}
