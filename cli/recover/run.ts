import { EXIT, ExitCode } from "../shared/exit";
import { confirm } from "../shared/prompt";
import {
  configuredMode,
  describeOperation,
  openStack,
  pendingOperations,
  StackRef,
  stackConfigFile,
} from "../shared/stack";
import { RecoverOptions } from "./options";
import { describeUndone } from "./patches";
import { afterRecovery, recoverStack, updateLockHeld } from "./recover";

/** Where a recover run writes: Pulumi's progress, and this command's own lines. */
export interface RecoverIo {
  out: (text: string) => void;
  log: (line: string) => void;
  /** Asks a yes/no question; undefined where there is no terminal to ask on. */
  ask?: (question: string) => Promise<boolean>;
}

const CONSOLE: RecoverIo = {
  out: (text) => process.stdout.write(text),
  log: (line) => console.log(line),
  ask: process.stdin.isTTY ? confirm : undefined,
};

/**
 * `npm run recover`: finds what a killed engine left (pending operations, the update lock), says
 * so and stops when it left nothing, else asks and recovers ({@link recoverStack}).
 */
export async function runRecover(
  options: RecoverOptions,
  io: RecoverIo = CONSOLE,
  ref: StackRef = { workDir: options.cwd, stackName: options.stack },
): Promise<ExitCode> {
  const stack = await openStack(ref);
  const pending = await pendingOperations(stack);
  const locked = await updateLockHeld(stack);
  if (pending.length === 0 && locked === false) {
    io.log(`Stack \`${options.stack}\` holds no pending operation and no update lock: nothing to recover.`);
    return EXIT.ok;
  }
  io.log(
    pending.length
      ? `Stack \`${options.stack}\` holds ${pending.length} pending operation(s): ${pending.map(describeOperation).join(", ")}`
      : `Stack \`${options.stack}\` holds no pending operation; ${locked ? "its update lock is held" : "its update lock may still be held"}.`,
  );
  const question = `Remove the update lock of \`${options.stack}\`${pending.length ? " and refresh it" : ""}? Only when no \`pulumi up\` of it runs anywhere.`;
  if (!options.yes && !(io.ask && (await io.ask(question)))) {
    io.log(io.ask ? "Nothing changed." : "There is no terminal to ask on; pass --yes.");
    return EXIT.usage;
  }
  const previous: unknown = (await stack.outputs()).dataplaneMode?.value;
  const { undone } = await recoverStack(stack, io.out);
  for (const patch of undone) io.log(describeUndone(patch));
  const file = await stackConfigFile(ref.workDir, ref.stackName);
  for (const line of afterRecovery(
    options.stack,
    configuredMode(file.text),
    typeof previous === "string" ? previous : undefined,
  )) {
    io.log(line);
  }
  return EXIT.ok;
}
