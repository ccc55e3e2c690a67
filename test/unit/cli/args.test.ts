import * as path from "node:path";
import { PROJECT_DIR, parsePreviewArgs, parseSwitchArgs, parseVerifyArgs } from "../../../cli/lib/args";
import { UsageError } from "../../../cli/lib/exit";

describe("parseVerifyArgs", () => {
  it("applies the defaults: 100 requests, both paths, this repository", () => {
    expect(parseVerifyArgs(["--stack", "sidecar"])).toEqual({
      help: false,
      options: {
        stack: "sidecar",
        requests: 100,
        vias: ["reviews", "productpage"],
        drill: undefined,
        cwd: PROJECT_DIR,
      },
    });
    expect(PROJECT_DIR).toBe(path.resolve(__dirname, "..", "..", ".."));
  });

  it("takes every option", () => {
    expect(
      parseVerifyArgs([
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
      help: false,
      options: { stack: "a", requests: 20, vias: ["productpage"], drill: "zone-b", cwd: "/tmp/x" },
    });
  });

  it("answers --help before checking anything else", () => {
    expect(parseVerifyArgs(["--help"])).toEqual({ help: true });
    expect(parseVerifyArgs(["-h"])).toEqual({ help: true });
  });

  it.each([
    [[], "--stack is required (e.g. --stack sidecar)"],
    [["--stack", "a", "--requests", "0"], "--requests is `0`; expected a whole number from 1 to 10000"],
    [["--stack", "a", "--requests", "1e3"], "--requests is `1e3`; expected a whole number from 1 to 10000"],
    [["--stack", "a", "--via", "details"], "--via is `details`; expected `reviews`, `productpage` or `both`"],
    [["--stack", "a", "--bogus"], "Unknown option '--bogus'"],
  ])("refuses %j", (argv, message) => {
    expect(() => parseVerifyArgs(argv)).toThrow(UsageError);
    expect(() => parseVerifyArgs(argv)).toThrow(message);
  });
});

describe("parseSwitchArgs", () => {
  it("applies the defaults: 20 requests/s, 30 s settle, asking first", () => {
    expect(parseSwitchArgs(["--stack", "s", "--to", "ambient"])).toEqual({
      help: false,
      options: {
        stack: "s",
        to: "ambient",
        yes: false,
        rate: 20,
        settle: 30,
        out: undefined,
        cwd: PROJECT_DIR,
      },
    });
  });

  it("takes --yes, --rate, --settle and --out", () => {
    const parsed = parseSwitchArgs([
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
      help: false,
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
    [["--stack", "s"], "--to is required: `ambient` or `sidecar`"],
    [["--stack", "s", "--to", "ambiant"], "--to is `ambiant`; expected `sidecar` or `ambient`"],
    [
      ["--stack", "s", "--to", "ambient", "--rate", "500"],
      "--rate is `500`; expected a whole number from 1 to 200",
    ],
  ])("refuses %j", (argv, message) => {
    expect(() => parseSwitchArgs(argv)).toThrow(message);
  });
});

describe("parsePreviewArgs", () => {
  it("leaves the target to the stack's other mode unless --to names it", () => {
    expect(parsePreviewArgs(["--stack", "s"])).toEqual({
      help: false,
      options: { stack: "s", to: undefined, cwd: PROJECT_DIR },
    });
    expect(parsePreviewArgs(["--stack", "s", "--to", "sidecar"])).toMatchObject({
      options: { to: "sidecar" },
    });
  });
});
