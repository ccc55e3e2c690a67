import { runInterruptibleCli } from "../shared/run";
import { parseVerifyOptions } from "./options";
import { runVerify } from "./run";

runInterruptibleCli(parseVerifyOptions, runVerify);
