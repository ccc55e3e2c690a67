import type { DataplaneMode, LocalityIntent } from "../../stacks/config";
import { UsageError } from "./exit";

/** The stack outputs the tools rely on (see the program's exports in index.ts). */
export interface LabOutputs {
  dataplaneMode: DataplaneMode;
  locality: LocalityIntent;
  /** How the program carries out the intent in this mode, when it says. */
  localityMechanism?: string;
  zones: string[];
  nodeZones: Record<string, string>;
  /** Full kubeconfig YAML (a secret output). */
  kubeconfig: string;
  namespace: string;
  reviewsZones: Record<string, string>;
  clientImage: string;
}

type OutputMap = Record<string, { value: unknown; secret?: boolean } | undefined>;

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    !!value &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string")
  );
}

/**
 * Reads and checks the outputs. A missing or malformed one means the stack was not deployed with this
 * program (or not yet): the error names the output and what was expected.
 */
export function parseLabOutputs(outputs: OutputMap, stackName: string): LabOutputs {
  const get = <T>(key: string, ok: (value: unknown) => value is T, expected: string, fallback?: T): T => {
    const value = outputs[key]?.value;
    if (value === undefined && fallback !== undefined) return fallback;
    if (value === undefined) {
      throw new UsageError(
        `stack \`${stackName}\` has no output \`${key}\`; deploy it first (\`pulumi up\`)`,
      );
    }
    if (!ok(value)) {
      throw new UsageError(
        `stack \`${stackName}\`: output \`${key}\` is ${JSON.stringify(value)}; expected ${expected}`,
      );
    }
    return value;
  };
  const oneOf =
    <T extends string>(allowed: readonly T[]) =>
    (value: unknown): value is T =>
      typeof value === "string" && (allowed as readonly string[]).includes(value);
  const isString = (value: unknown): value is string => typeof value === "string" && value.length > 0;
  const zones = get(
    "zones",
    (value): value is string[] => Array.isArray(value) && value.length > 0 && value.every(isString),
    "a non-empty list of zone names",
  );
  return {
    dataplaneMode: get(
      "dataplaneMode",
      oneOf<DataplaneMode>(["sidecar", "ambient"]),
      "`sidecar` or `ambient`",
    ),
    locality: get(
      "locality",
      oneOf<LocalityIntent>(["strict", "failover", "off"]),
      "`strict`, `failover` or `off`",
    ),
    localityMechanism:
      typeof outputs.localityMechanism?.value === "string" ? outputs.localityMechanism.value : undefined,
    zones,
    nodeZones: get("nodeZones", isStringRecord, "a map of node name to zone"),
    kubeconfig: get("kubeconfig", isString, "kubeconfig YAML"),
    namespace: get("bookinfoNamespace", isString, "a namespace name", "bookinfo"),
    reviewsZones: get("reviewsZones", isStringRecord, "a map of reviews version to zone"),
    clientImage: get("clientImage", isString, "an image name", "curlimages/curl:8.16.0"),
  };
}
