import { LocalWorkspace, PulumiFn, Stack } from "@pulumi/pulumi/automation";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import * as yaml from "js-yaml";
import type { DataplaneMode } from "../../stacks/config";
import { describeFailure } from "./answerable";
import { UsageError } from "./exit";
import { LabCluster } from "./kube";
import { LabOutputs, parseLabOutputs } from "./outputs";
import { MODE_KEY } from "./plan";

/** Which stack of which project, and extra environment for the Pulumi CLI (e.g. a test backend). */
export interface StackRef {
  /** The Pulumi project directory (where Pulumi.yaml is). */
  workDir: string;
  stackName: string;
  /** Added to the environment the Pulumi CLI runs with; PULUMI_* from the user's environment apply anyway. */
  envVars?: Record<string, string>;
  /**
   * Runs the program in this process (the automation API's inline mode) instead of through the
   * Pulumi CLI's Node.js language host; the project's Pulumi.yaml and stack files still apply.
   */
  program?: PulumiFn;
}

/** Selects an existing stack of the project at `workDir`, as a local (or, given `program`, inline) program. */
export async function openStack(ref: StackRef): Promise<Stack> {
  try {
    return ref.program
      ? await LocalWorkspace.selectStack(
          { stackName: ref.stackName, projectName: "istio-locality", program: ref.program },
          { workDir: ref.workDir, envVars: ref.envVars },
        )
      : await LocalWorkspace.selectStack(
          { stackName: ref.stackName, workDir: ref.workDir },
          { envVars: ref.envVars },
        );
  } catch (error) {
    throw new UsageError(
      `cannot select stack \`${ref.stackName}\` in ${ref.workDir}: ${describeFailure(error)}`,
    );
  }
}

/**
 * The stack's config file as the automation API finds it: `Pulumi.<stack>.yaml` (or .yml, .json) in the
 * project directory, named by the last part of a fully qualified stack name. The `.yaml` path when none exists.
 */
export async function stackConfigFile(
  workDir: string,
  stackName: string,
): Promise<{ path: string; text?: string }> {
  const short = stackName.split("/").pop() ?? stackName;
  for (const ext of [".yaml", ".yml", ".json"]) {
    const file = path.join(workDir, `Pulumi.${short}${ext}`);
    try {
      return { path: file, text: await fs.readFile(file, "utf8") };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  return { path: path.join(workDir, `Pulumi.${short}.yaml`) };
}

/** The data plane a stack config file names, or undefined when it leaves it to the project default. */
export function configuredMode(stackFileText: string | undefined): DataplaneMode | undefined {
  const parsed = stackFileText
    ? (yaml.load(stackFileText) as { config?: Record<string, unknown> } | undefined)
    : undefined;
  const value = parsed?.config?.[MODE_KEY];
  return value === "sidecar" || value === "ambient" ? value : undefined;
}

/** A deployed lab: its stack, its outputs and a client for its cluster. */
export interface Lab {
  stack: Stack;
  outputs: LabOutputs;
  cluster: LabCluster;
}

/** Opens a deployed stack and connects to its cluster with the stack's own kubeconfig. */
export async function connectLab(ref: StackRef): Promise<Lab> {
  const stack = await openStack(ref);
  const outputs = parseLabOutputs(await stack.outputs(), ref.stackName);
  return { stack, outputs, cluster: new LabCluster(outputs.kubeconfig, outputs.namespace) };
}

/** Reads the outputs again (after an `up`), keeping the cluster connection. */
export async function refreshLab(lab: Lab, stackName: string): Promise<Lab> {
  return { ...lab, outputs: parseLabOutputs(await lab.stack.outputs(), stackName) };
}
