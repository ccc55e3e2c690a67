import { Command, Option } from "commander";
import { DATAPLANE_MODES, DataplaneMode } from "../../stacks/contract";
import { EXIT } from "../shared/exit";
import { cwdOption, parseCommandLine, Parsed, toolCommand } from "../shared/options";

/** Options of `npm run preview-switch`. */
export interface PreviewOptions {
  stack: string;
  /** Target mode; the other one than the stack runs when left out. */
  to?: DataplaneMode;
  cwd: string;
}

const DESCRIPTION = `Previews the stack with the other dataplane mode (or --to), without writing the change into its
stack config file, and prints the plan: per resource the operation (create, update, replace,
delete), type and name, replacements flagged, and the change summary.`;

const EXIT_CODES = [
  [EXIT.ok, "the preview ran and the plan is printed"],
  [EXIT.failed, "the preview failed (the program or the engine reported an error)"],
  [EXIT.usage, "wrong arguments, or the stack cannot be selected"],
] as const;

/** The command line of `npm run preview-switch`, declared once: its `--help` comes from here. */
export function previewSwitchCommand(): Command {
  return toolCommand({
    script: "preview-switch",
    summary: `Shows what switching a stack's dataplane mode would change, without changing anything.`,
    description: DESCRIPTION,
    exitCodes: EXIT_CODES,
  })
    .addOption(
      new Option("--to <mode>", "the target mode; default: the mode the stack does not run").choices(
        DATAPLANE_MODES,
      ),
    )
    .addOption(cwdOption());
}

/** Parses `preview-switch`'s command line. */
export function parsePreviewOptions(argv: readonly string[]): Parsed<PreviewOptions> {
  return parseCommandLine<PreviewOptions>(previewSwitchCommand(), argv);
}
