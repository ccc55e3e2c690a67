import { runCli } from "../shared/run";
import { parseRecoverOptions } from "./options";
import { runRecover } from "./run";

runCli(parseRecoverOptions, (options) => runRecover(options));
