import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";

/** The project directory: tests run the real program, not an inline copy. */
export const PROJECT_DIR = path.join(__dirname, "..", "..");

/** The config a shipped stack file sets, keys without the project prefix. */
export function shippedStackConfig(stack: "sidecar" | "ambient"): Record<string, unknown> {
  const parsed = yaml.load(fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, unknown>;
  };
  return Object.fromEntries(
    Object.entries(parsed.config).map(([k, v]) => [k.replace(/^istio-locality:/, ""), v]),
  );
}

/** The Gateway API v1.5.1 standard CRDs (Istio 1.30's bundle), by plural. */
export const GATEWAY_API_CRD_PLURALS = [
  "backendtlspolicies",
  "gatewayclasses",
  "gateways",
  "grpcroutes",
  "httproutes",
  "listenersets",
  "referencegrants",
  "tlsroutes",
];
