import { EngineEvent } from "@pulumi/pulumi/automation";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { DataplaneMode, otherMode } from "../../stacks/contract";
import { readStackState, StackRef, StackState } from "../shared/stack";
import { SwitchPlan, previewWarnings, summarisePlan, withDataplaneMode } from "./plan";

/** What {@link previewSwitch} needs. */
export interface PreviewSwitchOptions extends StackRef {
  /** The target mode; the other one than the stack runs when left out. */
  to?: DataplaneMode;
  /** Hears the engine's progress output. */
  onOutput?: (text: string) => void;
}

/**
 * Previews a stack as if its dataplaneMode were `to`, without touching its config file: the preview
 * runs with a temporary copy of the file (the CLI's `--config-file`) in which only the mode differs,
 * and the copy is removed afterwards. Returns the plan per resource, with replacements singled out.
 * A tool that has read the stack already passes what it read (see {@link readStackState}).
 */
export async function previewSwitch(options: PreviewSwitchOptions, state?: StackState): Promise<SwitchPlan> {
  const { stack, file, current } = state ?? (await readStackState(options));
  const to = options.to ?? otherMode(current.mode);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "preview-switch-"));
  try {
    const copy = path.join(dir, path.basename(file.path).replace(/\.json$/, ".yaml"));
    await fs.writeFile(copy, withDataplaneMode(file.text, to));
    const events: EngineEvent[] = [];
    const result = await stack.preview({
      configFile: copy,
      onEvent: (event) => events.push(event),
      onOutput: options.onOutput,
    });
    const steps = summarisePlan(events);
    return {
      stackName: options.stackName,
      from: current.mode,
      fromSource: current.source,
      halfSwitched: current.halfSwitched,
      to,
      changeSummary: result.changeSummary,
      steps,
      replacements: steps.filter((step) => step.op === "replace"),
      warnings: previewWarnings(events),
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
