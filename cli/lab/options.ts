import { Command, Option } from "commander";
import { EXIT } from "../shared/exit";
import { cwdOption, DEFAULT_STACK, parseCommandLine, Parsed, toolCommand } from "../shared/options";

/** Options of `npm run lab`. */
export interface LabOptions {
  stack: string;
  /** Destroy the stack's lab instead of bringing it up. */
  destroy: boolean;
  cwd: string;
}

const DESCRIPTION = `Brings the stack's lab up (creating the stack on first use) with \`pulumi up\`, showing Pulumi's
progress, then prints the command that fetches productpage and what to run next. The stack's
configuration is its stack file (Pulumi.sidecar.yaml, Pulumi.ambient.yaml) over the project
defaults in Pulumi.yaml: a minikube cluster of 3 zones.

State goes to $PULUMI_BACKEND_URL when set, else to the local file backend (~/.pulumi, the one of
\`pulumi login --local\`). Its secrets are encrypted with $PULUMI_CONFIG_PASSPHRASE or the file in
$PULUMI_CONFIG_PASSPHRASE_FILE when set; else with a passphrase this command creates once in
$PULUMI_HOME/istio-locality.passphrase (mode 600) and names, so plain \`pulumi\` commands can use the
same stacks.`;

const EXIT_CODES = [
  [EXIT.ok, "the lab is up (or destroyed)"],
  [EXIT.failed, "`pulumi up` or `pulumi destroy` failed; Pulumi's message says why"],
  [EXIT.usage, "wrong arguments, or the stack cannot be created or selected"],
  [EXIT.interrupted, "interrupted; Pulumi finished the steps in flight"],
] as const;

/** The command line of `npm run lab`, declared once: its `--help` comes from here. */
export function labCommand(): Command {
  return toolCommand(
    {
      script: "lab",
      summary: "Brings a lab up from a fresh clone in one command, or destroys it.",
      description: DESCRIPTION,
      exitCodes: EXIT_CODES,
    },
    DEFAULT_STACK,
  )
    .addOption(new Option("--destroy", "destroy the lab (on minikube: the cluster)").default(false))
    .addOption(cwdOption());
}

/** Parses `lab`'s command line. */
export function parseLabOptions(argv: readonly string[]): Parsed<LabOptions> {
  return parseCommandLine<LabOptions>(labCommand(), argv);
}
