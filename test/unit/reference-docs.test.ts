import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { Command } from "commander";
import { labCommand } from "../../cli/lab/options";
import { previewSwitchCommand } from "../../cli/preview-switch/options";
import { recoverCommand } from "../../cli/recover/options";
import { switchCommand } from "../../cli/switch/options";
import { verifyCommand } from "../../cli/verify/options";
import { ConfigError, parseConfig } from "../../stacks/config";
import { DEFAULTS } from "../../stacks/contract";
import { benchCommand } from "../bench/options";

/**
 * The reference pages are held to the code: the configuration table of docs/configuration.md to
 * Pulumi.yaml, the keys the loader reads and the contract's defaults; each tool's option table to
 * the tool's own declaration of its options.
 */

const ROOT = path.join(__dirname, "..", "..");
const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), "utf8");

/** The body rows of the one markdown table between two marker comments, as trimmed cells. */
function markedTable(page: string, open: string, close: string): string[][] {
  const start = page.indexOf(open);
  const end = page.indexOf(close, start + open.length);
  if (start < 0 || end < 0) throw new Error(`no table between ${open} and ${close}`);
  return page
    .slice(start + open.length, end)
    .split("\n")
    .filter((line) => line.trim().startsWith("|"))
    .slice(2)
    .map((line) =>
      line
        .trim()
        .replace(/^\|/, "")
        .replace(/\|$/, "")
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
}

/** The code literal a cell starts with (`` `3` ``, `` `[zone-a, zone-b]` ``), if it starts with one. */
const leadingLiteral = (cell: string): string | undefined => /^`([^`]+)`/.exec(cell)?.[1];

/** A cell as it reads, code spans unmarked. */
const unmarked = (cell: string): string => cell.replace(/`/g, "");

describe("docs/configuration.md's configuration table", () => {
  const project = yaml.load(read("Pulumi.yaml")) as {
    config: Record<string, { type?: string; default?: unknown }>;
  };
  const rows = markedTable(read("docs/configuration.md"), "<!-- config-table -->", "<!-- /config-table -->");
  const tableKeys = rows.map(([cell]) => /^`([^`]+)`$/.exec(cell)?.[1] ?? `not one code span: ${cell}`);

  /**
   * The sub-keys of an object key that the loader reads: `parseConfig` is given an object that
   * records every property asked of it, once as minikube and once as an existing cluster (each
   * kind reads its own keys).
   */
  function keysTheLoaderReads(objectKey: string): Set<string> {
    const asked = new Set<string>();
    for (const seed of [{}, { provider: "existing" }]) {
      const probe = new Proxy<Record<string, unknown>>(seed, {
        get(target, property, receiver) {
          if (typeof property === "string") asked.add(property);
          return Reflect.get(target, property, receiver);
        },
      });
      try {
        parseConfig({ [objectKey]: probe }, "docs", () => undefined);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
      }
    }
    return asked;
  }

  /** Every key a stack can set: the scalars and lists of Pulumi.yaml, and each object's sub-keys. */
  const expectedKeys = Object.entries(project.config).flatMap(([key, declaration]) => {
    if (declaration.type !== "object") return [key];
    const subKeys = new Set([
      ...keysTheLoaderReads(key),
      ...Object.keys((declaration.default as Record<string, unknown> | undefined) ?? {}),
    ]);
    return [...subKeys].map((subKey) => `${key}.${subKey}`);
  });

  it("finds the loader reading every sub-key Pulumi.yaml gives a default", () => {
    for (const [key, declaration] of Object.entries(project.config)) {
      if (declaration.type !== "object") continue;
      const asked = keysTheLoaderReads(key);
      expect(Object.keys(declaration.default as object).filter((subKey) => !asked.has(subKey))).toEqual([]);
    }
    expect(expectedKeys).toEqual(expect.arrayContaining(["cluster.kubeconfig", "istio.values", "zones"]));
  });

  it("lists every key a stack can set, each once, and no other", () => {
    expect([...tableKeys].sort()).toEqual([...new Set(expectedKeys)].sort());
  });

  it("shows each contract default as DEFAULTS has it", () => {
    const wrong: string[] = [];
    for (const [keyCell, defaultCell] of rows) {
      const key = unmarked(keyCell);
      const expected = key
        .split(".")
        .reduce<unknown>((value, part) => (value as Record<string, unknown> | undefined)?.[part], DEFAULTS);
      if (expected === undefined) continue;
      const literal = leadingLiteral(defaultCell);
      const shown = literal === undefined || typeof expected === "string" ? literal : yaml.load(literal);
      if (JSON.stringify(shown) !== JSON.stringify(expected)) {
        wrong.push(`${key}: shows ${defaultCell}, DEFAULTS has ${JSON.stringify(expected)}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

const TOOLS: [page: string, tool: string, command: () => Command][] = [
  ["docs/tools.md", "verify", verifyCommand],
  ["docs/tools.md", "switch", switchCommand],
  ["docs/tools.md", "preview-switch", previewSwitchCommand],
  ["docs/tools.md", "recover", recoverCommand],
  ["docs/tools.md", "lab", labCommand],
  ["docs/benchmark.md", "bench", benchCommand],
];

describe.each(TOOLS)("%s: the options of %s", (page, tool, command) => {
  const rows = markedTable(read(page), `<!-- options: ${tool} -->`, "<!-- /options -->");
  const declared = command().options;
  const row = (flags: string): string[] | undefined => rows.find(([cell]) => cell === `\`${flags}\``);

  it("lists every option the tool declares, as declared, and no other", () => {
    expect(rows.map(([cell]) => cell)).toEqual(declared.map((option) => `\`${option.flags}\``));
  });

  it("shows each option's default as declared, `required` where the tool needs it", () => {
    for (const option of declared) {
      const shown = row(option.flags)?.[1] ?? "";
      if (option.mandatory) {
        expect([option.flags, shown]).toEqual([option.flags, "required"]);
      } else if (option.defaultValue !== undefined) {
        const description = option.defaultValueDescription ?? String(option.defaultValue);
        expect([option.flags, unmarked(shown)]).toEqual([option.flags, description]);
      } else {
        expect([option.flags, leadingLiteral(shown)]).toEqual([option.flags, undefined]);
      }
    }
  });

  it("says what each option does in its declared words first", () => {
    for (const option of declared) {
      const meaning = unmarked(row(option.flags)?.[2] ?? "");
      expect([option.flags, meaning.startsWith(unmarked(option.description))]).toEqual([option.flags, true]);
    }
  });
});
