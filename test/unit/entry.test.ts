import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";

const ROOT = path.join(__dirname, "..", "..");

/**
 * What a Pulumi language host does with the program: it listens for unhandled rejections, loads
 * `index.ts`, sets itself up, and only then awaits the export. Outside an engine the program's entry
 * rejects at once (there is no stack to read), as it does on a configuration error.
 */
const LANGUAGE_HOST = `
process.on("unhandledRejection", (error) => console.error("unhandled rejection:", String(error)));
require("ts-node").register({ transpileOnly: true });
const exported = require(${JSON.stringify(path.join(ROOT, "index.ts"))});
setTimeout(() => exported.then(() => console.log("resolved"), (error) => console.log("rejected:", String(error))), 200);
`;

describe("the program's entry under a language host", () => {
  it("hands its failure to the host without a stray unhandled or late-handled rejection", async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["-e", LANGUAGE_HOST], {
      cwd: ROOT,
    });
    expect(stdout).toMatch(/^rejected: Error: /);
    expect(stderr).not.toContain("unhandled rejection");
    expect(stderr).not.toContain("PromiseRejectionHandledWarning");
  });
});
