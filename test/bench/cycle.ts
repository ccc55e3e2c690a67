import * as fs from "fs";
import { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { DataplaneMode, DEFAULTS, MODE_KEY, PROJECT } from "../../stacks/contract";
import { defaultNodeZones, minikubeNodeNames } from "../../stacks/config";
import { testIstioValues, TEST_ISTIOD } from "../helpers/istiod";
import { createTestStack } from "../helpers/workspace";
import { IstiodPushMeter } from "./istiod-metrics";
import { MachineCpu } from "./cpu";
import { MemoryPeaks } from "./memory";
import { BenchStep, PUSHING_STEPS, StepSample } from "./stats";

/** The test cluster a cycle runs on and the tools it was built with. */
export interface BenchCluster {
  kubeconfig: string;
  profile: string;
  charts: string;
  gatewayApi: string;
}

/** Zone names for a size: zone-a, zone-b, … as the program's own default starts. */
export function zoneNames(count: number): string[] {
  if (count < 1 || count > 26)
    throw new Error(`the benchmark names zones a to z: ${count} zones is out of range`);
  return Array.from({ length: count }, (_, i) => `zone-${String.fromCharCode(97 + i)}`);
}

/** The stack's configuration at a size: the program's defaults, on the test cluster's nodes, one zone per node. */
export function benchConfig(
  testCluster: BenchCluster,
  zones: number,
  replicas: number,
): Record<string, unknown> {
  const names = zoneNames(zones);
  return {
    dataplaneMode: "sidecar",
    zones: names,
    bookinfo: { replicasPerZone: replicas },
    cluster: {
      provider: "existing",
      kubeconfig: testCluster.kubeconfig,
      nodeZones: defaultNodeZones(minikubeNodeNames(testCluster.profile, zones), names),
      kubernetesVersion: DEFAULTS.cluster.kubernetesVersion,
    },
    istio: {
      chartDirectory: testCluster.charts,
      gatewayApiCrds: testCluster.gatewayApi,
      values: testIstioValues(),
    },
  };
}

/** Operations that do work; `same` and `read` steps finish at once. */
const WORKING_OPS = new Set([
  "create",
  "update",
  "delete",
  "replace",
  "create-replacement",
  "delete-replaced",
]);
/**
 * The stack and the program's components are open while their children run, so they would count as
 * operations as long as the step; only resources a provider works on count.
 */
const isProviderResource = (type: string) =>
  type !== "pulumi:pulumi:Stack" && !type.startsWith(`${PROJECT}:`);

/** Follows the engine's events of one step: how many operations were in flight at once, and the slowest. */
export class OperationTracker {
  private readonly started = new Map<string, number>();
  widest = 0;
  slowest?: { resource: string; seconds: number };

  constructor(private readonly now: () => number = Date.now) {}

  readonly onEvent = (event: EngineEvent): void => {
    const begun = event.resourcePreEvent?.metadata;
    if (begun && WORKING_OPS.has(begun.op) && isProviderResource(begun.type)) {
      this.started.set(begun.urn, this.now());
      this.widest = Math.max(this.widest, this.started.size);
    }
    const ended = event.resOutputsEvent?.metadata ?? event.resOpFailedEvent?.metadata;
    const start = ended && this.started.get(ended.urn);
    if (ended && start !== undefined) {
      this.started.delete(ended.urn);
      const seconds = (this.now() - start) / 1000;
      if (!this.slowest || seconds > this.slowest.seconds) {
        this.slowest = { resource: `${ended.type}::${ended.urn.split("::").pop()}`, seconds };
      }
    }
  };
}

/** A step of the cycle failed: which one, and the engine's message. */
export class StepFailedError extends Error {
  constructor(
    readonly step: BenchStep,
    cause: unknown,
  ) {
    super(`${step} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "StepFailedError";
  }
}

const resourceCount = async (stack: Stack) => (await stack.exportStack()).deployment?.resources?.length ?? 0;

/**
 * One cycle at one size on a fresh test cluster: first preview, up from empty, a preview that must find no
 * change, the switch to ambient and back, destroy. Each step is timed on its own, with the peak
 * memory of the engine, its providers and this process, and, for the steps that change the cluster,
 * what istiod reports of its pushes. The engine's output goes to `logPath`.
 */
export async function runCycle(
  testCluster: BenchCluster,
  size: { zones: number; replicas: number; run: number },
  parallel: number | undefined,
  logPath: string,
): Promise<StepSample[]> {
  const test = await createTestStack("bench", benchConfig(testCluster, size.zones, size.replicas));
  const log = fs.createWriteStream(logPath);
  let tracker = new OperationTracker();
  const run = {
    onOutput: (text: string) => log.write(text),
    onEvent: (e: EngineEvent) => tracker.onEvent(e),
    parallel,
  };
  const samples: StepSample[] = [];
  const measure = async (step: BenchStep, action: () => Promise<void>) => {
    log.write(`\n== ${step}\n`);
    tracker = new OperationTracker();
    const memory = new MemoryPeaks();
    const cpu = new MachineCpu();
    const meter = PUSHING_STEPS.includes(step)
      ? await IstiodPushMeter.start(`http://${TEST_ISTIOD.host}:${TEST_ISTIOD.monitoring}/metrics`)
      : undefined;
    const started = Date.now();
    const failure = await action().then(
      () => undefined,
      (error: unknown) => new StepFailedError(step, error),
    );
    const seconds = (Date.now() - started) / 1000;
    const machineBusyPercent = cpu.busyPercent();
    const peaks = memory.stop();
    const istiod = await meter?.stop();
    if (failure) throw failure;
    samples.push({
      ...size,
      step,
      seconds,
      ...peaks,
      resources: await resourceCount(test.stack),
      machineBusyPercent,
      ...(parallel ? { parallel } : {}),
      widest: tracker.widest,
      ...(tracker.slowest ? { slowest: tracker.slowest } : {}),
      ...(istiod ? { istiod } : {}),
    });
  };
  const switchTo = (mode: DataplaneMode) => async () => {
    await test.stack.setConfig(MODE_KEY, { value: mode });
    await test.stack.up(run);
  };
  try {
    await measure("first preview", async () => void (await test.stack.preview(run)));
    await measure("up", async () => void (await test.stack.up(run)));
    await measure("no-change preview", async () => {
      const { changeSummary } = await test.stack.preview(run);
      const changes = Object.entries(changeSummary).filter(
        ([op, count]) => op !== "same" && op !== "read" && count > 0,
      );
      if (changes.length) {
        throw new Error(
          `the no-change preview found changes: ${changes.map(([op, n]) => `${op} ${n}`).join(", ")}`,
        );
      }
    });
    await measure("switch to ambient", switchTo("ambient"));
    await measure("switch back", switchTo("sidecar"));
    await measure("destroy", async () => void (await test.stack.destroy(run)));
  } finally {
    log.end();
    await test.remove();
  }
  return samples;
}
