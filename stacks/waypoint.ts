import { TERMINATION_GRACE_SECONDS } from "./budgets";
import { WAYPOINT, ZONE_LABEL } from "./contract";
import { rollout } from "./workloads";

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
