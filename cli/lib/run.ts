import { CannotAnswerError, describeFailure } from "./answerable";
import { EXIT, ExitCode, InterruptedError, UsageError } from "./exit";

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
  if (error instanceof UsageError) {
    console.error(`error: ${error.message}\n(see --help)`);
    return EXIT.usage;
  }
  console.error(`FAILED: ${describeFailure(error)}`);
  return EXIT.failed;
}

/** Runs a CLI's main function and exits with its code, or with the code its failure maps to. */
export function runCli(main: (argv: readonly string[]) => Promise<ExitCode>): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => process.exit(reportFailure(error)),
  );
}
