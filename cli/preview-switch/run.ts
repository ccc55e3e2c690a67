import { EXIT, ExitCode } from "../shared/exit";
import { PreviewOptions } from "./options";
import { renderPlan } from "./plan";
import { previewSwitch } from "./preview";

/** `npm run preview-switch`: the preview of a switch, printed; the stack's config file stays as it is. */
export async function runPreviewSwitch({ stack, to, cwd }: PreviewOptions): Promise<ExitCode> {
  console.log(
    `Previewing stack \`${stack}\` with the other dataplane mode (its config file stays as it is)...`,
  );
  console.log(renderPlan(await previewSwitch({ workDir: cwd, stackName: stack, to })));
  return EXIT.ok;
}
