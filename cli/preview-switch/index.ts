import { EXIT } from "../shared/exit";
import { runCli } from "../shared/run";
import { parsePreviewOptions } from "./options";
import { renderPlan } from "./plan";
import { previewSwitch } from "./preview";

runCli(parsePreviewOptions, async ({ stack, to, cwd }) => {
  console.log(
    `Previewing stack \`${stack}\` with the other dataplane mode (its config file stays as it is)...`,
  );
  console.log(renderPlan(await previewSwitch({ workDir: cwd, stackName: stack, to })));
  return EXIT.ok;
});
