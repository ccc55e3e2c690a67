import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LocalityIntent, REGION_LABEL, ZONE_LABEL } from "../stacks/contract";
import { LocalityPlan } from "../stacks/modes";
import { ISTIO_RESOURCE_ANNOTATIONS } from "./istio";
import { childOptions } from "./children";

export interface LocalityArgs {
  /** The one intent: `strict`, `failover` or `off`. */
  intent: LocalityIntent;
  /** The intent rendered for the dataplane in force (see `stacks/modes.ts`). */
  plan: LocalityPlan;
  /** Zones, in order. */
  zones: string[];
  /**
   * The `topology.kubernetes.io/region` the nodes carry (`cluster.region`); strict rules name it,
   * since Istio allows a `*` only at the end of a locality.
   */
  region: string;
  /** Namespace of the Services. */
  namespace: string;
  /** The Services to keep in-zone, by name; they must exist before they are patched. */
  services: Record<string, pulumi.Resource>;
  /** Istio's CRDs, for the DestinationRules. */
  crds: pulumi.Resource;
  /**
   * What must run before Istio can judge a DestinationRule: the istiod release on an install (the
   * base chart's webhook fails open until istiod is ready); nothing while leaving ambient, where
   * istiod already runs and changes last.
   */
  validation: pulumi.Input<pulumi.Resource[]>;
}

/**
 * The outlier detection of the blog this project started from. Istio applies `failoverPriority` and
 * `failover` only to a rule with outlier detection (Envoy moves to a lower priority only once it
 * ejects endpoints); `distribute` applies without it. It stays on every rule so a rule keeps the
 * same shape across intents.
 */
export const OUTLIER_DETECTION = { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s" };

/**
 * The DestinationRule `localityLbSetting` for an intent. Strict localities are written
 * `<region>/<zone>/*`: Istio rejects a `*` anywhere but at the end, so a rule cannot leave the
 * region open, and matches only nodes that carry this region.
 */
export function localityLbSetting(
  intent: LocalityIntent,
  zones: string[],
  region: string,
): Record<string, unknown> {
  switch (intent) {
    case "strict":
      return {
        enabled: true,
        distribute: zones.map((zone) => ({
          from: `${region}/${zone}/*`,
          to: { [`${region}/${zone}/*`]: 100 },
        })),
      };
    case "failover":
      return {
        enabled: true,
        failoverPriority: [REGION_LABEL, ZONE_LABEL],
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
  region: string,
): Record<string, unknown> {
  return {
    host: `${service}.${namespace}.svc.cluster.local`,
    trafficPolicy: {
      loadBalancer: { localityLbSetting: localityLbSetting(intent, zones, region) },
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
    const child = childOptions(this, opts);

    for (const [service, resource] of Object.entries(args.services)) {
      if (args.plan.destinationRules) {
        new kubernetes.apiextensions.CustomResource(
          `${name}-${service}-rule`,
          {
            apiVersion: "networking.istio.io/v1",
            kind: "DestinationRule",
            metadata: {
              name: `${service}-locality`,
              namespace: args.namespace,
              annotations: ISTIO_RESOURCE_ANNOTATIONS,
            },
            spec: destinationRuleSpec(service, args.namespace, args.intent, args.zones, args.region),
          },
          // An Istio CRD (base chart); base's webhook fails open until istiod is ready to validate it.
          {
            ...child,
            dependsOn: pulumi.output(args.validation).apply((istiod) => [args.crds, resource, ...istiod]),
          },
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
          { ...child, dependsOn: [resource] },
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
