import { Command, Option } from "commander";
import * as path from "node:path";
import { DATAPLANE_MODES, DataplaneMode } from "../../stacks/contract";
import { EXIT } from "../shared/exit";
import { cwdOption, parseCommandLine, Parsed, toolCommand, wholeNumber } from "../shared/options";

/** Options of `npm run switch`. */
export interface SwitchOptions {
  stack: string;
  to: DataplaneMode;
  yes: boolean;
  /** Probe requests per second per zone. */
  rate: number;
  /** Seconds to keep probing after the rollout finished. */
  settle: number;
  /** Where to write the results; a timestamped folder under `./switch-results/` when unset. */
  out?: string;
  cwd: string;
}

const DESCRIPTION = `What it does:
  1. previews the stack with the target mode and prints the plan (replacements flagged);
  2. asks before applying (unless --yes; without a terminal and without --yes it refuses);
  3. starts a traffic probe pod per zone (in the Bookinfo namespace, in the mesh, pinned to the zone)
     sending --rate requests/s to productpage /api/v1/products/0/reviews, and checks that every zone
     answers before anything changes (otherwise: exit 3, nothing switched);
  4. sets istio-locality:dataplaneMode and runs pulumi up, streaming its output;
  5. keeps probing until every Deployment in the namespace is rolled out, plus --settle seconds;
  6. collects the probe logs, removes the probe pods (also on failure or Ctrl-C), and reports per zone
     and in total: requests, failures, success rate, longest stretch without a success;
  7. runs the locality check (npm run verify) on the switched stack.
The goal is 0 failed of at least 2,500 requests. Results go to --out: results.json, results.txt,
success-rate.svg (per-second success rate per zone and in total, with up's start and end marked)
and the raw probe logs.`;

const EXIT_CODES = [
  [EXIT.ok, "switched; no request failed and locality holds afterwards"],
  [
    EXIT.failed,
    "requests failed during the switch, results are missing, the rollout did not finish, or the locality check afterwards failed",
  ],
  [
    EXIT.usage,
    "wrong arguments, the stack already runs the target mode, no terminal and no --yes, or declined",
  ],
  [
    EXIT.cannotAnswer,
    "the cluster cannot answer (e.g. kwok fake nodes): nothing was switched, no numbers reported",
  ],
  [EXIT.upFailed, "pulumi up failed (the results up to then are written)"],
  [
    EXIT.interrupted,
    "interrupted (probe pods removed first); during pulumi up it also says what the cluster runs and the commands that finish the switch or go back",
  ],
] as const;

/** The command line of `npm run switch`, declared once: its `--help` comes from here. */
export function switchCommand(): Command {
  return toolCommand({
    script: "switch",
    summary: `Switches a deployed stack's dataplane mode in place and measures whether traffic was dropped.`,
    description: DESCRIPTION,
    exitCodes: EXIT_CODES,
  })
    .addOption(new Option("--to <mode>", "the target mode").choices(DATAPLANE_MODES).makeOptionMandatory())
    .addOption(new Option("-y, --yes", "do not ask before applying").default(false))
    .addOption(
      new Option("--rate <n>", "probe requests per second per zone")
        .default(20)
        .argParser(wholeNumber(1, 200)),
    )
    .addOption(
      new Option("--settle <s>", "seconds to keep probing after the rollout")
        .default(30)
        .argParser(wholeNumber(0, 3600)),
    )
    .addOption(
      new Option(
        "--out <dir>",
        "where to write the results; ./switch-results/<timestamp>/ when unset",
      ).argParser((value) => path.resolve(value)),
    )
    .addOption(cwdOption());
}

/** Parses `switch`'s command line. */
export function parseSwitchOptions(argv: readonly string[]): Parsed<SwitchOptions> {
  return parseCommandLine<SwitchOptions>(switchCommand(), argv);
}
