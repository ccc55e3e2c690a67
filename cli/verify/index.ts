import { EXIT } from "../shared/exit";
import { onInterrupt } from "../shared/interrupt";
import { runCli } from "../shared/run";
import { connectStack } from "../shared/stack";
import { runVerify } from "./check";
import { parseVerifyOptions } from "./options";

runCli(parseVerifyOptions, async ({ stack, requests, vias, drill, cwd }) => {
  const interrupt = onInterrupt();
  try {
    const deployed = await connectStack({ workDir: cwd, stackName: stack });
    const report = await runVerify(deployed, {
      requests,
      vias,
      drill,
      signal: interrupt.signal,
      log: (line) => console.log(line),
      setCleanupHint: interrupt.setCleanupHint,
    });
    console.log(report.ok ? "OK: locality holds." : `FAILED: ${report.summary}`);
    return report.ok ? EXIT.ok : EXIT.failed;
  } finally {
    interrupt.dispose();
  }
});
