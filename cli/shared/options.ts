import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import * as path from "node:path";
import { EXIT, UsageError } from "./exit";

/** The project directory the tools work on unless `--cwd` says otherwise: the repository root. */
export const PROJECT_DIR = path.resolve(__dirname, "..", "..");

/** A value parser for a whole number in a range; commander names the option and the value. */
export function wholeNumber(min: number, max: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < min || number > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return number;
  };
}

/** What a tool says about itself in `--help`. */
export interface ToolHelp {
  /** The npm script that runs it. */
  script: string;
  /** One line under the usage line. */
  summary: string;
  /** What it does, laid out for 100 columns, after the options. */
  description: string;
  /** Its exit codes and what each means. */
  exitCodes: readonly (readonly [number, string])[];
}

/** A command line that says what it does and lists its exit codes in `--help`. */
export function describedCommand(help: ToolHelp): Command {
  return new Command(`npm run ${help.script} --`)
    .description(help.summary)
    .addHelpText("after", `\n${help.description}\n${exitCodesHelp(help.exitCodes)}`);
}

/** The stack `npm run lab` brings up when none is named; `verify`, which only reads, checks it by default too. */
export const DEFAULT_STACK = "sidecar";

/**
 * A tool's command line: its help, and `--stack`, which every tool on a stack needs, first among its
 * options: required, unless the tool names the stack it uses by default.
 */
export function toolCommand(help: ToolHelp, defaultStack?: string): Command {
  const stack = defaultStack
    ? new Option("--stack <name>", "the stack").default(defaultStack)
    : new Option("--stack <name>", "the deployed stack, e.g. sidecar").makeOptionMandatory();
  return describedCommand(help).addOption(stack);
}

/** `--cwd`, the Pulumi project the stack belongs to. */
export function cwdOption(): Option {
  return new Option("--cwd <dir>", "the Pulumi project directory")
    .default(PROJECT_DIR, "this repository")
    .argParser((value) => path.resolve(value));
}

/** A command's exit codes, for the end of its `--help`. */
function exitCodesHelp(codes: readonly (readonly [number, string])[]): string {
  const width = Math.max(...codes.map(([code]) => String(code).length));
  return [
    "",
    "Exit codes:",
    ...codes.map(([code, meaning]) => `  ${String(code).padEnd(width)}  ${meaning}`),
  ].join("\n");
}

/** What a command line asks for: the options, or the help text. */
export type Parsed<T> = { help: string } | { options: T };

/**
 * Parses a command line with a command's declaration. Wrong arguments become a {@link UsageError}
 * with commander's message (it names the option, the value and what is allowed); `--help` returns
 * the text generated from the declaration. Nothing is printed and nothing exits here.
 */
export function parseCommandLine<T>(command: Command, argv: readonly string[]): Parsed<T> {
  let help = "";
  command
    .exitOverride()
    // The long help texts are laid out for 100 columns; commander would wrap them to the terminal.
    .configureOutput({
      writeOut: (text) => (help += text),
      writeErr: () => undefined,
      getOutHelpWidth: () => 100,
    })
    .helpOption("-h, --help", "this text");
  try {
    command.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError && error.exitCode === EXIT.ok) return { help: help.trimEnd() };
    if (error instanceof CommanderError) throw new UsageError(error.message.replace(/^error: /, ""));
    throw error;
  }
  return { options: command.opts() as T };
}
