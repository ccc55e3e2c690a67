import { onInterrupt } from "../shared/interrupt";
import { runCli } from "../shared/run";
import { parseSwitchOptions } from "./options";
import { runSwitch } from "./run";

runCli(parseSwitchOptions, async (options) => {
  const interrupt = onInterrupt();
  try {
    return await runSwitch(options, interrupt);
  } finally {
    interrupt.dispose();
  }
});
