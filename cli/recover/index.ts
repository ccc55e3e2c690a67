import { runCli } from "../shared/run";
import { parseRecoverOptions } from "./options";
import { runRecover } from "./recover";

runCli(parseRecoverOptions, (options) => runRecover(options));
