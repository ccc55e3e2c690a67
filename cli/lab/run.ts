import * as os from "node:os";
import { PulumiFn } from "@pulumi/pulumi/automation";
import { EXIT, ExitCode } from "../shared/exit";
import { describeFailure } from "../shared/failure";
import { Interrupt } from "../shared/interrupt";
import { ENGINE_PARALLEL } from "../../stacks/contract";
import { openStack } from "../shared/stack";
import { labEnvironment } from "./backend";
import { LabOptions } from "./options";

/** Where a lab run writes: Pulumi's progress, and this command's own lines. */
export interface LabIo {
  out: (text: string) => void;
  log: (line: string) => void;
}

const CONSOLE: LabIo = { out: (text) => process.stdout.write(text), log: (line) => console.log(line) };

/** What to run once the lab is up, for a stack. */
export function nextSteps(stack: string, productpage: unknown): string[] {
  return [
    "",
    "The lab is up. Fetch productpage through the ingress gateway:",
    `  ${typeof productpage === "string" ? productpage : `pulumi stack output productpage --stack ${stack}`}`,
    "Next:",
    `  npm run verify -- --stack ${stack}                  # does every zone's traffic stay in its zone?`,
    `  npm run preview-switch -- --stack ${stack}          # what a switch of dataplane mode would change`,
    `  npm run switch -- --stack ${stack} --to <mode>      # switch in place, probing every zone`,
    `  npm run lab -- --stack ${stack} --destroy           # remove the lab`,
  ];
}

/**
 * `pulumi up` (or `destroy`) of a stack on the lab's backend, creating the stack on first use, with
 * Pulumi's own progress display. `program` runs the program in this process instead of the CLI's
 * language host (the tests).
 */
export async function runLab(
  options: LabOptions,
  interrupt: Pick<Interrupt, "signal">,
  io: LabIo = CONSOLE,
  env: { vars: NodeJS.ProcessEnv; home: string; program?: PulumiFn } = {
    vars: process.env,
    home: os.homedir(),
  },
): Promise<ExitCode> {
  const lab = labEnvironment(env.vars, env.home);
  for (const note of lab.notes) io.log(note);
  const stack = await openStack(
    { workDir: options.cwd, stackName: options.stack, envVars: lab.envVars, program: env.program },
    true,
  );
  const run = { onOutput: io.out, signal: interrupt.signal, parallel: ENGINE_PARALLEL };
  try {
    if (options.destroy) {
      await stack.destroy(run);
      io.log(
        `\nThe lab of stack \`${options.stack}\` is gone; \`pulumi stack rm ${options.stack}\` removes its history.`,
      );
      return EXIT.ok;
    }
    await stack.up(run);
  } catch (error) {
    if (interrupt.signal.aborted) return EXIT.interrupted;
    io.log(`\nFAILED: ${describeFailure(error)}`);
    return EXIT.failed;
  }
  const outputs = await stack.outputs();
  for (const line of nextSteps(options.stack, outputs.productpage?.value)) io.log(line);
  return EXIT.ok;
}
