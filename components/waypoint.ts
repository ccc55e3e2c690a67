import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { TERMINATION_GRACE_SECONDS, WAYPOINT_DISRUPTION_BUDGET } from "../stacks/budgets";
import { WAYPOINT, ZONE_LABEL } from "../stacks/contract";
import { rollout } from "./rollout";
import { childOptions } from "./children";

export interface WaypointArgs {
  /** The namespace whose services go through the waypoint. */
  namespace: string;
  /** Zones, in order; the waypoint keeps one ready replica in each. */
  zones: string[];
  /** How long a new replica stays ready before a rollout takes an old one away. */
  minReadySeconds: number;
  /**
   * What the Gateway waits for: the Gateway API CRDs and istiod, whose controller creates the
   * `istio-waypoint` GatewayClass and the Deployment behind the Gateway.
   */
  after: pulumi.Input<pulumi.Resource[]>;
}

/**
 * The Deployment Istio generates for the waypoint, as a patch over its own template: one replica per
 * zone, spread so that no zone gets a second before every zone has one, rolled like Bookinfo's
 * Deployments so a zone never loses its ready replica, and given Bookinfo's grace period.
 */
export function waypointDeploymentPatch(zones: string[], minReadySeconds: number): Record<string, unknown> {
  return {
    spec: {
      replicas: zones.length,
      ...rollout(minReadySeconds),
      template: {
        spec: {
          terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: ZONE_LABEL,
              whenUnsatisfiable: "DoNotSchedule",
              labelSelector: { matchLabels: { [WAYPOINT.podLabel]: WAYPOINT.name } },
            },
          ],
        },
      },
    },
  };
}

/** The Gateway of class `istio-waypoint` for a namespace's services, customised by `parameters`. */
export function waypointGatewaySpec(parameters: string): Record<string, unknown> {
  return {
    gatewayClassName: "istio-waypoint",
    // istiod reads the generated Deployment's customisation from this ConfigMap.
    infrastructure: { parametersRef: { group: "", kind: "ConfigMap", name: parameters } },
    listeners: [{ name: "mesh", port: 15008, protocol: "HBONE" }],
  };
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
  /** `waypoint.<namespace>`, for the stack output. */
  readonly name: string;

  constructor(name: string, args: WaypointArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-locality:waypoint:Waypoint", name, {}, opts);
    const child = childOptions(this, opts);
    const parametersName = `${WAYPOINT.name}-zones`;

    const parameters = new kubernetes.core.v1.ConfigMap(
      `${name}-parameters`,
      {
        metadata: { name: parametersName, namespace: args.namespace },
        data: { deployment: yaml.dump(waypointDeploymentPatch(args.zones, args.minReadySeconds)) },
      },
      child,
    );
    const gateway = new kubernetes.apiextensions.CustomResource(
      `${name}-gateway`,
      {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "Gateway",
        metadata: { name: WAYPOINT.name, namespace: args.namespace },
        spec: waypointGatewaySpec(parametersName),
      },
      // Istio generates the Deployment from the ConfigMap it finds when the Gateway appears.
      { ...child, dependsOn: pulumi.output(args.after).apply((after) => [...after, parameters]) },
    );
    this.ready = new kubernetes.policy.v1.PodDisruptionBudget(
      `${name}-zones`,
      {
        metadata: {
          name: parametersName,
          namespace: args.namespace,
          annotations: { "pulumi.com/waitFor": `jsonpath={.status.currentHealthy}=${args.zones.length}` },
        },
        spec: {
          ...WAYPOINT_DISRUPTION_BUDGET,
          selector: { matchLabels: { [WAYPOINT.podLabel]: WAYPOINT.name } },
        },
      },
      // The pods it counts are the Gateway's.
      { ...child, dependsOn: [gateway] },
    );
    this.name = `${WAYPOINT.name}.${args.namespace}`;
    this.registerOutputs({ name: this.name });
  }
}
