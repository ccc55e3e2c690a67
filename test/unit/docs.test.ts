import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { DEFAULTS } from "../../stacks/contract";
import { endOfLifeText, ISTIO_MINORS } from "../../stacks/versions";

const VERSIONS_PAGE = path.join(__dirname, "..", "..", "docs", "versions.md");

describe("docs/versions.md", () => {
  it("shows the version table of stacks/versions.ts, row for row", () => {
    const page = fs.readFileSync(VERSIONS_PAGE, "utf8");
    const table = /<!-- version-table -->\n([\s\S]*?)\n<!-- \/version-table -->/.exec(page)?.[1];
    expect(table).toBeDefined();
    const unknown = "not sourceable here";
    const rows = ISTIO_MINORS.map((row) => [
      row.minor,
      row.newestPatch,
      row.kubernetes ? `1.${row.kubernetes.min}–1.${row.kubernetes.max}` : unknown,
      row.gatewayApi ?? unknown,
      endOfLifeText(row),
      row.judgedByTests ? "yes" : "no",
    ]);
    const cells = table!
      .split("\n")
      .filter((line) => line.startsWith("|"))
      .slice(2)
      .map((line) =>
        line
          .split("|")
          .slice(1, -1)
          .map((cell) => cell.trim()),
      );
    expect(cells).toEqual(rows);
  });
});

describe("Pulumi.yaml", () => {
  const project = yaml.load(fs.readFileSync(path.join(__dirname, "..", "..", "Pulumi.yaml"), "utf8")) as {
    config: Record<string, { default?: unknown }>;
  };

  it("declares the contract's defaults, leaving out only the versions a deployed stack keeps", () => {
    const declared = Object.fromEntries(
      Object.entries(project.config).map(([key, declaration]) => [key, declaration.default]),
    );
    expect(declared).toEqual({
      ...DEFAULTS,
      cluster: omit(DEFAULTS.cluster, "kubernetesVersion"),
      istio: omit(DEFAULTS.istio, "version"),
    });
  });
});

function omit(value: object, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([name]) => name !== key));
}
