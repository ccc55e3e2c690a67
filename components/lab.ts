import * as pulumi from "@pulumi/pulumi";
import { StackOutputs } from "../stacks/contract";
import { RunPlan } from "../stacks/plan";
import { Bookinfo } from "./bookinfo";
import { Cluster } from "./cluster";
import { Istio, NodeAgentsCheck } from "./istio";
import { Locality } from "./locality";

/** The stack outputs as the program declares them: each one of {@link StackOutputs}, maybe not yet known. */
export type DeclaredOutputs = { [K in keyof StackOutputs]: pulumi.Input<StackOutputs[K]> };

export interface LabArgs {
  /** Everything this run declares (see `planRun`). */
  plan: RunPlan;
  /** Waits for ambient's node agents on every zoned node (see `awaitNodeAgents`); tests pass a recorded answer. */
  awaitNodeAgents: NodeAgentsCheck["await"];
}

/**
 * Resources a component declared early must wait for although they are declared later: the early
 * one takes {@link LaterResources.resources} in its `dependsOn`, the later ones are handed over once
 * they exist.
 */
export interface LaterResources {
  resources: Promise<pulumi.Resource[]>;
  declared: (resources: pulumi.Resource[]) => void;
}

export function laterResources(): LaterResources {
  let declared: (resources: pulumi.Resource[]) => void = () => undefined;
  const resources = new Promise<pulumi.Resource[]>((resolve) => (declared = resolve));
  return { resources, declared };
}

/**
 * The whole lab: a zoned cluster, Istio, Bookinfo and the locality policy, declared as the run's
 * plan says and wired in the order a fresh install and a mode switch need.
 */
export class Lab extends pulumi.ComponentResource {
  /** The stack outputs. */
  readonly outputs: DeclaredOutputs;

  constructor(name: string, args: LabArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-locality:lab:Lab", name, {}, opts);
    const plan = args.plan;
    const order = plan.order;

    const cluster = new Cluster("cluster", { cluster: plan.cluster }, { parent: this });
    const providers = { kubernetes: cluster.provider };
    const deletedWith = cluster.deletedWith;

    // Bookinfo is declared after Istio, yet on the way out of ambient istiod must wait for it.
    const enrolment = laterResources();
    const istio = new Istio(
      "istio",
      {
        plan: plan.istio,
        after: cluster.zoneLabels,
        istiodAfter: order.istiodAfterWorkloads ? enrolment.resources : [],
        nodeAgents: { kubeconfig: cluster.kubeconfig, await: args.awaitNodeAgents },
      },
      { parent: this, providers, deletedWith },
    );

    // Istio's own validation judges every Istio resource, once istiod runs (see SwitchOrder).
    const judgedBy = order.istioResourcesAfterIstiod ? [istio.istiod] : [];

    const bookinfo = new Bookinfo(
      "bookinfo",
      {
        plan: plan.bookinfo,
        meshReady: istio.meshReady,
        crds: istio.crds,
        validation: judgedBy,
        order,
        // istiod's controller creates the waypoint's GatewayClass and Deployment.
        waypoint: plan.waypoint
          ? { plan: plan.waypoint, after: [...istio.gatewayApi, istio.istiod] }
          : undefined,
      },
      { parent: this, providers, deletedWith },
    );
    enrolment.declared([bookinfo.enrolled]);

    new Locality(
      "locality",
      { plan: plan.locality, services: bookinfo.services, crds: istio.crds, validation: judgedBy },
      { parent: this, providers, deletedWith },
    );

    this.outputs = { ...plan.outputs, kubeconfig: cluster.kubeconfig, nodeZones: cluster.nodeZones };
    this.registerOutputs(this.outputs);
  }
}
