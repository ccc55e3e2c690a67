import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BookinfoService } from "../stacks/contract";
import { BookinfoPlan, WaypointPlan } from "../stacks/plan";
import { SwitchOrder } from "../stacks/switch-order";
import { declareIngress } from "./bookinfo-ingress";
import { declareServices, declareWorkloads } from "./bookinfo-workloads";
import { childOptions } from "./children";
import { enrolInAmbient, leaveAmbient, restartForHbone, sidecarInjection } from "./enrolment";
import { Waypoint } from "./waypoint";

export interface BookinfoArgs {
  /** The namespace, its labels, the workloads and their Services of this run (see `planRun`). */
  plan: BookinfoPlan;
  /** What must be ready before the namespace joins the mesh (istiod; in ambient ztunnel; the gateway). */
  meshReady: pulumi.Resource[];
  /** Istio's CRDs, for the ingress Gateway and VirtualService. */
  crds: pulumi.Resource;
  /** What must run before Istio can judge the Gateway and VirtualService (see `LocalityArgs.validation`). */
  validation: pulumi.Input<pulumi.Resource[]>;
  /** What waits for what in this run (see `stacks/switch-order.ts`). */
  order: SwitchOrder;
  /**
   * In ambient mode, the zonal waypoint for the namespace's services, and what it waits for (the
   * Gateway API CRDs and istiod); the namespace joins ambient only once it is ready in every zone.
   */
  waypoint?: { plan: WaypointPlan; after: pulumi.Input<pulumi.Resource[]> };
}

/**
 * Bookinfo spread over zones, with a client per zone, enrolled in the mesh of the chosen mode.
 *
 * Enrolment follows Istio's migration order. Into ambient: ambient components ready → namespace
 * labelled ambient → injection label removed → pods restarted. Back to sidecars: injection label
 * added → pods restarted (a pod with a sidecar is never captured by ztunnel) → ambient label removed.
 */
export class Bookinfo extends pulumi.ComponentResource {
  /** The Services by name. */
  readonly services: Record<BookinfoService, kubernetes.core.v1.Service>;
  /** The last step of enrolment; istiod waits for it on the way out of ambient. */
  readonly enrolled: pulumi.Resource;

  constructor(name: string, args: BookinfoArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-locality:bookinfo:Bookinfo", name, {}, opts);
    const child = childOptions(this, opts);
    const plan = args.plan;

    const namespace = new kubernetes.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: plan.namespace } },
      child,
    );
    const enrolment = { name, namespace, labels: plan.labels, meshReady: args.meshReady, child };

    if (plan.mode === "ambient") {
      const waypoint = args.waypoint
        ? new Waypoint(
            `${name}-waypoint`,
            { plan: args.waypoint.plan, namespace: namespace.metadata.name, after: args.waypoint.after },
            child,
          )
        : undefined;
      const { injectionLabel, ambientLabel } = enrolInAmbient(enrolment, [
        ...(waypoint ? [waypoint.ready] : []),
        ...(args.order.restartSidecarsForHbone
          ? restartForHbone(name, plan.namespace, plan.workloads, args.meshReady, child)
          : []),
      ]);
      declareWorkloads(name, plan, namespace, injectionLabel, child);
      this.enrolled = ambientLabel;
    } else {
      const injectionLabel = sidecarInjection(enrolment, args.order.injectionAfterMesh);
      const deployments = declareWorkloads(name, plan, namespace, injectionLabel, child);
      this.enrolled = leaveAmbient(enrolment, deployments);
    }

    this.services = declareServices(name, plan, namespace, child);
    if (plan.ingress) declareIngress(name, namespace, args.crds, args.validation, child);
    this.registerOutputs({});
  }
}
