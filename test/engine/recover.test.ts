import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { EXIT } from "../../cli/shared/exit";
import { lockFolder } from "../../cli/recover/recover";
import { runRecover } from "../../cli/recover/run";
import { PROJECT } from "../../stacks/contract";
import { PROJECT_DIR } from "../helpers/stacks";
import { createTestStack, inlineProgram, TestStack } from "../helpers/workspace";

jest.setTimeout(5 * 60 * 1000);

describe("npm run recover, on the real engine and a file backend", () => {
  let test: TestStack;
  let locks: string;
  const lines: string[] = [];
  const progress: string[] = [];
  const recover = (yes: boolean) =>
    runRecover(
      { stack: test.name, yes, cwd: PROJECT_DIR },
      { out: (text) => progress.push(text), log: (line) => lines.push(line) },
      { workDir: PROJECT_DIR, stackName: test.name, envVars: test.envVars, program: inlineProgram },
    );

  beforeAll(async () => {
    test = await createTestStack("recover", {});
    locks = path.join(lockFolder(test.envVars.PULUMI_BACKEND_URL)!, "organization", PROJECT, test.name);
  });
  afterAll(() => test.remove());
  beforeEach(() => {
    lines.length = 0;
    progress.length = 0;
  });

  it("finds the file backend's lock folder where the engine keeps it", () => {
    expect(locks.startsWith(fileURLToPath(test.envVars.PULUMI_BACKEND_URL))).toBe(true);
  });

  it("on a healthy stack: says there is nothing to recover, asks nothing and refreshes nothing", async () => {
    expect(await recover(false)).toBe(EXIT.ok);
    expect(lines).toEqual([
      `Stack \`${test.name}\` holds no pending operation and no update lock: nothing to recover.`,
    ]);
    expect(progress).toEqual([]);
    expect(await test.stack.history()).toEqual([]);
  });

  it("with only a dead engine's lock: removes the lock, without a refresh", async () => {
    fs.mkdirSync(locks, { recursive: true });
    fs.writeFileSync(path.join(locks, "dead-engine.json"), JSON.stringify({ pid: 0, username: "gone" }));
    expect(await recover(true)).toBe(EXIT.ok);
    expect(lines[0]).toBe(`Stack \`${test.name}\` holds no pending operation; its update lock is held.`);
    expect(lines).toContain(
      "The stack is runnable again. Its config says istio-locality:dataplaneMode=(the project default).",
    );
    expect(fs.readdirSync(locks)).toEqual([]);
    expect(progress).toEqual([]);
    expect(await test.stack.history()).toEqual([]);
  });
});
