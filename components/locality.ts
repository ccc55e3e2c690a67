import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LocalityIntent } from "../stacks/config";
import { LocalityPlan } from "../stacks/modes";

export interface LocalityArgs {
  /** The one intent: `strict`, `failover` or `off`. */
  intent: LocalityIntent;
  /** The intent rendered for the dataplane in force (see `stacks/modes.ts`). */
  plan: LocalityPlan;
  /** Zones, in order. */
  zones: string[];
  /** Namespace of the Services. */
  namespace: string;
  /** The Services to keep in-zone, by name; they must exist before they are patched. */
  services: Record<string, pulumi.Resource>;
  /** Istio's CRDs, for the DestinationRules. */
  crds: pulumi.Resource;
}

/**
 * Envoy acts on locality only with outlier detection configured (istio/istio#48084); these are
 * the seed's values.
 */
export const OUTLIER_DETECTION = { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s" };

/**
 * The DestinationRule `localityLbSetting` for an intent. Localities are written `*\/<zone>/*` so
 * they match whatever region the nodes carry.
 */
export function localityLbSetting(intent: LocalityIntent, zones: string[]): Record<string, unknown> {
  switch (intent) {
    case "strict":
      return {
        enabled: true,
        distribute: zones.map((zone) => ({ from: `*/${zone}/*`, to: { [`*/${zone}/*`]: 100 } })),
      };
    case "failover":
      return {
        enabled: true,
        failoverPriority: ["topology.kubernetes.io/region", "topology.kubernetes.io/zone"],
      };
    case "off":
      return { enabled: false };
  }
}

/** The DestinationRule spec for one Service. */
export function destinationRuleSpec(
  service: string,
  namespace: string,
  intent: LocalityIntent,
  zones: string[],
): Record<string, unknown> {
  return {
    host: `${service}.${namespace}.svc.cluster.local`,
    trafficPolicy: {
      loadBalancer: { localityLbSetting: localityLbSetting(intent, zones) },
      outlierDetection: OUTLIER_DETECTION,
    },
  };
}

/** The locality intent made real: DestinationRules for sidecars, `trafficDistribution` for ztunnel. */
export class Locality extends pulumi.ComponentResource {
  /** What carries the intent in this mode, in words. */
  readonly mechanism: pulumi.Output<string>;

  constructor(name: string, args: LocalityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-locality:locality:Locality", name, {}, opts);

    for (const [service, resource] of Object.entries(args.services)) {
      if (args.plan.destinationRules) {
        new kubernetes.apiextensions.CustomResource(
          `${name}-${service}-rule`,
          {
            apiVersion: "networking.istio.io/v1",
            kind: "DestinationRule",
            metadata: { name: `${service}-locality`, namespace: args.namespace },
            spec: destinationRuleSpec(service, args.namespace, args.intent, args.zones),
          },
          // DestinationRule is an Istio CRD, installed by the base chart.
          { parent: this, dependsOn: [args.crds, resource] },
        );
      }
      if (args.plan.trafficDistribution) {
        new kubernetes.core.v1.ServicePatch(
          `${name}-${service}-distribution`,
          {
            metadata: { name: service, namespace: args.namespace },
            spec: { trafficDistribution: args.plan.trafficDistribution },
          },
          // A patch needs the Service it patches.
          { parent: this, dependsOn: [resource] },
        );
      }
    }

    for (const warning of args.plan.warnings) {
      void pulumi.log.warn(warning, this);
    }
    this.mechanism = pulumi.output(args.plan.mechanism);
    this.registerOutputs({ mechanism: this.mechanism });
  }
}
