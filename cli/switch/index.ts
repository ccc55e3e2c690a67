import { runInterruptibleCli } from "../shared/run";
import { parseSwitchOptions } from "./options";
import { runSwitch } from "./run";

runInterruptibleCli(parseSwitchOptions, runSwitch);
