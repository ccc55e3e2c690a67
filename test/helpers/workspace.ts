import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiFn, Stack } from "@pulumi/pulumi/automation";
import { declareStack } from "../../program";
import { PROJECT_DIR } from "./stacks";

/**
 * The program, run in this process. The Go module proxy serves no pulumi-language-nodejs, so the
 * automation API's inline mode stands in for the CLI's language host; the program, Pulumi.yaml (with
 * its config declarations) and the stack files are the real ones.
 */
export const inlineProgram: PulumiFn = async () => {
  try {
    return await declareStack();
  } catch (error) {
    // What the language host does with a RunError: report its message as an error, without a stack
    // trace. Rethrown in this process, the error would also escape as an unhandled rejection.
    if (!pulumi.RunError.isInstance(error)) throw error;
    await pulumi.log.error(error.message);
    return {};
  }
};

/**
 * Config as `pulumi config set --path` takes it: nested keys and list items become paths, so
 * objects and lists are stored as such (a JSON string would be stored as a string).
 */
export function configPaths(
  config: Record<string, unknown>,
  prefix = "istio-locality:",
): Record<string, { value: string }> {
  const paths: Record<string, { value: string }> = {};
  const visit = (path: string, value: unknown) => {
    if (Array.isArray(value)) value.forEach((item, i) => visit(`${path}[${i}]`, item));
    else if (typeof value === "object" && value !== null) {
      for (const [key, inner] of Object.entries(value)) visit(`${path}.${key}`, inner);
    } else paths[path] = { value: String(value) };
  };
  for (const [key, value] of Object.entries(config)) visit(`${prefix}${key}`, value);
  return paths;
}

/** A stack on a throwaway backend, and everything needed to remove it without a trace. */
export interface TestStack {
  stack: Stack;
  name: string;
  envVars: Record<string, string>;
  /** Removes the stack (without destroying), its stack file in the project and the temporary folders; once. */
  remove(): Promise<void>;
}

/**
 * Creates a uniquely named stack of the project on a temporary `file://` backend, with an isolated
 * PULUMI_HOME that shares only the plugin cache of the toolchain, and sets its configuration
 * (keys without the project prefix; objects and lists as JSON).
 */
export async function createTestStack(prefix: string, config: Record<string, unknown>): Promise<TestStack> {
  const name = `${prefix}-${crypto.randomBytes(3).toString("hex")}`;
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), `istio-locality-${prefix}-`));
  const backend = path.join(temp, "backend");
  const home = path.join(temp, "home");
  fs.mkdirSync(backend);
  fs.mkdirSync(home);
  const pluginCache = path.join(process.env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi"), "plugins");
  if (fs.existsSync(pluginCache)) fs.symlinkSync(pluginCache, path.join(home, "plugins"));

  const envVars = {
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: "istio-locality-tests",
    PULUMI_HOME: home,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
  const stackFile = path.join(PROJECT_DIR, `Pulumi.${name}.yaml`);
  let removed = false;
  const remove = async (stack?: Stack) => {
    if (removed) return;
    removed = true;
    try {
      if (stack) await stack.workspace.removeStack(name, { force: true });
    } finally {
      fs.rmSync(stackFile, { force: true });
      fs.rmSync(temp, { recursive: true, force: true });
    }
  };

  let stack: Stack | undefined;
  try {
    stack = await LocalWorkspace.createStack(
      { stackName: name, projectName: "istio-locality", program: inlineProgram },
      { workDir: PROJECT_DIR, envVars, pulumiHome: home },
    );
    await stack.setAllConfig(configPaths(config), true);
  } catch (error) {
    await remove(stack);
    throw error;
  }
  const created = stack;
  return { stack: created, name, envVars, remove: () => remove(created) };
}
