import * as path from "path";
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import deepmerge from "deepmerge";
import { IstioConfig } from "../stacks/config";
import { DataplaneMode, IstioChart, MODE_ANNOTATION, MtlsMode } from "../stacks/contract";
import { Manifest, OCI_SCHEME } from "../stacks/charts";
import { istioCharts } from "../stacks/modes";
import { childOptions } from "./children";

/**
 * Annotations of every Istio custom resource the program creates. Deleted in the foreground (Pulumi's
 * default), an object waits for a finalizer whose removal is an UPDATE that istiod's validating
 * webhook must admit; once istiod is gone (a destroy after a switch back deletes it first) that
 * webhook fails closed and the object never goes. Nothing depends on these objects, so deleting them
 * in the background loses nothing.
 */
export const ISTIO_RESOURCE_ANNOTATIONS = { "pulumi.com/deletionPropagationPolicy": "background" };

export const ISTIO_NAMESPACE = "istio-system";
export const INGRESS_NAMESPACE = "istio-ingress";

/** Helm release names, as in Istio's Helm guide. */
export const RELEASE_NAMES: Record<IstioChart, string> = {
  base: "istio-base",
  istiod: "istiod",
  cni: "istio-cni",
  ztunnel: "ztunnel",
  gateway: "istio-ingress",
};

/** istiod's requests in a laptop lab: those of Istio's demo profile. */
export const LAB_ISTIOD_REQUESTS = { cpu: "10m", memory: "100Mi" };

/** Where the charts come from: Istio's repository, or a local folder holding one folder per chart. */
export type ChartSource = { repository: string } | { directory: string };

/**
 * The validated `istio` config (version, hub, ingress gateway and its Service type, the user's Helm
 * values by chart), and what the rest of the stack decides for Istio.
 */
export interface IstioArgs extends Pick<
  IstioConfig,
  "version" | "hub" | "ingressGateway" | "ingressServiceType" | "values"
> {
  /** Which dataplane to install; ambient adds `cni` and `ztunnel` and the ambient profile on istiod. */
  mode: DataplaneMode;
  /** Repository (default) or local chart folder (air-gapped). */
  chartSource: ChartSource;
  /** `minikube` where the node runtime is Docker (its netns live under /var/run/docker/netns). */
  cniPlatform?: "minikube";
  /**
   * Size istiod for a laptop lab (minikube): the requests of Istio's demo profile instead of the
   * production 500m CPU / 2 GiB, which on a 4 GB node leave no room for a rollout's surge pods next
   * to istiod once the waypoint runs there too.
   */
  labSizedIstiod?: boolean;
  /**
   * Resources istiod waits for before it changes. Set while workloads leave ambient, so istiod
   * keeps serving ztunnel until every pod has its sidecar back.
   */
  istiodAfter?: pulumi.Input<pulumi.Resource[]>;
  /** Resources everything of Istio waits for: proxies read their node's zone label when they connect. */
  after: pulumi.Resource[];
  /**
   * The Gateway API CRDs to install before istiod, when a waypoint is used and the cluster lacks
   * them; istiod's Gateway controllers start only where the CRDs exist.
   */
  gatewayApiCrds: Manifest[];
  /** Mesh-wide mTLS; `strict` is a PeerAuthentication in the root namespace. */
  mtls: MtlsMode;
  /**
   * In ambient, what the mesh waits for after Helm: ambient's node agents ready on every node of
   * these zones. Helm's wait counts only the nodes a DaemonSet chose (a taint the agent does not
   * tolerate leaves a node out) and passes with `maxUnavailable` pods not ready. Unset, Helm's wait
   * alone gates the mesh.
   */
  nodeAgents?: NodeAgentsCheck;
}

/** How {@link IstioArgs.nodeAgents} reaches the cluster. */
export interface NodeAgentsCheck {
  /** The cluster's kubeconfig (secret). */
  kubeconfig: pulumi.Input<string>;
  zones: readonly string[];
  /** Resolves once the agents are ready on every zoned node, rejects with the cause (`awaitNodeAgents` of `stacks/node-agents.ts`). */
  await: (kubeconfig: string, namespace: string, zones: readonly string[]) => Promise<void>;
}

/** The ConfigMap recording the zones and the agents' release revisions ambient's node-agent check passed for. */
export const NODE_AGENTS_RECORD = "istio-locality-node-agents";

