import { InvalidArgumentError, Option } from "commander";
import * as path from "node:path";
import { EXIT } from "../../cli/shared/exit";
import { ENGINE_PARALLEL } from "../../stacks/contract";
import {
  describedCommand,
  parseCommandLine,
  Parsed,
  PROJECT_DIR,
  wholeNumber,
} from "../../cli/shared/options";

/** Options of `npm run bench`. */
export interface BenchOptions {
  zones: number[];
  replicas: number[];
  runs: number;
  /** Each test cluster node's CPUs and memory (kwok nodes: what the scheduler sees, nothing more). */
  nodeCpus: number;
  nodeMemory: string;
  /** The engine's `--parallel`, or `engine`: the engine's own default. */
  parallel: number | "engine";
  /** The test cluster's controller-manager and scheduler client rate limits: the cluster tier's (`off`) or Kubernetes' own. */
  controlPlaneRateLimits: ControlPlaneRateLimits;
  out: string;
  /** Only write results.md and the picture again from --out's results.json. */
  redraw: boolean;
}

/** What scripts/test-cluster.sh takes as TEST_CLUSTER_RATE_LIMITS. */
export const CONTROL_PLANE_RATE_LIMITS = ["off", "upstream"] as const;
export type ControlPlaneRateLimits = (typeof CONTROL_PLANE_RATE_LIMITS)[number];

/** The sizes the benchmark goes to: a test cluster node per zone, one Pod CIDR each, zones named a to z. */
const MAX_ZONES = 26;
const MAX_REPLICAS = 10;

/** A comma-separated list of distinct whole numbers in a range, ascending. */
function wholeNumbers(min: number, max: number): (value: string) => number[] {
  const one = wholeNumber(min, max);
  return (value) => {
    const numbers = value.split(",").map((part) => {
      try {
        return one(part.trim());
      } catch {
        throw new InvalidArgumentError(`expected whole numbers from ${min} to ${max}, separated by commas`);
      }
    });
    return [...new Set(numbers)].sort((a, b) => a - b);
  };
}

const DESCRIPTION = `What it does, for each run and each size (zones × replicas per zone), in that order so that
a slow moment of the machine spreads over every size:
  1. starts a fresh test cluster (scripts/test-cluster.sh) with one node per zone, each of --node-cpus and
     --node-memory (a common real node's size: minikube's 2 CPUs leave 3 replicas per zone no room
     for the switch, which runs both dataplanes at once), and the test cluster's istiod;
  2. creates a stack of this program on a throwaway backend, the program's defaults but for the
     test cluster and the zones and replicas asked for;
  3. times each step on the real engine: first preview, up from empty, a preview that must find no
     change, the switch to ambient, the switch back, destroy, with --parallel as the project's tools
     pass it; with each step's resources, the most operations in flight at once and the slowest, the peak
     resident memory of the engine (the Pulumi CLI), of the provider plugins and of this process
     (which runs the program inline), and for the three ups istiod's own push figures (one client
     per zone connected: the zone's client sidecar, or each node's ztunnel);
  4. stops the test cluster.
Results go to --out after every run: results.json (every sample, the summary and the machine),
results.md (the table and the ratios) and time-by-size.svg; the engine's output per cycle in logs/.
Printed last: each step's median time at the largest size over the smallest.`;

const EXIT_CODES = [
  [EXIT.ok, "every cycle ran; the results are written"],
  [EXIT.failed, "a step failed (its message and the cycle's log say which); the runs before it are written"],
  [EXIT.usage, "wrong arguments"],
] as const;

export function benchCommand() {
  return describedCommand({
    script: "bench",
    summary: "Measures what the lab and a switch cost as zones and replicas grow (not part of npm test).",
    description: DESCRIPTION,
    exitCodes: EXIT_CODES,
  })
    .addOption(
      new Option("--zones <list>", "zone counts, comma-separated (nodes = zones)")
        .default([3, 6, 12], "3,6,12")
        .argParser(wholeNumbers(1, MAX_ZONES)),
    )
    .addOption(
      new Option("--replicas <list>", "replicas per zone, comma-separated")
        .default([1, 3], "1,3")
        .argParser(wholeNumbers(1, MAX_REPLICAS)),
    )
    .addOption(new Option("--runs <n>", "runs of every size").default(3).argParser(wholeNumber(1, 20)))
    .addOption(
      new Option("--node-cpus <n>", "each test cluster node's CPUs")
        .default(8)
        .argParser(wholeNumber(1, 256)),
    )
    .addOption(
      new Option("--node-memory <quantity>", "each test cluster node's memory, in Mi or Gi")
        .default("32Gi")
        .argParser((value) => {
          if (!/^[1-9]\d*(Mi|Gi)$/.test(value))
            throw new InvalidArgumentError("expected a quantity in Mi or Gi, such as 32Gi");
          return value;
        }),
    )
    .addOption(
      new Option("--parallel <n>", "the engine's --parallel, or `engine` for its own default (4 × CPUs)")
        .default(ENGINE_PARALLEL, `${ENGINE_PARALLEL}, as the project's tools run it`)
        .argParser((value) => (value === "engine" ? value : wholeNumber(1, 1024)(value))),
    )
    .addOption(
      new Option(
        "--control-plane-rate-limits <limits>",
        "the test cluster's controller-manager and scheduler: `off`, as the cluster tier runs them, or `upstream`, Kubernetes' defaults (the controller-manager at 20 requests a second for all its controllers)",
      )
        .choices(CONTROL_PLANE_RATE_LIMITS)
        .default("off"),
    )
    .addOption(
      new Option("--redraw", "only write results.md and the picture again from --out's results.json").default(
        false,
      ),
    )
    .addOption(
      new Option("--out <dir>", "where to write the results")
        .default(path.join(PROJECT_DIR, "test", "bench", "results"), "test/bench/results")
        .argParser((value) => path.resolve(value)),
    );
}

export function parseBenchOptions(argv: readonly string[]): Parsed<BenchOptions> {
  return parseCommandLine<BenchOptions>(benchCommand(), argv);
}
