/** Steps 6–7: destroy, and a stack deployed by an earlier commit previewed by this one. */
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { summarisePlan } from "../../cli/preview-switch/plan";
import { ENGINE_PARALLEL } from "../../stacks/contract";
import { testIstioValues } from "../helpers/istiod";
import {
  charts,
  cluster,
  kubeconfig,
  tier,
  TIER_MIN_READY_SECONDS,
  NAMESPACE,
  NODES,
  timed,
  UNRECORDED_COMMIT,
} from "../helpers/cluster-tier-setting";
import { PROJECT_DIR } from "../helpers/stacks";
import { createTestStack } from "../helpers/workspace";

export function lifecycleSteps(): void {
  it("6. destroy leaves no namespace, release, Istio custom resource, zone label or stack file behind", async () => {
    await timed("destroy", () =>
      tier.test.stack.destroy({ onOutput: () => undefined, parallel: ENGINE_PARALLEL }),
    );
    tier.destroyed = true;
    const namespaces = await cluster.namespaceNames();
    for (const namespace of [NAMESPACE, "istio-system", "istio-ingress"])
      expect(namespaces).not.toContain(namespace);
    // Istio's CRDs stay (the base chart marks them `helm.sh/resource-policy: keep`); nothing of them does.
    expect(await cluster.istioCustomResources()).toEqual([]);
    expect(Object.values(await cluster.nodeZones()).filter((zone) => zone !== undefined)).toEqual([]);
    await tier.test.remove();
    expect(fs.existsSync(path.join(PROJECT_DIR, `Pulumi.${tier.test.name}.yaml`))).toBe(false);
  });

  it("7. a stack deployed by the last commit before versions were recorded keeps them: its preview changes nothing and says how to move", async () => {
    // That commit's project, as a user's checkout of it: its Pulumi.yaml (whose defaults were Istio
    // 1.26.6 and Kubernetes v1.32.0), its program, this checkout's packages (the same lockfile).
    const previous = fs.mkdtempSync(path.join(os.tmpdir(), "istio-locality-previous-"));
    await promisify(execFile)("bash", [
      "-c",
      'git -C "$1" archive --format=tar "$2" Pulumi.yaml package.json tsconfig.json components stacks | tar -x -C "$3"',
      "archive",
      PROJECT_DIR,
      UNRECORDED_COMMIT,
      previous,
    ]);
    fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(previous, "node_modules"));
    const { declareStack: declarePrevious } = (await import(path.join(previous, "components", "lab"))) as {
      declareStack: () => Promise<Record<string, unknown>>;
    };

    const config = {
      dataplaneMode: "sidecar",
      cluster: { provider: "existing", kubeconfig, nodeZones: NODES },
      istio: { chartDirectory: charts, values: testIstioValues() },
      bookinfo: { minReadySeconds: TIER_MIN_READY_SECONDS },
    };
    const current = await createTestStack("previous", config);
    const stackFile = `Pulumi.${current.name}.yaml`;
    fs.copyFileSync(path.join(PROJECT_DIR, stackFile), path.join(previous, stackFile));
    const deployedBefore = await LocalWorkspace.selectStack(
      { stackName: current.name, projectName: "istio-locality", program: declarePrevious },
      { workDir: previous, envVars: current.envVars, pulumiHome: current.envVars.PULUMI_HOME },
    );
    try {
      const up = await timed("up (the previous commit's program)", () =>
        deployedBefore.up({ onOutput: () => undefined, parallel: ENGINE_PARALLEL }),
      );
      expect(up.summary.result).toBe("succeeded");
      expect(up.outputs.istioVersion).toBeUndefined();

      const events: EngineEvent[] = [];
      const preview = await current.stack.preview({ onEvent: (e) => events.push(e) });
      expect(summarisePlan(events)).toEqual([]);
      // The stack's own outputs are read (a StackReference), nothing else is touched.
      expect(Object.keys(preview.changeSummary).filter((op) => op !== "same" && op !== "read")).toEqual([]);
      const warnings = events.flatMap((e) =>
        e.diagnosticEvent?.severity === "warning" ? [e.diagnosticEvent.message.trim()] : [],
      );
      expect(warnings).toEqual(
        expect.arrayContaining([
          expect.stringContaining("this stack keeps the Istio 1.26.6 it runs; new stacks get 1.30.5"),
          expect.stringContaining("Istio 1.26 reached its end of life on 2025-12-22"),
        ]),
      );
      const releases = await cluster.helmReleases("istio-system");
      expect(releases).toEqual(["istio-base", "istiod"]);
    } finally {
      await current.stack.destroy({ onOutput: () => undefined, parallel: ENGINE_PARALLEL });
      await current.remove();
      fs.rmSync(previous, { recursive: true, force: true });
    }
  });
}
