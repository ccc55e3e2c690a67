import type * as pulumiType from "@pulumi/pulumi";

/** One resource the program registered, with what the engine would have seen. */
export interface Registered {
  type: string;
  name: string;
  urn: string;
  inputs: Record<string, any>;
  /** Provider reference (`<urn>::<id>`) of a custom resource; empty when the default provider would be used. */
  provider: string;
  /** URNs the resource depends on (explicit `dependsOn` and through its inputs). */
  dependencies: string[];
}

/** What a mocked run of the program declared. */
export interface ProgramRun {
  resources: Registered[];
  outputs: Record<string, unknown>;
  warnings: string[];
  /** Resources of a type, by name. */
  byType(type: string): Registered[];
  /** The resource with this logical name (fails the test when absent). */
  get(name: string): Registered;
  /** Whether `name` depends, directly or transitively, on `on`. */
  dependsOn(name: string, on: string): boolean;
}

export const FAKE_KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n";

/**
 * Runs `index.ts` under Pulumi mocks with the given stack config (keys without the project
 * prefix) and returns every registered resource. `previousMode` plays the stack's last outputs.
 */
export async function runProgram(
  config: Record<string, unknown>,
  options: { stack?: string; previousMode?: string } = {},
): Promise<ProgramRun> {
  const stack = options.stack ?? "sidecar";
  jest.resetModules();
  // Loaded fresh per run so each run has its own runtime state.
  const pulumi = require("@pulumi/pulumi") as typeof pulumiType;
  const mocks = require("@pulumi/pulumi/runtime/mocks");
  const settings = require("@pulumi/pulumi/runtime/settings");
  const resources: Registered[] = [];
  const warnings: string[] = [];

  const original = mocks.MockMonitor.prototype.registerResource;
  mocks.MockMonitor.prototype.registerResource = function (req: any, callback: any) {
    const parent = req.getParent();
    const urn = this.newUrn(parent, req.getType(), req.getName());
    resources.push({
      type: req.getType(),
      name: req.getName(),
      urn,
      inputs: {},
      provider: req.getProvider(),
      dependencies: req.getDependenciesList(),
    });
    return original.call(this, req, callback);
  };
  const log = require("@pulumi/pulumi/log");
  jest.spyOn(log, "warn").mockImplementation((...args: unknown[]) => {
    warnings.push(String(args[0]));
    return Promise.resolve();
  });

  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumiType.runtime.MockResourceArgs) {
        const record = resources.filter((r) => r.name === args.name && r.type === args.type).pop();
        if (record) record.inputs = args.inputs;
        // Reads (a StackReference) do not pass through registerResource.
        else
          resources.push({
            type: args.type,
            name: args.name,
            urn: "",
            inputs: args.inputs,
            provider: "",
            dependencies: [],
          });
        return { id: `${args.name}-id`, state: computedState(args, options.previousMode) };
      },
      call(args: pulumiType.runtime.MockCallArgs) {
        return args.inputs;
      },
    },
    "istio-locality",
    stack,
    false,
    "organization",
  );
  pulumi.runtime.setAllConfig(
    Object.fromEntries(
      Object.entries(config).map(([key, value]) => [
        `istio-locality:${key}`,
        typeof value === "string" ? value : JSON.stringify(value),
      ]),
    ),
  );

  const program = await (require("../../index") as Promise<Record<string, unknown>>);
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(program)) {
    outputs[key] = pulumi.Output.isInstance(value) ? await promiseOf(value) : value;
  }
  await settings.waitForRPCs();
  mocks.MockMonitor.prototype.registerResource = original;

  const byName = new Map(resources.map((r) => [r.name, r]));
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const dependsOn = (name: string, on: string, seen = new Set<string>()): boolean => {
    const resource = byName.get(name);
    if (!resource || seen.has(name)) return false;
    seen.add(name);
    return resource.dependencies.some((urn) => {
      const dep = byUrn.get(urn);
      return dep !== undefined && (dep.name === on || dependsOn(dep.name, on, seen));
    });
  };
  return {
    resources,
    outputs,
    warnings,
    byType: (type) => resources.filter((r) => r.type === type),
    get: (name) => {
      const resource = byName.get(name);
      if (!resource) throw new Error(`no resource named ${name}; have ${[...byName.keys()].join(", ")}`);
      return resource;
    },
    dependsOn: (name, on) => dependsOn(name, on),
  };
}

/** Computed fields the program reads; mocks only echo inputs otherwise. */
function computedState(
  args: pulumiType.runtime.MockResourceArgs,
  previousMode?: string,
): Record<string, unknown> {
  switch (args.type) {
    case "command:local:Command":
      return { ...args.inputs, stdout: FAKE_KUBECONFIG, stderr: "" };
    case "kubernetes:helm.sh/v3:Release":
      return {
        ...args.inputs,
        status: { name: args.inputs.name, namespace: args.inputs.namespace, status: "deployed", revision: 1 },
      };
    case "kubernetes:core/v1:Service":
      return { ...args.inputs, spec: { ...args.inputs.spec, clusterIP: "10.96.0.10" } };
    case "pulumi:pulumi:StackReference":
      return {
        ...args.inputs,
        outputs: previousMode ? { dataplaneMode: previousMode } : {},
        secretOutputNames: [],
      };
    default:
      return args.inputs;
  }
}

/** The value of an Output (undefined while unknown). */
export function promiseOf<T>(output: pulumiType.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}
