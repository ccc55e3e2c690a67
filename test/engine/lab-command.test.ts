import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runLab } from "../../cli/lab/run";
import { EXIT } from "../../cli/shared/exit";
import { PROJECT_DIR } from "../helpers/stacks";
import { inlineProgram } from "../helpers/workspace";

jest.setTimeout(5 * 60 * 1000);

/** The variables the lab command decides on, cleared so that it decides; restored afterwards. */
const DECIDED = [
  "PULUMI_BACKEND_URL",
  "PULUMI_HOME",
  "PULUMI_CONFIG_PASSPHRASE",
  "PULUMI_CONFIG_PASSPHRASE_FILE",
];

describe("npm run lab, on the real engine", () => {
  const saved = Object.fromEntries(DECIDED.map((name) => [name, process.env[name]]));
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), "istio-locality-lab-command-"));
  const backend = path.join(temp, "backend");
  const home = path.join(temp, "home");
  const stack = `lab-command-${process.pid}`;
  const lines: string[] = [];
  const io = { out: () => undefined, log: (line: string) => lines.push(line) };
  /** `npm run lab -- --stack <stack> --destroy`: it creates or selects the stack, and an empty one destroys at once. */
  const destroyThroughLab = () =>
    runLab({ stack, destroy: true, cwd: PROJECT_DIR }, { signal: new AbortController().signal }, io, {
      vars: process.env,
      home: os.homedir(),
      program: inlineProgram,
    });

  beforeAll(() => {
    const pluginCache = path.join(saved.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi"), "plugins");
    fs.mkdirSync(backend);
    fs.mkdirSync(home);
    if (fs.existsSync(pluginCache)) fs.symlinkSync(pluginCache, path.join(home, "plugins"));
    for (const name of DECIDED) delete process.env[name];
    process.env.PULUMI_BACKEND_URL = `file://${backend}`;
    process.env.PULUMI_HOME = home;
  });

  afterAll(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    fs.rmSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), { force: true });
    fs.rmSync(temp, { recursive: true, force: true });
  });

  it("creates the stack on first use, under a passphrase it makes and names, and the engine accepts it", async () => {
    const code = await destroyThroughLab();
    expect(code).toBe(EXIT.ok);
    const passphrase = path.join(home, "istio-locality.passphrase");
    expect(lines).toContain(
      `secrets: encrypted with the passphrase in ${passphrase} (created now); for plain pulumi commands on this stack: export PULUMI_CONFIG_PASSPHRASE_FILE=${passphrase}`,
    );
    expect(fs.existsSync(path.join(backend, ".pulumi", "stacks", "istio-locality", `${stack}.json`))).toBe(
      true,
    );
    // The passphrase provider's salt, as `pulumi stack init` writes it.
    expect(fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")).toMatch(
      /^encryptionsalt: /m,
    );
  });

  it("selects the same stack again with the kept passphrase", async () => {
    lines.length = 0;
    const code = await destroyThroughLab();
    expect(code).toBe(EXIT.ok);
    expect(lines[1]).toContain("(kept from before)");
    expect(lines[lines.length - 1]).toContain(`The lab of stack \`${stack}\` is gone`);
  });
});
