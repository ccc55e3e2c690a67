import * as pulumi from "@pulumi/pulumi";
import * as log from "@pulumi/pulumi/log";
import * as mocks from "@pulumi/pulumi/runtime/mocks";
import * as runtimeResource from "@pulumi/pulumi/runtime/resource";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { declareStack, StackReaders } from "../../program";
import type { NodeAgentsCheck } from "../../components/istio";
import type { LiveMesh } from "../../readers/live-mesh";
import type { ClusterVersions } from "../../readers/cluster-versions";
import type { OnPath } from "../../readers/machine";
import { NodeLabels, readNodes } from "../../readers/nodes";
import { FetchText } from "../../stacks/charts";
import { DEFAULTS } from "../../stacks/contract";
import { testedMinor } from "../../stacks/versions";

/** The chart repository's index as the runs see it: every chart at the default Istio version. */
export const ISTIO_CHART_INDEX = `entries:\n${["base", "istiod", "cni", "ztunnel", "gateway"]
  .map((chart) => `  ${chart}:\n    - version: ${DEFAULTS.istio.version}\n`)
  .join("")}`;

/** The Gateway API CRDs' release file as the runs see it: two CRDs of the pinned bundle version. */
export const GATEWAY_API_CRDS = ["gatewayclasses", "gateways"]
  .map((plural) =>
    [
      "apiVersion: apiextensions.k8s.io/v1",
      "kind: CustomResourceDefinition",
      "metadata:",
      "  annotations:",
      `    gateway.networking.k8s.io/bundle-version: ${testedMinor().gatewayApi}`,
      `  name: ${plural}.gateway.networking.k8s.io`,
      "spec:",
      "  group: gateway.networking.k8s.io",
    ].join("\n"),
  )
  .join("\n---\n");

/** What the runs read from the web: the chart index, and the Gateway API CRDs. */
export const recordedWeb: FetchText = (url) =>
  Promise.resolve(url.endsWith("/index.yaml") ? ISTIO_CHART_INDEX : GATEWAY_API_CRDS);

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
  /** URN of the resource whose deletion skips this one's (`deletedWith`); empty when none. */
  deletedWith: string;
  /** Whether deleting it from the stack leaves it in the cluster. */
  retainOnDelete: boolean;
  /** The names of the hooks the engine runs before creating and before updating it. */
  hooks: { beforeCreate: string[]; beforeUpdate: string[] };
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
  /** Runs the resource hook of that name as the engine would (fails the test when absent). */
  runHook(name: string): Promise<void>;
}

export const FAKE_KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n";

/** The resources of the run in progress; a test file's runs go one after another. */
let registered: Registered[] = [];
/** The resource hooks of the run in progress, by name. */
let hooks = new Map<string, pulumi.ResourceHook>();

// The mock monitor has no callback server for hooks: the runs keep them to play the engine's calls.
(runtimeResource as { registerResourceHook(hook: pulumi.ResourceHook): Promise<void> }).registerResourceHook =
  (hook) => {
    hooks.set(hook.name, hook);
    return Promise.resolve();
  };

// One Pulumi runtime per test file: loading it again per run would add process listeners each time.
// eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the monitor as `this`
const registerResource = mocks.MockMonitor.prototype.registerResource;
mocks.MockMonitor.prototype.registerResource = function (this: any, req: any, callback: any) {
  const urn = this.newUrn(req.getParent(), req.getType(), req.getName());
  registered.push({
    type: req.getType(),
    name: req.getName(),
    urn,
    inputs: {},
    provider: req.getProvider(),
    dependencies: req.getDependenciesList(),
    deletedWith: req.getDeletedwith(),
    retainOnDelete: req.getRetainondelete(),
    hooks: {
      beforeCreate: req.getHooks()?.getBeforeCreateList() ?? [],
      beforeUpdate: req.getHooks()?.getBeforeUpdateList() ?? [],
    },
  });
  return registerResource.call(this, req, callback);
};

