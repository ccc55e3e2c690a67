import { KubeConfig } from "@kubernetes/client-node";
import { LocalWorkspace, OutputMap, PulumiFn, Stack } from "@pulumi/pulumi/automation";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import * as yaml from "js-yaml";
import {
  DataplaneMode,
  MODE_KEY,
  ModeSource,
  PROJECT,
  ToolOutputs,
  currentMode,
  isDataplaneMode,
  readToolOutputs,
} from "../../stacks/contract";
import { describeMesh, halfSwitched, LiveMesh, readMesh, wholeMode } from "../../readers/live-mesh";
import { BookinfoClient } from "./cluster-client";
import { UsageError } from "./exit";
import { describeFailure } from "./failure";

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

/**
 * What the tools add to the Pulumi CLI's environment. The language host runs the program
 * transpile-only: the tools run it several times per command (a switch previews, then updates), and
 * `npm run typecheck` (part of `npm test`) is where the program's types are checked. Plain `pulumi`
 * commands keep Pulumi's default and type-check it on every run.
 */
export function toolEnvVars(ref: Pick<StackRef, "envVars">): Record<string, string> {
  return { PULUMI_NODEJS_TRANSPILE_ONLY: "true", ...ref.envVars };
}

/**
 * Selects the stack of the project at `workDir` — or creates it, given `create` — as a local (or,
 * given `program`, inline) program.
 */
export async function openStack(ref: StackRef, create = false): Promise<Stack> {
  const envVars = toolEnvVars(ref);
  try {
    if (ref.program) {
      const args = { stackName: ref.stackName, projectName: PROJECT, program: ref.program };
      const opts = { workDir: ref.workDir, envVars };
      return create
        ? await LocalWorkspace.createOrSelectStack(args, opts)
        : await LocalWorkspace.selectStack(args, opts);
    }
    const args = { stackName: ref.stackName, workDir: ref.workDir };
    return create
      ? await LocalWorkspace.createOrSelectStack(args, { envVars })
      : await LocalWorkspace.selectStack(args, { envVars });
  } catch (error) {
    throw new UsageError(
      `cannot ${create ? "create or select" : "select"} stack \`${ref.stackName}\` in ${ref.workDir}: ${describeFailure(error)}`,
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
  return isDataplaneMode(value) ? value : undefined;
}

/** The mode a stack runs now, where that was read (see {@link currentMode}), and a half-done switch in words. */
export async function stackMode(
  stack: Stack,
  ref: StackRef,
): Promise<{ mode: DataplaneMode; source: ModeSource; halfSwitched?: string }> {
  const outputs = await stack.outputs();
  const lastRun: unknown = outputs.dataplaneMode?.value;
  const file = await stackConfigFile(ref.workDir, ref.stackName);
  const live = await liveMeshOf(outputs);
  const mode = currentMode(
    isDataplaneMode(lastRun) ? lastRun : undefined,
    configuredMode(file.text),
    live && wholeMode(live),
  );
  return live && halfSwitched(live) ? { ...mode, halfSwitched: describeMesh(live) } : mode;
}

/** What the cluster of a deployed stack runs; undefined for a stack never deployed, or a cluster that does not answer. */
async function liveMeshOf(outputs: OutputMap): Promise<LiveMesh | undefined> {
  const kubeconfig: unknown = outputs.kubeconfig?.value;
  const namespace: unknown = outputs.bookinfoNamespace?.value;
  if (typeof kubeconfig !== "string" || typeof namespace !== "string") return undefined;
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  return readMesh(config, namespace).catch(() => undefined);
}

/** A deployed stack: the stack, the outputs the tools read, and a client for its Bookinfo namespace. */
export interface DeployedStack {
  stack: Stack;
  outputs: ToolOutputs;
  cluster: BookinfoClient;
}

/** Opens a deployed stack and connects to its cluster with the stack's own kubeconfig. */
export async function connectStack(ref: StackRef): Promise<DeployedStack> {
  const stack = await openStack(ref);
  const outputs = readToolOutputs(await stack.outputs(), ref.stackName);
  return { stack, outputs, cluster: new BookinfoClient(outputs.kubeconfig, outputs.bookinfoNamespace) };
}

/** Reads the outputs again (after an `up`), keeping the cluster connection. */
export async function refreshOutputs(deployed: DeployedStack, stackName: string): Promise<DeployedStack> {
  return { ...deployed, outputs: readToolOutputs(await deployed.stack.outputs(), stackName) };
}
