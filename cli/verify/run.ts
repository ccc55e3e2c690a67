import { EXIT, ExitCode } from "../shared/exit";
import { Interrupt } from "../shared/interrupt";
import { connectStack } from "../shared/stack";
import { checkLocality } from "./check";
import { VerifyOptions } from "./options";

/** `npm run verify`: the locality check on a deployed stack, and its verdict. */
export async function runVerify(
  { stack, requests, vias, drill, cwd }: VerifyOptions,
  interrupt: Interrupt,
): Promise<ExitCode> {
  const deployed = await connectStack({ workDir: cwd, stackName: stack });
  const report = await checkLocality(deployed, {
    requests,
    vias,
    drill,
    signal: interrupt.signal,
    log: (line) => console.log(line),
    setCleanupHint: interrupt.setCleanupHint,
  });
  console.log(report.ok ? "OK: locality holds." : `FAILED: ${report.summary}`);
  return report.ok ? EXIT.ok : EXIT.failed;
}
