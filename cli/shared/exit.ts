/**
 * Exit codes shared by the CLIs. Each CLI's `--help` lists the ones it can return, so scripts can tell
 * "the lab is broken" (1) from "the lab cannot be measured here" (3).
 */
export const EXIT = {
  /** Everything checked held. */
  ok: 0,
  /** Something measured was wrong: a failed request, a locality violation, a failed preview. */
  failed: 1,
  /** The tool was called wrongly, or the stack lacks what the tool needs; nothing was changed. */
  usage: 2,
  /** The cluster cannot serve traffic (e.g. kwok fake nodes), so no numbers are reported. */
  cannotAnswer: 3,
  /** `pulumi up` failed during a switch; the probe results up to then are still written. */
  upFailed: 4,
  /** Interrupted (Ctrl-C) after cleaning up. */
  interrupted: 130,
} as const;

/** One of the exit codes above. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A mistake in how the tool was called or in what the stack provides: reported without a stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The run was interrupted by the user; thrown out of waits so that cleanup in `finally` runs. */
export class InterruptedError extends Error {
  constructor() {
    super("interrupted");
    this.name = "InterruptedError";
  }
}

/** Interrupted while `pulumi up` ran: the engine finished the steps it had started, and stopped there. */
export class UpInterruptedError extends InterruptedError {
  constructor() {
    super();
    this.name = "UpInterruptedError";
  }
}
