import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LOCAL_BACKEND, labEnvironment, passphraseFile } from "../../../cli/lab/backend";
import { parseLabOptions } from "../../../cli/lab/options";
import { nextSteps } from "../../../cli/lab/run";
import { PROJECT_DIR } from "../../../cli/shared/options";
import { toolEnvVars } from "../../../cli/shared/stack";

const tempHome = () => fs.mkdtempSync(path.join(os.tmpdir(), "istio-locality-home-"));

describe("the lab's backend and secrets", () => {
  it("with nothing set: the local file backend and a passphrase file it creates once, for the user only", () => {
    const home = tempHome();
    const first = labEnvironment({}, home);
    const file = path.join(home, ".pulumi", "istio-locality.passphrase");
    expect(first.envVars).toEqual({ PULUMI_BACKEND_URL: LOCAL_BACKEND, PULUMI_CONFIG_PASSPHRASE_FILE: file });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const passphrase = fs.readFileSync(file, "utf8");
    expect(passphrase.length).toBeGreaterThanOrEqual(32);
    expect(first.notes).toEqual([
      "state: the local file backend file://~ (the one `pulumi login --local` uses)",
      `secrets: encrypted with the passphrase in ${file} (created now); for plain pulumi commands on this stack: pulumi login --local && export PULUMI_CONFIG_PASSPHRASE_FILE=${file}`,
    ]);

    const second = labEnvironment({}, home);
    expect(second.notes[1]).toContain("(kept from before)");
    expect(fs.readFileSync(file, "utf8")).toBe(passphrase);
  });

  it("with a file backend set but no passphrase: the hint for plain pulumi commands needs no login", () => {
    const home = tempHome();
    const file = path.join(home, ".pulumi", "istio-locality.passphrase");
    expect(labEnvironment({ PULUMI_BACKEND_URL: "file:///srv/state" }, home).notes[1]).toBe(
      `secrets: encrypted with the passphrase in ${file} (created now); for plain pulumi commands on this stack: export PULUMI_CONFIG_PASSPHRASE_FILE=${file}`,
    );
  });

  it("keeps the passphrase file in PULUMI_HOME when that is set", () => {
    expect(passphraseFile({ PULUMI_HOME: "/p" }, "/home/u")).toBe("/p/istio-locality.passphrase");
  });

  it("uses the user's backend and passphrase when set, and writes nothing", () => {
    const home = tempHome();
    expect(
      labEnvironment({ PULUMI_BACKEND_URL: "file:///srv/state", PULUMI_CONFIG_PASSPHRASE: "" }, home),
    ).toEqual({
      envVars: {},
      notes: [
        "state: file:///srv/state (PULUMI_BACKEND_URL)",
        "secrets: encrypted with $PULUMI_CONFIG_PASSPHRASE",
      ],
    });
    expect(labEnvironment({ PULUMI_CONFIG_PASSPHRASE_FILE: "/run/pass" }, home).notes[1]).toBe(
      "secrets: encrypted with the passphrase in /run/pass",
    );
    expect(fs.readdirSync(home)).toEqual([]);
  });

  it("asks no passphrase of a service backend, which encrypts with its own keys", () => {
    const home = tempHome();
    expect(labEnvironment({ PULUMI_BACKEND_URL: "https://api.pulumi.com" }, home)).toEqual({
      envVars: {},
      notes: ["state: https://api.pulumi.com (PULUMI_BACKEND_URL)"],
    });
    expect(fs.readdirSync(home)).toEqual([]);
  });
});

describe("the lab's command line", () => {
  it("brings up the sidecar stack of this repository by default", () => {
    expect(parseLabOptions([])).toEqual({ options: { stack: "sidecar", destroy: false, cwd: PROJECT_DIR } });
    expect(parseLabOptions(["--stack", "ambient", "--destroy"])).toEqual({
      options: { stack: "ambient", destroy: true, cwd: PROJECT_DIR },
    });
  });

  it("says in --help where the state and the passphrase go", () => {
    const parsed = parseLabOptions(["--help"]);
    const help = "help" in parsed ? parsed.help : "";
    expect(help).toContain("Usage: npm run lab -- [options]");
    expect(help).toContain('--stack <name>  the stack (default: "sidecar")');
    expect(help).toContain("$PULUMI_HOME/istio-locality.passphrase (mode 600)");
  });

  it("ends with the productpage command and the tools to run next", () => {
    const lines = nextSteps("sidecar", "curl -s http://x/productpage");
    expect(lines).toContain("  curl -s http://x/productpage");
    expect(lines.some((line) => line.startsWith("  npm run verify -- --stack sidecar"))).toBe(true);
    expect(lines.some((line) => line.startsWith("  npm run lab -- --stack sidecar --destroy"))).toBe(true);
    expect(nextSteps("a", undefined)).toContain("  pulumi stack output productpage --stack a");
  });
});

describe("the tools' Pulumi environment", () => {
  it("runs the program transpile-only, and lets the caller's variables win", () => {
    expect(toolEnvVars({})).toEqual({ PULUMI_NODEJS_TRANSPILE_ONLY: "true" });
    expect(toolEnvVars({ envVars: { PULUMI_NODEJS_TRANSPILE_ONLY: "false", X: "1" } })).toEqual({
      PULUMI_NODEJS_TRANSPILE_ONLY: "false",
      X: "1",
    });
  });
});
