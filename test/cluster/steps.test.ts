import { DEFAULTS } from "../../stacks/contract";
import { testIstioValues } from "../helpers/istiod";
import {
  analyzed,
  charts,
  durations,
  gatewayApi,
  istiod,
  kubeconfig,
  tier,
  TIER_MIN_READY_SECONDS,
  NODES,
} from "../helpers/cluster-tier-setting";
import { createTestStack } from "../helpers/workspace";
import { drainSteps } from "./drain";
import { installSteps } from "./install";
import { interruptedSwitchSteps } from "./interrupted-switches";
import { lifecycleSteps } from "./lifecycle";
import { switchSteps } from "./switch";

jest.setTimeout(30 * 60 * 1000);

describe("the program against a real API server (the test cluster)", () => {
  beforeAll(async () => {
    istiod.start();
    tier.test = await createTestStack("cluster", {
      dataplaneMode: "sidecar",
      cluster: {
        provider: "existing",
        kubeconfig,
        nodeZones: NODES,
        kubernetesVersion: DEFAULTS.cluster.kubernetesVersion,
      },
      istio: { chartDirectory: charts, gatewayApiCrds: gatewayApi, values: testIstioValues() },
      // Strict mTLS from the start: it must hold in both modes and through both switches.
      mtls: "strict",
      // kwok's pods are ready the moment they run, and the test cluster's istiod pushes within a second: a short
      // wait keeps every rollout generation of the tier short without changing what it proves.
      bookinfo: { minReadySeconds: TIER_MIN_READY_SECONDS },
    });
  });

  afterAll(async () => {
    if (tier.test && !tier.destroyed) await tier.test.stack.destroy({ onOutput: () => undefined });
    if (tier.test) await tier.test.remove();
    await istiod?.stop();
    console.log(
      `istiod ran ${istiod?.runs.length} times: ` +
        (istiod?.runs ?? [])
          .map(
            (r) => `${r.pod} ready in ${r.readyAt ? ((r.readyAt - r.startedAt) / 1000).toFixed(1) : "-"} s`,
          )
          .join("; "),
    );
    console.log(`istioctl analyze:\n${analyzed.join("\n") || "no messages"}`);
    console.log(
      [
        "| step | seconds |",
        "| --- | ---: |",
        ...durations.map(([label, s]) => `| ${label} | ${s.toFixed(1)} |`),
      ].join("\n"),
    );
  });

  installSteps();
  switchSteps();
  interruptedSwitchSteps();
  drainSteps();
  lifecycleSteps();
});
