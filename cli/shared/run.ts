import { StackOutputsError } from "../../stacks/contract";
import { CannotAnswerError } from "./can-answer";
import { describeFailure } from "./failure";
import { EXIT, ExitCode, InterruptedError, UsageError } from "./exit";
import { Interrupt, onInterrupt } from "./interrupt";
import { Parsed } from "./options";

/** Maps what a run threw to a message on stderr and an exit code, the same way for every CLI. */
export function reportFailure(error: unknown): ExitCode {
  if (error instanceof CannotAnswerError) {
    console.error(`\nCANNOT MEASURE. ${error.verdict.reason}`);
    for (const detail of error.verdict.details) console.error(`  ${detail}`);
    console.error(
      "No numbers are reported. Run this against a cluster whose pods really run (e.g. minikube).",
    );
    return EXIT.cannotAnswer;
  }
  if (error instanceof InterruptedError) return EXIT.interrupted;
  if (error instanceof UsageError || error instanceof StackOutputsError) {
    console.error(`error: ${error.message}\n(see --help)`);
    return EXIT.usage;
  }
  console.error(`FAILED: ${describeFailure(error)}`);
  return EXIT.failed;
}

/**
 * Runs a tool's main function and exits with its code, or with the code its failure maps to. The
 * help text a command line asks for is printed instead.
 */
export function runCli<T>(
  parse: (argv: readonly string[]) => Parsed<T>,
  main: (options: T) => Promise<ExitCode>,
): void {
  const run = async (): Promise<ExitCode> => {
    const parsed = parse(process.argv.slice(2));
    if ("help" in parsed) {
      console.log(parsed.help);
      return EXIT.ok;
    }
    return main(parsed.options);
  };
  run().then(
    (code) => process.exit(code),
    (error: unknown) => process.exit(reportFailure(error)),
  );
}

/** {@link runCli} for a tool that cleans up after Ctrl-C: its main function gets the interrupt, released once it returns. */
export function runInterruptibleCli<T>(
  parse: (argv: readonly string[]) => Parsed<T>,
  main: (options: T, interrupt: Interrupt) => Promise<ExitCode>,
): void {
  runCli(parse, async (options) => {
    const interrupt = onInterrupt();
    try {
      return await main(options, interrupt);
    } finally {
      interrupt.dispose();
    }
  });
}
