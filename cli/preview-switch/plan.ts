import type { EngineEvent, OpMap, OpType } from "@pulumi/pulumi/automation";
import * as yaml from "js-yaml";
import { DataplaneMode, MODE_KEY, ModeSource } from "../../stacks/contract";

/** The operations a plan reports per resource. */
export type PlanOp = "create" | "update" | "replace" | "delete";

/** One resource the preview would change. */
export interface PlanStep {
  op: PlanOp;
  /** The resource type token, e.g. `kubernetes:apps/v1:Deployment`. */
  type: string;
  /** The logical name (the last URN segment). */
  name: string;
  urn: string;
  /** For a replacement: the properties that force it. */
  replaceKeys: string[];
  /** The properties that change. */
  diffs: string[];
}

/** A previewed mode switch. */
export interface SwitchPlan {
  stackName: string;
  /** The mode the stack runs now (see `currentMode` in `stacks/contract.ts`). */
  from: DataplaneMode;
  /** Where {@link SwitchPlan.from} was read. */
  fromSource: ModeSource;
  /** The pieces of both modes the cluster runs after a switch that stopped half way, in words. */
  halfSwitched?: string;
  to: DataplaneMode;
  /** The engine's counts per operation. */
  changeSummary: OpMap;
  /** Every resource that would change, in the engine's order. */
  steps: PlanStep[];
  /** The steps that delete and re-create a resource. */
  replacements: PlanStep[];
  /** Warnings the program printed while previewing (e.g. limits of the target mode). */
  warnings: string[];
}

/** The logical name in a URN (`urn:pulumi:stack::project::type$type::name`). */
export function nameFromUrn(urn: string): string {
  const at = urn.lastIndexOf("::");
  return at >= 0 ? urn.slice(at + 2) : urn;
}

const REPLACE_OPS: ReadonlySet<OpType> = new Set<OpType>([
  "replace",
  "create-replacement",
  "delete-replaced",
]);
const SIMPLE_OPS: Partial<Record<OpType, PlanOp>> = { create: "create", update: "update", delete: "delete" };

/**
 * The per-resource plan from a preview's engine events. A replacement shows up as up to three steps
 * (`create-replacement`, `replace`, `delete-replaced`, in an order that depends on delete-before-replace);
 * they are folded into one `replace`, with the keys that force it. Unchanged and read steps are left out.
 */
export function summarisePlan(events: readonly EngineEvent[]): PlanStep[] {
  const steps = new Map<string, PlanStep>();
  for (const event of events) {
    const metadata = event.resourcePreEvent?.metadata;
    if (!metadata) continue;
    const op = REPLACE_OPS.has(metadata.op) ? "replace" : SIMPLE_OPS[metadata.op];
    if (!op) continue;
    const existing = steps.get(metadata.urn);
    const step: PlanStep = existing ?? {
      op,
      type: metadata.type,
      name: nameFromUrn(metadata.urn),
      urn: metadata.urn,
      replaceKeys: [],
      diffs: [],
    };
    if (op === "replace") step.op = "replace";
    for (const key of metadata.keys ?? []) if (!step.replaceKeys.includes(key)) step.replaceKeys.push(key);
    for (const key of metadata.diffs ?? []) if (!step.diffs.includes(key)) step.diffs.push(key);
    steps.set(metadata.urn, step);
  }
  return [...steps.values()];
}

/** Program warnings from a preview's diagnostics, without the engine's colour markup, each once. */
export function previewWarnings(events: readonly EngineEvent[]): string[] {
  const warnings = events
    .map((event) => event.diagnosticEvent)
    .filter((diagnostic) => diagnostic?.severity === "warning")
    .map((diagnostic) => diagnostic!.message.replace(/<\{%[^%]*%\}>|\u001b\[[0-9;]*m/g, "").trim())
    .filter((message) => message.length > 0);
  return [...new Set(warnings)];
}

const OP_MARK: Record<PlanOp, string> = { create: "+", update: "~", replace: "+-", delete: "-" };

/** The plan as text: one line per resource, replacements flagged loudly, then the counts. */
export function renderPlan(plan: SwitchPlan): string {
  const lines: string[] = [];
  lines.push(
    `Preview of stack \`${plan.stackName}\` with dataplaneMode \`${plan.to}\` (runs now: ${plan.from}, from its ${plan.fromSource}).`,
  );
  lines.push("The stack's config file is unchanged.");
  if (plan.halfSwitched) {
    lines.push(
      `The cluster runs pieces of both modes (${plan.halfSwitched}): a switch stopped half way, and the ` +
        `steps below are what remains to reach \`${plan.to}\`.`,
    );
  }
  lines.push("");
  if (plan.steps.length === 0) {
    lines.push("No resource would change.");
  } else {
    const typeWidth = Math.max(...plan.steps.map((step) => step.type.length));
    for (const step of plan.steps) {
      const op = step.op === "replace" ? "REPLACE" : step.op;
      const why =
        step.op === "replace"
          ? `   <-- deleted and created again${step.replaceKeys.length ? ` (forced by ${step.replaceKeys.join(", ")})` : ""}`
          : step.op === "update" && step.diffs.length
            ? `   [${step.diffs.join(", ")}]`
            : "";
      lines.push(
        `  ${OP_MARK[step.op].padEnd(2)} ${op.padEnd(7)} ${step.type.padEnd(typeWidth)}  ${step.name}${why}`,
      );
    }
  }
  lines.push("");
  const counts = (["create", "update", "replace", "delete", "same"] as const)
    .map((op) => [op, plan.changeSummary[op] ?? 0] as const)
    .filter(([, count]) => count > 0)
    .map(([op, count]) => `${count} to ${op === "same" ? "leave unchanged" : op}`);
  lines.push(`Change summary: ${counts.length ? counts.join(", ") : "nothing"}.`);
  for (const warning of plan.warnings) lines.push(`warning: ${warning}`);
  if (plan.replacements.length) {
    lines.push("");
    lines.push(`!!! ${plan.replacements.length} resource(s) would be REPLACED (deleted and created again):`);
    for (const step of plan.replacements) lines.push(`!!!   ${step.type}  ${step.name}`);
    lines.push("!!! A replaced Deployment, Service or Namespace drops traffic while it is re-created.");
  }
  return lines.join("\n");
}

/**
 * A stack config file's text with the data plane set to `to`, for a temporary copy handed to the CLI's
 * `--config-file`: everything else (secrets, encryption salt, other keys) is kept as it was.
 */
export function withDataplaneMode(stackFileText: string | undefined, to: DataplaneMode): string {
  const parsed = stackFileText ? yaml.load(stackFileText) : undefined;
  const settings = (parsed && typeof parsed === "object" ? parsed : {}) as {
    config?: Record<string, unknown>;
  };
  return yaml.dump(
    { ...settings, config: { ...(settings.config ?? {}), [MODE_KEY]: to } },
    { lineWidth: -1 },
  );
}
