import { LocalityIntent, REGION_LABEL, ZONE_LABEL } from "./contract";

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
