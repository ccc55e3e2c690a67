import { DEFAULTS } from "../../stacks/contract";
import { labIstioValues } from "../helpers/istiod";
import {
  analyzed,
  charts,
  durations,
  gatewayApi,
  istiod,
  kubeconfig,
  lab,
  LAB_MIN_READY_SECONDS,
  NODES,
} from "../helpers/lab-setting";
import { createTestStack } from "../helpers/workspace";
import { drainSteps } from "./drain";
import { installSteps } from "./install";
import { interruptedSwitchSteps } from "./interrupted-switches";
import { lifecycleSteps } from "./lifecycle";
import { switchSteps } from "./switch";

jest.setTimeout(30 * 60 * 1000);

describe("the program against a real API server (kwok lab)", () => {
  beforeAll(async () => {
    istiod.start();
    lab.test = await createTestStack("lab", {
      dataplaneMode: "sidecar",
      cluster: {
        provider: "existing",
        kubeconfig,
        nodeZones: NODES,
        kubernetesVersion: DEFAULTS.cluster.kubernetesVersion,
      },
      istio: { chartDirectory: charts, gatewayApiCrds: gatewayApi, values: labIstioValues() },
      // Strict mTLS from the start: it must hold in both modes and through both switches.
      mtls: "strict",
      // kwok's pods are ready the moment they run, and the lab's istiod pushes within a second: a short
      // wait keeps every rollout generation of the tier short without changing what it proves.
      bookinfo: { minReadySeconds: LAB_MIN_READY_SECONDS },
    });
  });

  afterAll(async () => {
    if (lab.test && !lab.destroyed) await lab.test.stack.destroy({ onOutput: () => undefined });
    if (lab.test) await lab.test.remove();
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
