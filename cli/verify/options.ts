import { Command, Option } from "commander";
import { ALL_VIAS, Via } from "../shared/answers";
import { EXIT } from "../shared/exit";
import {
  cwdOption,
  DEFAULT_STACK,
  parseCommandLine,
  Parsed,
  toolCommand,
  wholeNumber,
} from "../shared/options";

/** Options of `npm run verify`. */
export interface VerifyOptions {
  stack: string;
  /** Requests per zone and path. */
  requests: number;
  vias: Via[];
  /** Zone whose reviews to take down and bring back. */
  drill?: string;
  cwd: string;
}

const DESCRIPTION = `From each zone's client pod, sends N requests to reviews (GET /reviews/0) and through productpage
(GET /api/v1/products/0/reviews), one exec per zone, and prints a table of who answered (reviews
version @ zone) or why not. Judged by the stack's locality intent:
  strict    any answer from another zone is a violation
  failover  an answer from another zone while the own zone has a ready endpoint is a violation
  off       reported only
Errors fail the check unless the intent explains them (strict with no own-zone endpoint).
Ambient mode cannot pin strictly, so there \`strict\` is judged as \`failover\`.

--drill <zone> scales that zone's reviews Deployment(s) to 0, waits until the pods are gone, sends
traffic from that zone (strict: errors expected, by design; failover: another zone expected), then
restores the replicas, waits until ready and checks every zone again. The replicas are restored also
on failure or Ctrl-C.`;

const EXIT_CODES = [
  [EXIT.ok, "locality holds (and the drill went as the intent says)"],
  [EXIT.failed, "locality broken, requests failed, or the drill did not go as expected"],
  [EXIT.usage, "wrong arguments, or the stack lacks the outputs the check needs"],
  [
    EXIT.cannotAnswer,
    "the cluster cannot answer (e.g. kwok fake nodes: exec fails or nothing answers); no numbers",
  ],
  [EXIT.interrupted, "interrupted (replicas restored first)"],
] as const;

/** The command line of `npm run verify`, declared once: its `--help` comes from here. */
export function verifyCommand(): Command {
  return toolCommand(
    {
      script: "verify",
      summary: `Checks from every zone that traffic stays where the stack's locality intent says.`,
      description: DESCRIPTION,
      exitCodes: EXIT_CODES,
    },
    DEFAULT_STACK,
  )
    .addOption(
      new Option("--requests <n>", "requests per zone and path")
        .default(100)
        .argParser(wholeNumber(1, 10000)),
    )
    .addOption(
      new Option("--via <path>", "the path to send on")
        .choices(["reviews", "productpage", "both"])
        .default("both"),
    )
    .addOption(new Option("--drill <zone>", "take this zone's reviews down and bring them back"))
    .addOption(cwdOption());
}

/** Parses `verify`'s command line. */
export function parseVerifyOptions(argv: readonly string[]): Parsed<VerifyOptions> {
  const parsed = parseCommandLine<Omit<VerifyOptions, "vias"> & { via: Via | "both" }>(verifyCommand(), argv);
  if ("help" in parsed) return parsed;
  const { via, ...rest } = parsed.options;
  return { options: { ...rest, vias: via === "both" ? [...ALL_VIAS] : [via] } };
}
