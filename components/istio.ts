import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  INGRESS_NAMESPACE,
  ISTIO_NAMESPACE,
  ISTIO_RESOURCE_ANNOTATIONS,
  NODE_AGENTS_RECORD,
} from "../stacks/istio-releases";
import { IstioPlan, ReleasePlan } from "../stacks/plan";
import { childOptions } from "./children";

export interface IstioArgs {
  /** The releases, the Gateway API CRDs and mTLS of this run (see `planRun`). */
  plan: IstioPlan;
  /**
   * Resources istiod waits for before it changes. Set while workloads leave ambient, so istiod
   * keeps serving ztunnel until every pod has its sidecar back.
   */
  istiodAfter?: pulumi.Input<pulumi.Resource[]>;
  /** Resources everything of Istio waits for: proxies read their node's zone label when they connect. */
  after: pulumi.Resource[];
  /**
   * In ambient, what the mesh waits for after Helm: ambient's node agents ready on every node of the
   * plan's zones. Helm's wait counts only the nodes a DaemonSet chose (a taint the agent does not
   * tolerate leaves a node out) and passes with `maxUnavailable` pods not ready. Unset, Helm's wait
   * alone gates the mesh.
   */
  nodeAgents?: NodeAgentsCheck;
}

/** How {@link IstioArgs.nodeAgents} reaches the cluster. */
export interface NodeAgentsCheck {
  /** The cluster's kubeconfig (secret). */
  kubeconfig: pulumi.Input<string>;
  /** Resolves once the agents are ready on every zoned node, rejects with the cause (`awaitNodeAgents` of `readers/node-agents.ts`). */
  await: (kubeconfig: string, namespace: string, zones: readonly string[]) => Promise<void>;
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

    const plan = args.plan;
    const planned = (chart: ReleasePlan["chart"]) => plan.releases.find((release) => release.chart === chart);
    const systemNamespace = new kubernetes.core.v1.Namespace(
      `${name}-system`,
      { metadata: { name: ISTIO_NAMESPACE } },
      { ...child, dependsOn: args.after },
    );

    const release = (chart: ReleasePlan["chart"], dependsOn: pulumi.ResourceOptions["dependsOn"]) => {
      const { name: releaseName, source, namespace, values } = planned(chart)!;
      return new kubernetes.helm.v3.Release(
        `${name}-${chart}`,
        {
          name: releaseName,
          ...source,
          namespace,
          values,
          // Image pulls on a fresh minikube node take longer than Helm's default five minutes.
          timeout: 900,
        },
        { ...child, dependsOn },
      );
    };

    // CRDs and cluster roles come first; every other chart relies on them.
    this.crds = release("base", [systemNamespace]);
    this.gatewayApi = plan.gatewayApiCrds.map(
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
      pulumi.output(args.istiodAfter ?? []).apply((after) => [this.crds, ...this.gatewayApi, ...after]),
    );
    if (plan.strictMtls) {
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

    if (planned("cni")) {
      // The documented order installs the node agent after istiod.
      const cni = release("cni", [this.istiod]);
      // ztunnel turns ready only once it has synced from istiod and reached the CNI node agent.
      const ztunnel = release("ztunnel", [this.istiod, cni]);
      this.meshReady = [
        args.nodeAgents && plan.nodeAgentZones
          ? nodeAgentsRecord(name, args.nodeAgents, plan.nodeAgentZones, [cni, ztunnel], child)
          : ztunnel,
      ];
    }

    if (planned("gateway")) {
      const ingressNamespace = new kubernetes.core.v1.Namespace(
        `${name}-ingress`,
        { metadata: { name: INGRESS_NAMESPACE } },
        child,
      );
      // The gateway's image is `auto`: istiod's injection webhook must exist to fill it in.
      const gateway = release("gateway", [ingressNamespace, this.istiod]);
      this.meshReady = [...this.meshReady, gateway];
    }

    this.releases = pulumi.output(plan.releases.map((release) => release.name));
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
  zones: readonly string[],
  agents: kubernetes.helm.v3.Release[],
  opts: pulumi.CustomResourceOptions,
): kubernetes.core.v1.ConfigMap {
  // Hooks run during an update only, when the kubeconfig is known.
  const kubeconfig = new Promise<string>((resolve) => pulumi.output(check.kubeconfig).apply(resolve));
  const checkAgents = new pulumi.ResourceHook(`${name}-node-agents-check`, async () =>
    check.await(await kubeconfig, ISTIO_NAMESPACE, zones),
  );
  const releases = pulumi
    .all(agents.map((agent) => agent.status))
    .apply((statuses) => statuses.map((status) => `${status.name}=${status.revision}`).join(","));
  return new kubernetes.core.v1.ConfigMap(
    `${name}-node-agents`,
    {
      metadata: { name: NODE_AGENTS_RECORD, namespace: ISTIO_NAMESPACE },
      data: { zones: zones.join(","), releases },
    },
    {
      ...opts,
      // The check reads the agents' pods, which exist once their releases do.
      dependsOn: agents,
      hooks: { beforeCreate: [checkAgents], beforeUpdate: [checkAgents] },
    },
  );
}
