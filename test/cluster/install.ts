/** Steps 0–2: the sidecar install, judged by the API server and by Istio (webhook, injection, xDS). */
import { execFile } from "child_process";
import * as path from "path";
import { promisify } from "util";
import { CannotAnswerError } from "../../cli/shared/can-answer";
import { Check, waitFor } from "../../cli/shared/interrupt";
import { connectStack } from "../../cli/shared/stack";
import { measureSwitch } from "../../cli/switch/measure";
import { PROBE_RUN_LABEL } from "../../cli/switch/probe";
import { checkLocality } from "../../cli/verify/check";
import { configKey, DEFAULTS, ENGINE_PARALLEL } from "../../stacks/contract";
import { istioMinorOf, testedMinor } from "../../stacks/versions";
import {
  expectAnalyzeClean,
  expectInjected,
  expectSidecarMode,
  expectTrafficDistribution,
  expectValidatedByIstio,
  expectWorkloadsInTheirZones,
} from "../helpers/cluster-tier-checks";
import { expectSidecarEndpoints, expectSidecarsAcceptOnlyMtls } from "../helpers/cluster-tier-mesh-checks";
import {
  cluster,
  hostOf,
  istioBin,
  tier,
  NAMESPACE,
  networkingObject,
  NODES,
  SERVICES,
  SETTLING,
  STRICT_MTLS,
  timed,
} from "../helpers/cluster-tier-setting";
import { PROJECT_DIR } from "../helpers/stacks";
import { inlineProgram } from "../helpers/workspace";

export function installSteps(): void {
  it("0. the test cluster runs the Kubernetes and Istio minors the program installs by default", async () => {
    const server = (await cluster.version.getCode()).body;
    expect(`v${server.major}.${server.minor}`).toBe(DEFAULTS.cluster.kubernetesVersion.replace(/\.\d+$/, ""));
    const { stdout } = await promisify(execFile)(path.join(istioBin, "pilot-discovery"), [
      "version",
      "--short",
    ]);
    // "client version: 1.30-alpha.<commit>": the minor of the release branch the test cluster builds.
    expect(/(\d+\.\d+)-/.exec(stdout)?.[1]).toBe(istioMinorOf(DEFAULTS.istio.version));
    expect(testedMinor().minor).toBe(istioMinorOf(DEFAULTS.istio.version));
  });

  it("1. up in sidecar mode: releases, zones, labels, locality, gateway", async () => {
    const result = await timed("up (sidecar)", () =>
      tier.test.stack.up({ onOutput: () => undefined, parallel: ENGINE_PARALLEL }),
    );
    expect(result.summary.result).toBe("succeeded");
    expect(await cluster.nodeZones()).toEqual(NODES);
    await expectSidecarMode();
    await expectWorkloadsInTheirZones("sidecar");
    await expectTrafficDistribution();
    await expectInjected();
    await expectValidatedByIstio([
      ...SERVICES.map((s) => networkingObject("destinationrules", `${s}-locality`)),
      networkingObject("gateways", "bookinfo-gateway"),
      networkingObject("virtualservices", NAMESPACE),
      STRICT_MTLS,
    ]);
    await expectSidecarEndpoints("strict");
    await expectSidecarsAcceptOnlyMtls();
    await expectAnalyzeClean("up (sidecar)");
  });

  it("1a. Istio's webhook denies a locality rule Istio cannot read, with Istio's message", async () => {
    const rule = {
      apiVersion: "networking.istio.io/v1",
      kind: "DestinationRule",
      metadata: { name: "unreadable-locality", namespace: NAMESPACE },
      spec: {
        host: hostOf("reviews"),
        trafficPolicy: {
          loadBalancer: {
            localityLbSetting: {
              enabled: true,
              distribute: [{ from: "*/zone-a/*", to: { "*/zone-a/*": 100 } }],
            },
          },
        },
      },
    };
    const denial = cluster.custom
      .createNamespacedCustomObject(
        "networking.istio.io",
        "v1",
        NAMESPACE,
        "destinationrules",
        rule,
        undefined,
        "All",
      )
      .then(
        () => "accepted",
        (error: { body?: { message?: string }; message?: string }) =>
          error.body?.message ?? error.message ?? "rejected without a message",
      );
    await expect(denial).resolves.toMatch(
      /validation\.istio\.io.*locality \*\/zone-a\/\* wildcard '\*' number can not exceed 1 and must be in the end/s,
    );
  });

  it("1b. failover and off, as istiod computes them for each zone's client", async () => {
    for (const intent of ["failover", "off", "strict"] as const) {
      await tier.test.stack.setConfig(configKey("locality"), { value: intent });
      await tier.test.stack.up({ onOutput: () => undefined, parallel: ENGINE_PARALLEL });
      await waitFor(
        `istiod to push the ${intent} endpoints`,
        async (): Promise<Check<true>> => {
          try {
            await expectSidecarEndpoints(intent);
            return { done: true, value: true };
          } catch (error) {
            return { done: false, reason: String(error).slice(0, 300) };
          }
        },
        SETTLING,
      );
    }
  });

  it("1c. verify and switch see that kwok pods serve no traffic and say so instead of reporting numbers", async () => {
    const deployed = await connectStack({
      workDir: PROJECT_DIR,
      stackName: tier.test.name,
      envVars: tier.test.envVars,
      program: inlineProgram,
    });
    const log: string[] = [];
    const verifying = checkLocality(deployed, {
      requests: 3,
      vias: ["reviews"],
      log: (line) => log.push(line),
    });
    await expect(verifying).rejects.toBeInstanceOf(CannotAnswerError);
    await expect(verifying).rejects.toThrow(/cannot answer/);

    const apply = jest.fn(() => Promise.resolve());
    const measuring = measureSwitch(deployed, {
      runId: "lab-test",
      rate: 20,
      settleSeconds: 0,
      apply,
      signal: new AbortController().signal,
      log: (line) => log.push(line),
    });
    await expect(measuring).rejects.toThrow(/cannot answer.*the switch was not started/s);
    expect(apply).not.toHaveBeenCalled();
    expect(await cluster.pods(NAMESPACE, `${PROBE_RUN_LABEL}=lab-test`)).toEqual([]);
  });

  it("2. a second preview reports no changes", async () => {
    const preview = await timed("preview, no changes", () => tier.test.stack.preview({ diff: false }));
    // `read` is the stack reading its own previous outputs, every run; it changes nothing.
    expect(Object.keys(preview.changeSummary).filter((op) => op !== "same" && op !== "read")).toEqual([]);
  });
}
