import { setTimeout as sleepTimer } from "node:timers/promises";
import { EXIT, InterruptedError } from "./exit";

/** Ctrl-C handling for a CLI run. */
export interface Interrupt {
  /** Aborted at the first Ctrl-C; waits and requests stop and cleanup in `finally` runs. */
  readonly signal: AbortSignal;
  /** What to tell the user if they press Ctrl-C a second time and so skip the cleanup. */
  setCleanupHint: (hint: string | undefined) => void;
  /** Removes the handler. */
  dispose: () => void;
}

/**
 * The first Ctrl-C aborts the run so that it can restore what it changed; a second one quits at once and
 * says what was left behind.
 */
export function onInterrupt(log: (line: string) => void = (line) => console.error(line)): Interrupt {
  const controller = new AbortController();
  let hint: string | undefined;
  const handler = (): void => {
    if (!controller.signal.aborted) {
      log("\nInterrupted: cleaning up (Ctrl-C again to quit without cleaning up).");
      controller.abort(new InterruptedError());
      return;
    }
    log(`\nQuit without cleaning up.${hint ? ` Left behind; to clean up run:\n  ${hint}` : ""}`);
    process.exit(EXIT.interrupted);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: controller.signal,
    setCleanupHint: (text) => (hint = text),
    dispose: () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}

/** Sleeps, or throws {@link InterruptedError} as soon as the signal aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleepTimer(ms, undefined, { signal });
  } catch (error) {
    if (signal?.aborted) throw new InterruptedError();
    throw error;
  }
}

/** The result of one look at something being waited for. */
export type Check<T> = { done: true; value: T } | { done: false; reason: string };

/**
 * Looks every `intervalMs` until `check` says done; throws with the last reason after `timeoutMs`, or
 * {@link InterruptedError} when the signal aborts. `onProgress` hears each new reason once.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<Check<T>>,
  options: {
    timeoutMs: number;
    intervalMs?: number;
    signal?: AbortSignal;
    onProgress?: (reason: string) => void;
  },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let last = "";
  for (;;) {
    if (options.signal?.aborted) throw new InterruptedError();
    const result = await check();
    if (result.done) return result.value;
    if (result.reason !== last) options.onProgress?.(result.reason);
    last = result.reason;
    if (Date.now() >= deadline) {
      throw new Error(
        `timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${what}: ${last}`,
      );
    }
    await sleep(options.intervalMs ?? 2000, options.signal);
  }
}
