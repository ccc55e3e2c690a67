import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Stack } from "@pulumi/pulumi/automation";
import { MODE_KEY, PROJECT } from "../../stacks/contract";
import { EXIT, ExitCode } from "../shared/exit";
import { confirm } from "../shared/prompt";
import { configuredMode, openStack, StackRef, stackConfigFile } from "../shared/stack";
import { RecoverOptions } from "./options";
import { describeUndone, recordedPatches, UndonePatch, undoUnrecordedPatches } from "./patches";

/** An operation the state holds as begun and never finished. */
export interface PendingOperation {
  type: string;
  urn: string;
}

/** The operations a stack's exported state holds as pending (an engine killed mid-update leaves them). */
export async function pendingOperations(stack: Stack): Promise<PendingOperation[]> {
  // The Automation API types the export's deployment as any; this is the field Pulumi's state format names.
  const deployment = (await stack.exportStack()).deployment as
    { pending_operations?: { type: string; resource: { urn: string } }[] } | undefined;
  return (deployment?.pending_operations ?? []).map((o) => ({ type: o.type, urn: o.resource.urn }));
}

/**
 * Where a file backend (`pulumi login --local` is `file://~`, or any `file://` URL) keeps its stacks'
 * update locks; undefined for other backends, which keep them to themselves.
 */
export function lockFolder(backendUrl: string | undefined): string | undefined {
  if (!backendUrl?.startsWith("file://")) return undefined;
  const root = backendUrl.startsWith("file://~")
    ? path.join(os.homedir(), backendUrl.slice("file://~".length))
    : fileURLToPath(backendUrl);
  return path.join(root, ".pulumi", "locks");
}

/**
 * Whether a stack's update lock is held: on a file backend, whether a lock file exists under
 * `<locks>/<organization>/<project>/<stack>/`; undefined where the backend cannot be asked.
 */
export async function updateLockHeld(stack: Stack): Promise<boolean | undefined> {
  const locks = lockFolder((await stack.workspace.whoAmI()).url);
  if (!locks) return undefined;
  const stackName = stack.name.split("/").pop() ?? stack.name;
  const organizations = await fs.readdir(locks).catch(() => []);
  for (const organization of organizations) {
    const held = await fs.readdir(path.join(locks, organization, PROJECT, stackName)).catch(() => []);
    if (held.length > 0) return true;
  }
  return false;
}

/** The logical name and type of a URN, for a line a user reads. */
export const describeOperation = (o: PendingOperation): string =>
  `${o.type} ${o.urn.split("::").pop()} (${o.urn.split("::")[2]?.split("$").pop()})`;

/** What {@link recoverStack} did. */
export interface Recovery {
  /** The operations that were pending before, now cleared from the state. */
  cleared: PendingOperation[];
  /** The patches whose live object was put back to what the state records. */
  undone: UndonePatch[];
}

/**
 * Makes a stack whose engine was killed mid-update runnable again. Pulumi prescribes two steps:
 * `pulumi cancel` removes the update lock the dead engine still holds (every later update refuses to
 * start while it is there), and `pulumi refresh --clear-pending-creates` reads every resource back
 * from the cluster and forgets the creates that never reported back. What the killed update did to
 * the program's objects stays and is reconciled by the next `up` (they are applied server-side).
 * Between the two, a third step: a Patch resource whose update the engine never recorded keeps its
 * old inputs in the state, so a rollback, declaring those same inputs, would apply nothing and leave
 * the killed update's labels on the namespace; such patches are applied again as recorded
 * ({@link undoUnrecordedPatches}) with the kubeconfig of the stack's last outputs. A stack with
 * no pending operation needs only the lock removed.
 */
export async function recoverStack(stack: Stack, onOutput?: (text: string) => void): Promise<Recovery> {
  const cleared = await pendingOperations(stack);
  await stack.cancel();
  // Without a pending operation every step the killed update took is recorded: the state is whole.
  if (cleared.length === 0) return { cleared, undone: [] };
  const kubeconfig: unknown = (await stack.outputs()).kubeconfig?.value;
  const undone =
    typeof kubeconfig === "string"
      ? await undoUnrecordedPatches(kubeconfig, recordedPatches((await stack.exportStack()).deployment))
      : [];
  await stack.refresh({ clearPendingCreates: true, onOutput });
  return { cleared, undone };
}

/** What to run once the stack is recovered: finish the switch, or go back. */
export function afterRecovery(
  stack: string,
  configured: string | undefined,
  previous: string | undefined,
): string[] {
  const flag = `--stack ${stack}`;
  return [
    `The stack is runnable again. Its config says ${MODE_KEY}=${configured ?? "(the project default)"}.`,
    `  finish what the killed update started:  pulumi up ${flag}`,
    ...(previous && previous !== configured
      ? [`  or go back:  pulumi config set ${MODE_KEY} ${previous} ${flag} && pulumi up ${flag}`]
      : []),
    "Either orders itself by what the cluster runs (see docs/switching.md, When a switch stops half way).",
  ];
}

/** Where a recover run writes: Pulumi's progress, and this command's own lines. */
export interface RecoverIo {
  out: (text: string) => void;
  log: (line: string) => void;
  /** Asks a yes/no question; undefined where there is no terminal to ask on. */
  ask?: (question: string) => Promise<boolean>;
}

const CONSOLE: RecoverIo = {
  out: (text) => process.stdout.write(text),
  log: (line) => console.log(line),
  ask: process.stdin.isTTY ? confirm : undefined,
};

/**
 * `npm run recover`: finds what a killed engine left (pending operations, the update lock), says
 * so and stops when it left nothing, else asks and recovers ({@link recoverStack}).
 */
export async function runRecover(
  options: RecoverOptions,
  io: RecoverIo = CONSOLE,
  ref: StackRef = { workDir: options.cwd, stackName: options.stack },
): Promise<ExitCode> {
  const stack = await openStack(ref);
  const pending = await pendingOperations(stack);
  const locked = await updateLockHeld(stack);
  if (pending.length === 0 && locked === false) {
    io.log(`Stack \`${options.stack}\` holds no pending operation and no update lock: nothing to recover.`);
    return EXIT.ok;
  }
  io.log(
    pending.length
      ? `Stack \`${options.stack}\` holds ${pending.length} pending operation(s): ${pending.map(describeOperation).join(", ")}`
      : `Stack \`${options.stack}\` holds no pending operation; ${locked ? "its update lock is held" : "its update lock may still be held"}.`,
  );
  const question = `Remove the update lock of \`${options.stack}\`${pending.length ? " and refresh it" : ""}? Only when no \`pulumi up\` of it runs anywhere.`;
  if (!options.yes && !(io.ask && (await io.ask(question)))) {
    io.log(io.ask ? "Nothing changed." : "There is no terminal to ask on; pass --yes.");
    return EXIT.usage;
  }
  const previous: unknown = (await stack.outputs()).dataplaneMode?.value;
  const { undone } = await recoverStack(stack, io.out);
  for (const patch of undone) io.log(describeUndone(patch));
  const file = await stackConfigFile(ref.workDir, ref.stackName);
  for (const line of afterRecovery(
    options.stack,
    configuredMode(file.text),
    typeof previous === "string" ? previous : undefined,
  )) {
    io.log(line);
  }
  return EXIT.ok;
}