/** The chart source a config names: its chart folder when set, else its repository. */
export function chartSource(istio: Pick<IstioConfig, "chartRepository" | "chartDirectory">): ChartSource {
  return istio.chartDirectory ? { directory: istio.chartDirectory } : { repository: istio.chartRepository };
}

/** The program's own Helm values of one chart for a mode; pure, so tests read them without mocks. */
export function istioValues(
  chart: IstioChart,
  args: Pick<IstioArgs, "mode" | "version" | "hub" | "ingressServiceType" | "cniPlatform" | "labSizedIstiod">,
): Record<string, unknown> {
  // Charts from the git tag carry development images; the published charts set these same values.
  const global = { hub: args.hub, tag: args.version };
  const ambientProfile = args.mode === "ambient" ? { profile: "ambient" } : {};
  switch (chart) {
    case "base":
      return {};
    case "istiod":
      return {
        ...ambientProfile,
        global,
        ...(args.labSizedIstiod ? { pilot: { resources: { requests: LAB_ISTIOD_REQUESTS } } } : {}),
      };
    case "cni":
      return {
        profile: "ambient",
        global: { ...global, ...(args.cniPlatform ? { platform: args.cniPlatform } : {}) },
      };
    case "ztunnel":
      return { hub: args.hub, tag: args.version, global };
    case "gateway":
      return {
        service: { type: args.ingressServiceType },
        // istiod configures a running gateway to send HBONE to ambient pods; a new pod is what makes
        // its proxy start with the mode's settings, such as accepting HBONE under the ambient profile.
        podAnnotations: { [MODE_ANNOTATION]: args.mode },
      };
  }
}

/**
 * The user's values over the program's, as Helm merges a values file over the ones before it: maps
 * merge key by key, anything else the user sets (a scalar, a list, `null`) replaces the program's.
 */
export function mergeHelmValues(
  program: Record<string, unknown>,
  user: Record<string, unknown> | undefined,
): Record<string, unknown> {
  return deepmerge(program, user ?? {}, {
    arrayMerge: (_program: unknown[], userArray: unknown[]) => userArray,
  });
}

/**
 * Where a release's chart comes from. A repository chart is pinned to the Istio version, as is an
 * OCI one (`oci://<registry path>/<chart>`, which Helm pulls without a repository); a chart folder
 * is the version it holds.
 */
export function chartReference(
  chart: IstioChart,
  source: ChartSource,
  version: string,
): { chart: string; version?: string; repositoryOpts?: { repo: string } } {
  if ("directory" in source) return { chart: path.join(source.directory, chart) };
  if (source.repository.startsWith(OCI_SCHEME)) {
    return { chart: `${source.repository.replace(/\/+$/, "")}/${chart}`, version };
  }
  return { chart, version, repositoryOpts: { repo: source.repository } };
}

/**
 * Istio installed from its Helm charts, one release per chart, in the documented order:
 * base → istiod → (ambient) cni → ztunnel, and the ingress gateway after istiod.
 */
export class Istio extends pulumi.ComponentResource {
  /** Names of the Helm releases this component installs. */
  readonly releases: pulumi.Output<string[]>;
  /** The `base` release: Istio's CRDs; custom resources wait for it. */
  readonly crds: kubernetes.helm.v3.Release;
  /** The `istiod` release: control plane and injection webhook. */
  readonly istiod: kubernetes.helm.v3.Release;
  /** What must be ready before a namespace joins the mesh in this mode. */
  readonly meshReady: pulumi.Resource[];
  /** The Gateway API CRDs this stack installs (none when no waypoint is used or the cluster has them). */
  readonly gatewayApi: pulumi.Resource[];

