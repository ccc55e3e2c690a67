import { runInterruptibleCli } from "../shared/run";
import { parseLabOptions } from "./options";
import { runLab } from "./run";

runInterruptibleCli(parseLabOptions, runLab);
