import { EngineEvent } from "@pulumi/pulumi/automation";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { DEFAULTS, DataplaneMode } from "../stacks/config";
import { parsePreviewArgs } from "./lib/args";
import { EXIT, ExitCode } from "./lib/exit";
import {
  SwitchPlan,
  otherMode,
  previewWarnings,
  renderPlan,
  summarisePlan,
  withDataplaneMode,
} from "./lib/plan";
import { runCli } from "./lib/run";
import { StackRef, configuredMode, openStack, stackConfigFile } from "./lib/stack";

/** What {@link previewSwitch} needs. */
export interface PreviewSwitchOptions extends StackRef {
  /** The target mode; the other one than the stack's config names when left out. */
  to?: DataplaneMode;
  /** Hears the engine's progress output. */
  onOutput?: (text: string) => void;
}

/**
 * Previews a stack as if its dataplaneMode were `to`, without touching its config file: the preview
 * runs with a temporary copy of the file (the CLI's `--config-file`) in which only the mode differs,
 * and the copy is removed afterwards. Returns the plan per resource, with replacements singled out.
 */
export async function previewSwitch(options: PreviewSwitchOptions): Promise<SwitchPlan> {
  const stack = await openStack(options);
  const file = await stackConfigFile(options.workDir, options.stackName);
  const from = configuredMode(file.text);
  const to = options.to ?? otherMode(from ?? DEFAULTS.dataplaneMode);
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
      from,
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

const HELP = `Usage: npm run preview-switch -- --stack <name> [--to sidecar|ambient] [--cwd <project dir>]

Previews the stack with the other dataplane mode (or --to), without writing the change into its
stack config file, and prints the plan: per resource the operation (create, update, replace,
delete), type and name, replacements flagged, and the change summary.

Options:
  --stack <name>   the stack to preview (required)
  --to <mode>      sidecar or ambient; default: the mode the stack is not configured with
  --cwd <dir>      the Pulumi project directory; default: this repository
  -h, --help       this text

Exit codes:
  0  the preview ran and the plan is printed
  1  the preview failed (the program or the engine reported an error)
  2  wrong arguments, or the stack cannot be selected`;

async function main(argv: readonly string[]): Promise<ExitCode> {
  const parsed = parsePreviewArgs(argv);
  if (parsed.help) {
    console.log(HELP);
    return EXIT.ok;
  }
  const { stack, to, cwd } = parsed.options;
  console.log(
    `Previewing stack \`${stack}\` with the other dataplane mode (its config file stays as it is)...`,
  );
  const plan = await previewSwitch({ workDir: cwd, stackName: stack, to });
  console.log(renderPlan(plan));
  return EXIT.ok;
}

if (require.main === module) runCli(main);
