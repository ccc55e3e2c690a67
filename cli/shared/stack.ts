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

/** An operation the state holds as begun and never finished. */
export interface PendingOperation {
  type: string;
  urn: string;
}

/** The operations an exported state (`deployment` of `pulumi stack export`) holds as pending. */
export function pendingIn(deployment: unknown): PendingOperation[] {
  // The Automation API types the export's deployment as any; this is the field Pulumi's state format names.
  const state = deployment as
    { pending_operations?: { type: string; resource: { urn: string } }[] } | undefined;
  return (state?.pending_operations ?? []).map((o) => ({ type: o.type, urn: o.resource.urn }));
}

/** The operations a stack's state holds as pending (an engine killed mid-update leaves them). */
export async function pendingOperations(stack: Stack): Promise<PendingOperation[]> {
  return pendingIn((await stack.exportStack()).deployment);
}

/** The logical name and type of a URN, for a line a user reads. */
export const describeOperation = (o: PendingOperation): string =>
  `${o.type} ${o.urn.split("::").pop()} (${o.urn.split("::")[2]?.split("$").pop()})`;

/** What the tools know of a stack before they touch it, read once per run. */
export interface StackState {
  stack: Stack;
  /** The stack's config file: its path, and its text when it exists. */
  file: { path: string; text?: string };
  /** The outputs of its last run. */
  outputs: OutputMap;
  /** What its cluster runs; the error when the cluster did not answer; undefined for a stack never deployed. */
  live: LiveMesh | Error | undefined;
  /** Operations a killed engine left pending. */
  pending: PendingOperation[];
  /** The mode it runs now, where that was read (see {@link currentMode}), and a half-done switch in words. */
  current: { mode: DataplaneMode; source: ModeSource; halfSwitched?: string };
}

/** Opens a stack and reads its config file, outputs, pending operations and what its cluster runs, once. */
export async function readStackState(ref: StackRef): Promise<StackState> {
  const stack = await openStack(ref);
  const outputsRead = stack.outputs();
  // The cluster is asked as soon as the outputs name it, while the state is still being exported.
  const [file, outputs, pending, live] = await Promise.all([
    stackConfigFile(ref.workDir, ref.stackName),
    outputsRead,
    pendingOperations(stack),
    outputsRead.then(liveMeshOf),
  ]);
  const lastRun: unknown = outputs.dataplaneMode?.value;
  const answered = live instanceof Error ? undefined : live;
  const mode = currentMode(
    isDataplaneMode(lastRun) ? lastRun : undefined,
    configuredMode(file.text),
    answered && wholeMode(answered),
  );
  const current =
    answered && halfSwitched(answered) ? { ...mode, halfSwitched: describeMesh(answered) } : mode;
  return { stack, file, outputs, live, pending, current };
}

/** What the cluster of a deployed stack runs; undefined for a stack never deployed, the error for a cluster that does not answer. */
async function liveMeshOf(outputs: OutputMap): Promise<LiveMesh | Error | undefined> {
  const kubeconfig: unknown = outputs.kubeconfig?.value;
  const namespace: unknown = outputs.bookinfoNamespace?.value;
  if (typeof kubeconfig !== "string" || typeof namespace !== "string") return undefined;
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  return readMesh(config, namespace).catch((error: unknown) =>
    error instanceof Error ? error : new Error(String(error)),
  );
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
  return deployedStack(stack, await stack.outputs(), ref.stackName);
}

/** A deployed stack from outputs already read (see {@link readStackState}). */
export function deployedStack(stack: Stack, outputs: OutputMap, stackName: string): DeployedStack {
  const toolOutputs = readToolOutputs(outputs, stackName);
  return {
    stack,
    outputs: toolOutputs,
    cluster: new BookinfoClient(toolOutputs.kubeconfig, toolOutputs.bookinfoNamespace),
  };
}

/** Reads the outputs again (after an `up`), keeping the cluster connection. */
export async function refreshOutputs(deployed: DeployedStack, stackName: string): Promise<DeployedStack> {
  return { ...deployed, outputs: readToolOutputs(await deployed.stack.outputs(), stackName) };
}
