import { parseArgs } from "node:util";
import * as path from "node:path";
import type { DataplaneMode } from "../../stacks/config";
import { ALL_VIAS, Via } from "./answers";
import { UsageError } from "./exit";

/** The project directory the CLIs work on unless `--cwd` says otherwise: the repository root. */
export const PROJECT_DIR = path.resolve(__dirname, "..", "..");

/** Options of `npm run verify`. */
export interface VerifyOptions {
  stack: string;
  /** Requests per zone and path. */
  requests: number;
  vias: Via[];
  /** Zone whose reviews to take down and bring back. */
  drill?: string;
  cwd: string;
}

/** Options of `npm run switch`. */
export interface SwitchOptions {
  stack: string;
  to: DataplaneMode;
  yes: boolean;
  /** Probe requests per second per zone. */
  rate: number;
  /** Seconds to keep probing after the rollout finished. */
  settle: number;
  /** Where to write the results; a timestamped folder under `./switch-results/` by default. */
  out?: string;
  cwd: string;
}

/** Options of `npm run preview-switch`. */
export interface PreviewOptions {
  stack: string;
  /** Target mode; the other one than configured when left out. */
  to?: DataplaneMode;
  cwd: string;
}

/** Either the options, or a request for help. */
export type Parsed<T> = { help: true } | { help: false; options: T };

const HELP = { type: "boolean", short: "h" } as const;

/** Runs `parseArgs`, turning its complaints (unknown option, missing value) into usage errors. */
function guard<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function integer(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const text = value;
  const number = Number(text);
  if (!/^\d+$/.test(text) || number < min || number > max) {
    throw new UsageError(`--${name} is \`${text}\`; expected a whole number from ${min} to ${max}`);
  }
  return number;
}

function stackName(value: unknown): string {
  if (typeof value !== "string" || value.length === 0)
    throw new UsageError("--stack is required (e.g. --stack sidecar)");
  return value;
}

function mode(value: string): DataplaneMode {
  if (value !== "sidecar" && value !== "ambient") {
    throw new UsageError(`--to is \`${value}\`; expected \`sidecar\` or \`ambient\``);
  }
  return value;
}

function cwd(value: unknown): string {
  return typeof value === "string" ? path.resolve(value) : PROJECT_DIR;
}

/** Parses `verify`'s arguments. */
export function parseVerifyArgs(argv: readonly string[]): Parsed<VerifyOptions> {
  const { values } = guard(() =>
    parseArgs({
      args: [...argv],
      strict: true,
      options: {
        stack: { type: "string" },
        requests: { type: "string" },
        via: { type: "string" },
        drill: { type: "string" },
        cwd: { type: "string" },
        help: HELP,
      },
    }),
  );
  if (values.help) return { help: true };
  const via = values.via ?? "both";
  if (via !== "both" && via !== "reviews" && via !== "productpage") {
    throw new UsageError(`--via is \`${String(via)}\`; expected \`reviews\`, \`productpage\` or \`both\``);
  }
  return {
    help: false,
    options: {
      stack: stackName(values.stack),
      requests: integer("requests", values.requests, 100, 1, 10000),
      vias: via === "both" ? [...ALL_VIAS] : [via],
      drill: typeof values.drill === "string" ? values.drill : undefined,
      cwd: cwd(values.cwd),
    },
  };
}

/** Parses `switch`'s arguments. */
export function parseSwitchArgs(argv: readonly string[]): Parsed<SwitchOptions> {
  const { values } = guard(() =>
    parseArgs({
      args: [...argv],
      strict: true,
      options: {
        stack: { type: "string" },
        to: { type: "string" },
        yes: { type: "boolean", short: "y" },
        rate: { type: "string" },
        settle: { type: "string" },
        out: { type: "string" },
        cwd: { type: "string" },
        help: HELP,
      },
    }),
  );
  if (values.help) return { help: true };
  if (values.to === undefined) throw new UsageError("--to is required: `ambient` or `sidecar`");
  return {
    help: false,
    options: {
      stack: stackName(values.stack),
      to: mode(values.to),
      yes: values.yes === true,
      rate: integer("rate", values.rate, 20, 1, 200),
      settle: integer("settle", values.settle, 30, 0, 3600),
      out: typeof values.out === "string" ? path.resolve(values.out) : undefined,
      cwd: cwd(values.cwd),
    },
  };
}

/** Parses `preview-switch`'s arguments. */
export function parsePreviewArgs(argv: readonly string[]): Parsed<PreviewOptions> {
  const { values } = guard(() =>
    parseArgs({
      args: [...argv],
      strict: true,
      options: { stack: { type: "string" }, to: { type: "string" }, cwd: { type: "string" }, help: HELP },
    }),
  );
  if (values.help) return { help: true };
  return {
    help: false,
    options: {
      stack: stackName(values.stack),
      to: values.to === undefined ? undefined : mode(values.to),
      cwd: cwd(values.cwd),
    },
  };
}
