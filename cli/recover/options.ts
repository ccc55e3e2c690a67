import { Command, Option } from "commander";
import { EXIT } from "../shared/exit";
import { cwdOption, parseCommandLine, Parsed, toolCommand } from "../shared/options";

/** Options of `npm run recover`. */
export interface RecoverOptions {
  stack: string;
  /** Recover without asking. */
  yes: boolean;
  cwd: string;
}

const DESCRIPTION = `For a stack whose \`pulumi up\` was killed outright (a laptop that died, kill -9, a CI job
cancelled hard): removes the update lock the dead engine left (\`pulumi cancel\`), then, if the state
holds operations the engine never finished, refreshes the stack, clearing the creates that never
reported back (\`pulumi refresh --clear-pending-creates\`), and names the command that finishes the
switch and the one that goes back. A stack holding neither (on a file backend, where the lock can be
read) is left as it is: "nothing to recover". Run it only when no \`pulumi up\` of this stack is
running anywhere: removing the lock of a live update lets two run at once. After Ctrl-C nothing is
needed: Pulumi finishes the steps in flight and leaves neither.`;

const EXIT_CODES = [
  [EXIT.ok, "the stack is runnable again, or there was nothing to recover"],
  [EXIT.failed, "the refresh failed; Pulumi's message says why"],
  [EXIT.usage, "wrong arguments, the stack does not exist, or declined"],
  [EXIT.interrupted, "interrupted"],
] as const;

/** The command line of `npm run recover`, declared once: its `--help` comes from here. */
export function recoverCommand(): Command {
  return toolCommand({
    script: "recover",
    summary: "Makes a stack whose engine was killed mid-update runnable again.",
    description: DESCRIPTION,
    exitCodes: EXIT_CODES,
  })
    .addOption(new Option("--yes", "do not ask first").default(false))
    .addOption(cwdOption());
}

/** Parses `recover`'s command line. */
export function parseRecoverOptions(argv: readonly string[]): Parsed<RecoverOptions> {
  return parseCommandLine<RecoverOptions>(recoverCommand(), argv);
}
