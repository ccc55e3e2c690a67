import * as path from "node:path";
import { previewSwitchCommand, parsePreviewOptions } from "../../../cli/preview-switch/options";
import { UsageError } from "../../../cli/shared/exit";
import { parseRecoverOptions, recoverCommand } from "../../../cli/recover/options";
import { PROJECT_DIR } from "../../../cli/shared/options";
import { parseSwitchOptions, switchCommand } from "../../../cli/switch/options";
import { parseVerifyOptions, verifyCommand } from "../../../cli/verify/options";

describe("verify's options", () => {
  it("applies the defaults: 100 requests, both paths, this repository", () => {
    expect(parseVerifyOptions(["--stack", "sidecar"])).toEqual({
      options: { stack: "sidecar", requests: 100, vias: ["reviews", "productpage"], cwd: PROJECT_DIR },
    });
    expect(PROJECT_DIR).toBe(path.resolve(__dirname, "..", "..", ".."));
  });

  it("takes every option", () => {
    expect(
      parseVerifyOptions([
        "--stack",
        "a",
        "--requests",
        "20",
        "--via",
        "productpage",
        "--drill",
        "zone-b",
        "--cwd",
        "/tmp/x",
      ]),
    ).toEqual({
      options: { stack: "a", requests: 20, vias: ["productpage"], drill: "zone-b", cwd: "/tmp/x" },
    });
  });

  it("answers --help before checking anything else, with the declared defaults and exit codes", () => {
    const parsed = parseVerifyOptions(["--help"]);
    expect(parsed).toEqual({ help: expect.stringContaining("Usage: npm run verify -- [options]") });
    const help = "help" in parsed ? parsed.help : "";
    expect(help).toContain("requests per zone and path (default: 100)");
    expect(help).toContain('(choices: "reviews", "productpage", "both", default: "both")');
    expect(help).toMatch(/^ {2}3 {4}the cluster cannot answer/m);
    expect(parseVerifyOptions(["-h"])).toEqual(parsed);
  });

  it("checks the stack `npm run lab` brings up unless told another", () => {
    expect(parseVerifyOptions([])).toMatchObject({ options: { stack: "sidecar" } });
    expect(parseVerifyOptions(["--stack", "ambient"])).toMatchObject({ options: { stack: "ambient" } });
  });

  it.each([
    [
      ["--stack", "a", "--requests", "0"],
      "option '--requests <n>' argument '0' is invalid. expected a whole number from 1 to 10000",
    ],
    [
      ["--stack", "a", "--requests", "1e3"],
      "argument '1e3' is invalid. expected a whole number from 1 to 10000",
    ],
    [
      ["--stack", "a", "--via", "details"],
      "argument 'details' is invalid. Allowed choices are reviews, productpage, both.",
    ],
    [["--stack", "a", "--bogus"], "unknown option '--bogus'"],
    [["--stack", "a", "extra"], "too many arguments"],
  ])("refuses %j, naming the option, the value and what is allowed", (argv, message) => {
    expect(() => parseVerifyOptions(argv)).toThrow(UsageError);
    expect(() => parseVerifyOptions(argv)).toThrow(message);
  });
});

describe("switch's options", () => {
  it("applies the defaults: 20 requests/s, 30 s settle, asking first", () => {
    expect(parseSwitchOptions(["--stack", "s", "--to", "ambient"])).toEqual({
      options: { stack: "s", to: "ambient", yes: false, rate: 20, settle: 30, cwd: PROJECT_DIR },
    });
  });

  it("takes --yes, --rate, --settle and --out", () => {
    const parsed = parseSwitchOptions([
      "--stack",
      "s",
      "--to",
      "sidecar",
      "-y",
      "--rate",
      "50",
      "--settle",
      "0",
      "--out",
      "results",
    ]);
    expect(parsed).toEqual({
      options: expect.objectContaining({
        to: "sidecar",
        yes: true,
        rate: 50,
        settle: 0,
        out: path.resolve("results"),
      }),
    });
  });

  it.each([
    [["--stack", "s"], "required option '--to <mode>' not specified"],
    [
      ["--stack", "s", "--to", "ambiant"],
      "argument 'ambiant' is invalid. Allowed choices are sidecar, ambient.",
    ],
    [
      ["--stack", "s", "--to", "ambient", "--rate", "500"],
      "argument '500' is invalid. expected a whole number from 1 to 200",
    ],
  ])("refuses %j", (argv, message) => {
    expect(() => parseSwitchOptions(argv)).toThrow(message);
  });
});

describe("preview-switch's options", () => {
  it("leaves the target to the stack's other mode unless --to names it", () => {
    expect(parsePreviewOptions(["--stack", "s"])).toEqual({ options: { stack: "s", cwd: PROJECT_DIR } });
    expect(parsePreviewOptions(["--stack", "s", "--to", "sidecar"])).toMatchObject({
      options: { to: "sidecar" },
    });
  });
});

describe("recover's options", () => {
  it("asks first unless --yes, and says in its help when it must not run", () => {
    expect(parseRecoverOptions(["--stack", "s"])).toEqual({
      options: { stack: "s", yes: false, cwd: PROJECT_DIR },
    });
    expect(parseRecoverOptions(["--stack", "s", "--yes"])).toMatchObject({ options: { yes: true } });
    const help = (parseRecoverOptions(["--help"]) as { help: string }).help.replace(/\s+/g, " ");
    expect(help).toContain("Run it only when no `pulumi up` of this stack is running anywhere");
    expect(help).toContain("After Ctrl-C nothing is needed");
  });
});

describe.each([
  ["recover", recoverCommand, true],
  ["verify", verifyCommand, false],
  ["switch", switchCommand, true],
  ["preview-switch", previewSwitchCommand, true],
])("%s's declaration", (name, command, stackRequired) => {
  it(`describes every option, ${stackRequired ? "requires --stack" : "defaults --stack"} and is named by its npm script`, () => {
    const declared = command();
    expect(declared.name()).toBe(`npm run ${name} --`);
    expect(declared.options.filter((option) => !option.description).map((option) => option.long)).toEqual([]);
    expect(declared.options.find((option) => option.long === "--stack")?.mandatory).toBe(stackRequired);
  });
});
