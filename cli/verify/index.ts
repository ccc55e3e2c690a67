import { onInterrupt } from "../shared/interrupt";
import { runCli } from "../shared/run";
import { parseVerifyOptions } from "./options";
import { runVerify } from "./run";

runCli(parseVerifyOptions, async (options) => {
  const interrupt = onInterrupt();
  try {
    return await runVerify(options, interrupt);
  } finally {
    interrupt.dispose();
  }
});