/**
 * Declares the program's stack (what `index.ts` exports) under Pulumi mocks with the given stack
 * config (keys without the project prefix) and returns every registered resource. `previousMode`
 * plays the stack's last outputs (with the default versions, or `previousOutputs` as they are), `liveMesh` what the cluster runs (by default there is no cluster
 * to ask, as before a minikube profile starts; an Error plays a cluster that does not answer),
 * `nodeAgents` the check of ambient's node agents during the run (by default they are ready),
 * `clusterVersions` what the cluster's `/version` and Gateway API CRDs say (by default no cluster),
 * `nodes` the labels of an `existing` cluster's nodes (by default read from its kubeconfig's API server),
 * `commands` which commands the machine has (by default all).
 */
export async function runUnderMocks(
  config: Record<string, unknown>,
  options: {
    stack?: string;
    previousMode?: string;
    previousOutputs?: Record<string, unknown>;
    chartIndex?: FetchText;
    liveMesh?: LiveMesh | Error;
    nodeAgents?: NodeAgentsCheck["await"];
    clusterVersions?: ClusterVersions | Error;
    nodes?: NodeLabels[] | Error;
    commands?: OnPath;
    /** Readers that replace the ones the options above make. */
    readers?: Partial<StackReaders>;
  } = {},
): Promise<ProgramRun> {
  const stack = options.stack ?? "sidecar";
  const resources: Registered[] = [];
  const warnings: string[] = [];
  registered = resources;
  hooks = new Map();
  const runHooks = hooks;
  jest.spyOn(log, "warn").mockImplementation((...args: unknown[]) => {
    warnings.push(String(args[0]));
    return Promise.resolve();
  });

  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
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
            deletedWith: "",
            retainOnDelete: false,
            hooks: { beforeCreate: [], beforeUpdate: [] },
          });
        return { id: `${args.name}-id`, state: computedState(args, lastOutputs(options)) };
      },
      call(args: pulumi.runtime.MockCallArgs) {
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

  const liveMesh = options.liveMesh;
  const program = await declareStack({
    web: options.chartIndex ?? recordedWeb,
    mesh: () => (liveMesh instanceof Error ? Promise.reject(liveMesh) : Promise.resolve(liveMesh)),
    nodeAgents: options.nodeAgents ?? (() => Promise.resolve()),
    clusterVersions: () => {
      const versions = options.clusterVersions;
      return versions instanceof Error ? Promise.reject(versions) : Promise.resolve(versions);
    },
    nodes: (...args) => {
      const nodes = options.nodes;
      if (nodes === undefined) return readNodes(...args);
      return nodes instanceof Error ? Promise.reject(nodes) : Promise.resolve(nodes);
    },
    commands: options.commands ?? (() => true),
    ...options.readers,
  });
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(program)) {
    outputs[key] = pulumi.Output.isInstance(value) ? await promiseOf(value as pulumi.Output<unknown>) : value;
  }
  // Not in the SDK's typings: the mocks' registrations finish only once the pending RPCs have.
  await (settings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();

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
    runHook: async (name) => {
      const hook = runHooks.get(name);
      if (!hook) throw new Error(`no resource hook named ${name}; have ${[...runHooks.keys()].join(", ")}`);
      await hook.callback({ urn: "", id: "", name, type: "" });
    },
  };
}

/** The outputs of the stack's last run, as its StackReference returns them. */
function lastOutputs(options: {
  previousMode?: string;
  previousOutputs?: Record<string, unknown>;
}): Record<string, unknown> {
  if (options.previousOutputs) return options.previousOutputs;
  if (!options.previousMode) return {};
  return {
    dataplaneMode: options.previousMode,
    istioVersion: DEFAULTS.istio.version,
    kubernetesVersion: DEFAULTS.cluster.kubernetesVersion,
  };
}

/** Computed fields the program reads; mocks only echo inputs otherwise. */
function computedState(
  args: pulumi.runtime.MockResourceArgs,
  previousOutputs: Record<string, unknown>,
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
        outputs: previousOutputs,
        secretOutputNames: [],
      };
    default:
      return args.inputs;
  }
}

/** The value of an Output (undefined while unknown). */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}
