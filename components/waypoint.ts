import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { WAYPOINT_DISRUPTION_BUDGET } from "../stacks/budgets";
import { WAYPOINT } from "../stacks/contract";
import { WaypointPlan } from "../stacks/plan";
import { childOptions } from "./children";

export interface WaypointArgs {
  /** Its namespace, customisation and Gateway (see `planRun`). */
  plan: WaypointPlan;
  /** The namespace, as the Namespace resource names it: everything here lives in it. */
  namespace: pulumi.Input<string>;
  /**
   * What the Gateway waits for: the Gateway API CRDs and istiod, whose controller creates the
   * `istio-waypoint` GatewayClass and the Deployment behind the Gateway.
   */
  after: pulumi.Input<pulumi.Resource[]>;
}

/**
 * A waypoint with a ready replica in every zone. In ambient mode it is what applies a DestinationRule's
 * `localityLbSetting` — from its own locality — and istiod marks its Service `PreferClose`, so
 * ztunnel sends each zone's clients to their zone's replica. `ready` turns ready once every zone
 * has one: the waypoint's PodDisruptionBudget (see {@link WAYPOINT_DISRUPTION_BUDGET}), awaited until
 * all of its pods are healthy.
 */
export class Waypoint extends pulumi.ComponentResource {
  /** Ready once the waypoint has a ready replica in every zone. */
  readonly ready: pulumi.Resource;

  constructor(name: string, args: WaypointArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-locality:waypoint:Waypoint", name, {}, opts);
    const child = childOptions(this, opts);
    const plan = args.plan;

    const parameters = new kubernetes.core.v1.ConfigMap(
      `${name}-parameters`,
      {
        metadata: { name: plan.parameters, namespace: args.namespace },
        data: { deployment: yaml.dump(plan.deploymentPatch) },
      },
      child,
    );
    const gateway = new kubernetes.apiextensions.CustomResource(
      `${name}-gateway`,
      {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "Gateway",
        metadata: { name: WAYPOINT.name, namespace: parameters.metadata.namespace },
        spec: plan.gateway,
      },
      // Istio generates the Deployment from the ConfigMap it finds when the Gateway appears.
      { ...child, dependsOn: pulumi.output(args.after).apply((after) => [...after, parameters]) },
    );
    this.ready = new kubernetes.policy.v1.PodDisruptionBudget(
      `${name}-zones`,
      {
        metadata: {
          name: plan.parameters,
          namespace: gateway.metadata.namespace,
          annotations: { "pulumi.com/waitFor": `jsonpath={.status.currentHealthy}=${plan.readyReplicas}` },
        },
        spec: {
          ...WAYPOINT_DISRUPTION_BUDGET,
          selector: { matchLabels: { [WAYPOINT.podLabel]: WAYPOINT.name } },
        },
      },
      // The pods it counts are the Gateway's.
      child,
    );
    this.registerOutputs({});
  }
}
