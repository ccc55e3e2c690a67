import * as fs from "fs";
import * as path from "path";
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
      row.judgedByLab ? "yes" : "no",
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
