import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Stack } from "@pulumi/pulumi/automation";
import { MODE_KEY, PROJECT } from "../../stacks/contract";
import { PendingOperation, pendingIn } from "../shared/stack";
import { recordedPatches, UndonePatch, undoUnrecordedPatches } from "./patches";

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
  // One export serves both reads: `cancel` removes the lock and leaves the state as it is.
  const deployment: unknown = (await stack.exportStack()).deployment;
  const cleared = pendingIn(deployment);
  await stack.cancel();
  // Without a pending operation every step the killed update took is recorded: the state is whole.
  if (cleared.length === 0) return { cleared, undone: [] };
  const kubeconfig: unknown = (await stack.outputs()).kubeconfig?.value;
  const undone =
    typeof kubeconfig === "string"
      ? await undoUnrecordedPatches(kubeconfig, recordedPatches(deployment))
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
