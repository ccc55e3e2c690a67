import { Stack } from "@pulumi/pulumi/automation";
import { MODE_KEY } from "../../stacks/contract";
import { recordedPatches, UndonePatch, undoUnrecordedPatches } from "./patches";

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
 * ({@link undoUnrecordedPatches}) with the kubeconfig of the stack's last outputs.
 */
export async function recoverStack(stack: Stack, onOutput?: (text: string) => void): Promise<Recovery> {
  const cleared = await pendingOperations(stack);
  await stack.cancel();
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
