import { currentMode, DataplaneMode, MODE_KEY, otherMode } from "../../stacks/contract";
import { describeMesh, halfSwitched, LiveMesh, wholeMode } from "../../readers/live-mesh";
import { UsageError } from "../shared/exit";
import { describeOperation, PendingOperation } from "../shared/stack";

/** What the switch tool knows of a stack before it touches anything. */
export interface StartingPoint {
  stack: string;
  to: DataplaneMode;
  /** The mode the stack's last run recorded in its outputs (which a cancelled run writes too). */
  recorded: DataplaneMode | undefined;
  /** What the cluster runs now; the error when it did not answer. */
  live: LiveMesh | Error | undefined;
  /** Operations the stack's state holds as begun and never finished (an engine that was killed). */
  pendingOperations: PendingOperation[];
}

/**
 * The mode a measured switch starts from, or a {@link UsageError} saying why it must not start and the
 * one command to run first. The mode is the one every tool reads ({@link currentMode}), and a
 * measured switch takes it only from the cluster: a switch measured from a half-switched cluster
 * would measure the rest of another switch, so the tool refuses it; the program itself finishes or
 * undoes such a switch.
 */
export function switchStart(point: StartingPoint): DataplaneMode {
  const stack = `--stack ${point.stack}`;
  if (point.pendingOperations.length > 0) {
    const operations = point.pendingOperations.map(describeOperation).join(", ");
    throw new UsageError(
      `stack \`${point.stack}\` has ${point.pendingOperations.length} operation(s) a killed engine ` +
        `left pending (${operations}); nothing was touched. Run \`npm run recover -- ${stack}\` (it removes the ` +
        "dead engine's update lock and clears the creates that never finished), then this command again",
    );
  }
  if (point.live instanceof Error) throw point.live;
  if (point.live && halfSwitched(point.live)) {
    const back = point.recorded === point.to ? otherMode(point.to) : point.recorded;
    throw new UsageError(
      `the cluster of stack \`${point.stack}\` runs pieces of both modes (${describeMesh(point.live)}): ` +
        "a switch stopped half way, and measuring from here would measure the rest of it; nothing was " +
        `touched. Finish it with \`pulumi config set ${MODE_KEY} ${point.to} ${stack} && pulumi up ${stack}\`` +
        (back
          ? `, or go back with \`pulumi config set ${MODE_KEY} ${back} ${stack} && pulumi up ${stack}\``
          : "") +
        "; then switch again from a whole mode",
    );
  }
  const { mode: from, source } = currentMode(point.recorded, undefined, point.live && wholeMode(point.live));
  if (source !== "cluster") {
    throw new UsageError(
      `the cluster of stack \`${point.stack}\` runs no Bookinfo in the mesh to measure; run \`pulumi up ${stack}\` first`,
    );
  }
  if (from === point.to) {
    throw new UsageError(`stack \`${point.stack}\` already runs ${point.to}; nothing to switch`);
  }
  return from;
}

/** Said first when Ctrl-C stopped the switch's `pulumi up`. */
export const UP_INTERRUPTED =
  "Interrupted during pulumi up: the engine finished the steps it had started and stopped there; the probe pods are removed.";

/**
 * What a switch whose `up` failed or was interrupted left, from what the cluster runs now, and the
 * one command that finishes it and the one that goes back.
 */
export function stoppedSwitchAdvice(
  stack: string,
  from: DataplaneMode,
  to: DataplaneMode,
  live: LiveMesh | undefined,
): string[] {
  const flag = `--stack ${stack}`;
  const runs = live ? wholeMode(live) : undefined;
  const state = !live
    ? "The cluster did not answer: what it runs now is not known."
    : runs === from
      ? `The cluster still runs ${from} only (${describeMesh(live)}).`
      : runs === to
        ? `The cluster already runs ${to} only (${describeMesh(live)}); the last steps may remain.`
        : `The cluster runs pieces of both modes (${describeMesh(live)}).`;
  return [
    state,
    `  finish the switch:  pulumi up ${flag}   (the config already says ${MODE_KEY}=${to})`,
    `  or go back:         pulumi config set ${MODE_KEY} ${from} ${flag} && pulumi up ${flag}`,
    "Either orders itself by what the cluster runs, so it takes the remaining steps in order.",
  ];
}
