import { Stack } from "@pulumi/pulumi/automation";
import { MODE_KEY } from "../../stacks/contract";

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
}

/**
 * Makes a stack whose engine was killed mid-update runnable again, in the two steps Pulumi
 * prescribes: `pulumi cancel` removes the update lock the dead engine still holds (every later update
 * refuses to start while it is there), and `pulumi refresh --clear-pending-creates` reads every
 * resource back from the cluster and forgets the creates that never reported back. What the killed
 * update did in the cluster stays; the next `up` redoes the cleared creates (the program's patches
 * take their fields by force, its objects are applied server-side).
 */
export async function recoverStack(stack: Stack, onOutput?: (text: string) => void): Promise<Recovery> {
  const cleared = await pendingOperations(stack);
  await stack.cancel();
  await stack.refresh({ clearPendingCreates: true, onOutput });
  return { cleared };
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
    "Either orders itself by what the cluster runs (see README, When a switch stops half way).",
  ];
}
