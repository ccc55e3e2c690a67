import { runCli } from "../shared/run";
import { parsePreviewOptions } from "./options";
import { runPreviewSwitch } from "./run";

runCli(parsePreviewOptions, runPreviewSwitch);
