import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.join(__dirname, "..", "..");

/** Every TypeScript file under a top-level folder, with what it imports (project paths resolved, packages as named). */
function importsOf(folder: string): { file: string; imports: string[] }[] {
  const dir = path.join(ROOT, folder);
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((file) => file.endsWith(".ts"))
    .map((file) => {
      const full = path.join(dir, file);
      const specifiers = ts
        .preProcessFile(fs.readFileSync(full, "utf8"), true, true)
        .importedFiles.map((imported) => imported.fileName);
      return {
        file: path.join(folder, file),
        imports: specifiers.map((specifier) =>
          specifier.startsWith(".")
            ? path.relative(ROOT, path.resolve(path.dirname(full), specifier))
            : specifier,
        ),
      };
    });
}

/** The imports of `folder` that reach any of `forbidden` (a folder of the project, or a package). */
function reaching(folder: string, forbidden: string[]): string[] {
  return importsOf(folder).flatMap(({ file, imports }) =>
    imports
      .filter((target) => forbidden.some((room) => target === room || target.startsWith(`${room}/`)))
      .map((target) => `${file} → ${target}`),
  );
}

describe("the rooms of the project and what each may import", () => {
  it("the model (stacks/) imports no reader, component, tool or Kubernetes client", () => {
    expect(
      reaching("stacks", ["readers", "components", "cli", "program", "@kubernetes/client-node"]),
    ).toEqual([]);
  });

  it("the readers import no component or tool", () => {
    expect(reaching("readers", ["components", "cli", "program"])).toEqual([]);
  });

  it("the tools load no component, so a tool run loads no Pulumi Kubernetes SDK", () => {
    expect(reaching("cli", ["components", "program", "@pulumi/kubernetes"])).toEqual([]);
    // They read the cluster through the readers, as the program does.
    expect(reaching("cli", ["readers"])).toContain("cli/shared/stack.ts → readers/live-mesh");
  });

  it("no tool loads another tool's entry or main file", () => {
    const tools = fs.readdirSync(path.join(ROOT, "cli")).filter((tool) => tool !== "shared");
    for (const tool of tools) {
      const others = tools
        .filter((other) => other !== tool)
        .flatMap((other) => [`cli/${other}/index`, `cli/${other}/run`]);
      expect(reaching(`cli/${tool}`, others)).toEqual([]);
    }
    expect(tools).toEqual(expect.arrayContaining(["lab", "preview-switch", "recover", "switch", "verify"]));
  });

  it("the components import no reader and no tool: what they need is in the plan", () => {
    expect(reaching("components", ["readers", "cli", "program"])).toEqual([]);
  });
});
