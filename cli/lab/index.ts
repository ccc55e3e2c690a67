import { onInterrupt } from "../shared/interrupt";
import { runCli } from "../shared/run";
import { parseLabOptions } from "./options";
import { runLab } from "./run";

runCli(parseLabOptions, async (options) => {
  const interrupt = onInterrupt();
  try {
    return await runLab(options, interrupt);
  } finally {
    interrupt.dispose();
  }
});