  constructor(name: string, args: IstioArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-locality:istio:Istio", name, {}, opts);
    const child = childOptions(this, opts);

    const charts = istioCharts(args.mode, args.ingressGateway);
    const systemNamespace = new kubernetes.core.v1.Namespace(
      `${name}-system`,
      { metadata: { name: ISTIO_NAMESPACE } },
      { ...child, dependsOn: args.after },
    );

    const release = (chart: IstioChart, namespace: string, dependsOn: pulumi.ResourceOptions["dependsOn"]) =>
      new kubernetes.helm.v3.Release(
        `${name}-${chart}`,
        {
          name: RELEASE_NAMES[chart],
          ...chartReference(chart, args.chartSource, args.version),
          namespace,
          values: mergeHelmValues(istioValues(chart, args), args.values?.[chart]),
          // Image pulls on a fresh minikube node take longer than Helm's default five minutes.
          timeout: 900,
        },
        { ...child, dependsOn },
      );

    // CRDs and cluster roles come first; every other chart relies on them.
    this.crds = release("base", ISTIO_NAMESPACE, [systemNamespace]);
    this.gatewayApi = args.gatewayApiCrds.map(
      (crd) =>
        new kubernetes.apiextensions.v1.CustomResourceDefinition(
          `${name}-gateway-api-${crd.metadata?.name}`,
          crd as kubernetes.apiextensions.v1.CustomResourceDefinitionArgs,
          // Other users' Gateway API resources live on them: a stack that stops using a waypoint keeps them.
          { ...child, dependsOn: args.after, retainOnDelete: true },
        ),
    );
    // istiod serves the webhook and the CA everything else needs; on the way out of ambient it waits.
    this.istiod = release(
      "istiod",
      ISTIO_NAMESPACE,
      pulumi.output(args.istiodAfter ?? []).apply((after) => [this.crds, ...this.gatewayApi, ...after]),
    );
    if (args.mtls === "strict") {
      new kubernetes.apiextensions.CustomResource(
        `${name}-mtls`,
        {
          apiVersion: "security.istio.io/v1",
          kind: "PeerAuthentication",
          metadata: { name: "default", namespace: ISTIO_NAMESPACE, annotations: ISTIO_RESOURCE_ANNOTATIONS },
          spec: { mtls: { mode: "STRICT" } },
        },
        // An Istio CRD (base chart), judged by istiod's webhook.
        { ...child, dependsOn: [this.crds, this.istiod] },
      );
    }
    this.meshReady = [this.istiod];

    if (charts.includes("cni")) {
      // The documented order installs the node agent after istiod.
      const cni = release("cni", ISTIO_NAMESPACE, [this.istiod]);
      // ztunnel turns ready only once it has synced from istiod and reached the CNI node agent.
      const ztunnel = release("ztunnel", ISTIO_NAMESPACE, [this.istiod, cni]);
      this.meshReady = [
        args.nodeAgents ? nodeAgentsRecord(name, args.nodeAgents, [cni, ztunnel], child) : ztunnel,
      ];
    }

    if (charts.includes("gateway")) {
      const ingressNamespace = new kubernetes.core.v1.Namespace(
        `${name}-ingress`,
        { metadata: { name: INGRESS_NAMESPACE } },
        child,
      );
      // The gateway's image is `auto`: istiod's injection webhook must exist to fill it in.
      const gateway = release("gateway", INGRESS_NAMESPACE, [ingressNamespace, this.istiod]);
      this.meshReady = [...this.meshReady, gateway];
    }

    this.releases = pulumi.output(charts.map((chart) => RELEASE_NAMES[chart]));
    this.registerOutputs({ releases: this.releases });
  }
}

/**
 * A record that exists only once ambient's node agents run ready on every zoned node: the engine
 * runs {@link NodeAgentsCheck.await} as the hook before the record is created or updated, so
 * whatever depends on the record waits, and a failed check fails the step with its cause. A hook
 * and not an `apply`: a rejected input leaves its dependents waiting forever under an inline
 * Automation API program, while a failed hook is the engine's own failure. The record names the
 * agents' release revisions, so an upgrade of either checks again; a preview runs no hook.
 */
function nodeAgentsRecord(
  name: string,
  check: NodeAgentsCheck,
  agents: kubernetes.helm.v3.Release[],
  opts: pulumi.CustomResourceOptions,
): kubernetes.core.v1.ConfigMap {
  // Hooks run during an update only, when the kubeconfig is known.
  const kubeconfig = new Promise<string>((resolve) => pulumi.output(check.kubeconfig).apply(resolve));
  const checkAgents = new pulumi.ResourceHook(`${name}-node-agents-check`, async () =>
    check.await(await kubeconfig, ISTIO_NAMESPACE, check.zones),
  );
  const releases = pulumi
    .all(agents.map((agent) => agent.status))
    .apply((statuses) => statuses.map((status) => `${status.name}=${status.revision}`).join(","));
  return new kubernetes.core.v1.ConfigMap(
    `${name}-node-agents`,
    {
      metadata: { name: NODE_AGENTS_RECORD, namespace: ISTIO_NAMESPACE },
      data: { zones: check.zones.join(","), releases },
    },
    {
      ...opts,
      // The check reads the agents' pods, which exist once their releases do.
      dependsOn: agents,
      hooks: { beforeCreate: [checkAgents], beforeUpdate: [checkAgents] },
    },
  );
}
