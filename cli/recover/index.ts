import { configuredMode, openStack, stackConfigFile } from "../shared/stack";
import { EXIT } from "../shared/exit";
import { confirm } from "../shared/prompt";
import { runCli } from "../shared/run";
import { parseRecoverOptions } from "./options";
import { describeUndone } from "./patches";
import { afterRecovery, describeOperation, pendingOperations, recoverStack } from "./recover";

runCli(parseRecoverOptions, async (options) => {
  const ref = { workDir: options.cwd, stackName: options.stack };
  const stack = await openStack(ref);
  const pending = await pendingOperations(stack);
  console.log(
    pending.length
      ? `Stack \`${options.stack}\` holds ${pending.length} pending operation(s): ${pending.map(describeOperation).join(", ")}`
      : `Stack \`${options.stack}\` holds no pending operation; its update lock may still be held.`,
  );
  const question = `Remove the update lock of \`${options.stack}\` and refresh it? Only when no \`pulumi up\` of it runs anywhere.`;
  if (!options.yes && !(process.stdin.isTTY && (await confirm(question)))) {
    console.log(process.stdin.isTTY ? "Nothing changed." : "There is no terminal to ask on; pass --yes.");
    return EXIT.usage;
  }
  const previous: unknown = (await stack.outputs()).dataplaneMode?.value;
  const { undone } = await recoverStack(stack, (text) => process.stdout.write(text));
  for (const patch of undone) console.log(describeUndone(patch));
  const file = await stackConfigFile(options.cwd, options.stack);
  for (const line of afterRecovery(
    options.stack,
    configuredMode(file.text),
    typeof previous === "string" ? previous : undefined,
  )) {
    console.log(line);
  }
  return EXIT.ok;
});
