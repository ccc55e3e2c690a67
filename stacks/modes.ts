import { StackConfig, supportsTrafficDistribution } from "./config";
import { DataplaneMode, IstioChart, LocalityIntent, WAYPOINT, WaypointChoice } from "./contract";

/** How the locality intent is carried out in one dataplane mode. */
export interface LocalityPlan {
  /** Sidecars read locality from a DestinationRule per service (ztunnel ignores DestinationRules). */
  destinationRules: boolean;
  /** ztunnel (and Envoy without a DestinationRule locality setting) reads the Service field. */
  trafficDistribution?: "PreferClose";
  /** One line for the stack output `localityMechanism`. */
  mechanism: string;
  /** Said at preview, so the user sees a limit before applying it. */
  warnings: string[];
}

/**
 * Whether Bookinfo's services go through a zonal waypoint: only in ambient mode (sidecars apply the
 * DestinationRules themselves), for `strict` unless the user opts out, or with any intent on request.
 */
export function usesWaypoint(mode: DataplaneMode, intent: LocalityIntent, waypoint: WaypointChoice): boolean {
  if (mode !== "ambient") return false;
  return waypoint === "always" || (waypoint === "auto" && intent === "strict");
}

/**
 * The intent the dataplane really carries out: ztunnel knows only `PreferClose`, which fails over,
 * so `strict` works as `failover` in ambient mode unless a zonal waypoint applies the DestinationRule.
 */
export function effectiveIntent(
  mode: DataplaneMode,
  intent: LocalityIntent,
  waypoint: boolean,
): LocalityIntent {
  return mode === "ambient" && intent === "strict" && !waypoint ? "failover" : intent;
}

/** What `strict` through a zonal waypoint means, said at preview and in docs/concepts.md. */
export const WAYPOINT_STRICT_NOTE =
  "locality `strict` in ambient mode goes through a zonal waypoint: each zone's waypoint replica sends " +
  "only to its own zone, and ztunnel sends a zone's clients to their zone's replica while it is ready; " +
  "while it is not, they fail over to another zone's replica, which keeps to that zone";

/** The charts each mode installs, in install order. */
export function istioCharts(mode: DataplaneMode, ingressGateway: boolean): IstioChart[] {
  const dataplane: IstioChart[] = mode === "ambient" ? ["cni", "ztunnel"] : [];
  return ["base", "istiod", ...dataplane, ...(ingressGateway ? (["gateway"] as IstioChart[]) : [])];
}

/**
 * Namespace labels that enrol workloads: injection for sidecars, the dataplane label for ambient —
 * with the waypoint label when the namespace's services go through the waypoint, which ztunnel
 * honours only for ambient pods.
 */
export function namespaceLabels(
  mode: DataplaneMode,
  waypoint = false,
): {
  injection: Record<string, string>;
  ambient: Record<string, string>;
} {
  if (mode === "sidecar") return { injection: { "istio-injection": "enabled" }, ambient: {} };
  const ambient = { "istio.io/dataplane-mode": "ambient" };
  return { injection: {}, ambient: waypoint ? { ...ambient, [WAYPOINT.useLabel]: WAYPOINT.name } : ambient };
}

/**
 * Renders the locality intent for a mode. `spec.trafficDistribution` is kept in sidecar mode as well
 * (where a DestinationRule's locality setting takes precedence for Envoy), so zone preference holds
 * for ztunnel throughout a switch, while sidecar and ambient pods run side by side.
 */
export function localityPlan(
  mode: DataplaneMode,
  intent: LocalityIntent,
  kubernetesVersion: string,
  zonesWithoutReviews: string[],
  waypoint: boolean,
): LocalityPlan {
  const trafficDistribution =
    intent !== "off" && supportsTrafficDistribution(kubernetesVersion) ? ("PreferClose" as const) : undefined;
  const warnings: string[] = [];
  if (intent === "strict" && zonesWithoutReviews.length > 0) {
    warnings.push(
      `locality \`strict\`: no reviews version lives in ${zonesWithoutReviews.join(", ")}; ` +
        "clients there get errors from reviews, by design of strict locality",
    );
  }
  const how = {
    strict: "distribute 100 % to the own zone",
    failover: "own zone first, then failover",
    off: "disabled",
  };
  if (mode === "sidecar") {
    return {
      destinationRules: true,
      trafficDistribution,
      mechanism: `DestinationRule localityLbSetting (${how[intent]}) read by the Envoy sidecars`,
      warnings,
    };
  }
  if (waypoint) {
    if (intent === "strict") warnings.push(WAYPOINT_STRICT_NOTE);
    return {
      destinationRules: true,
      trafficDistribution,
      mechanism:
        `DestinationRule localityLbSetting (${how[intent]}) read by a zonal waypoint (a ready replica per zone), ` +
        "which ztunnel reaches in the client's zone (PreferClose)",
      warnings,
    };
  }
  if (effectiveIntent(mode, intent, waypoint) !== intent) {
    warnings.push(
      "locality `strict` in ambient mode behaves as `failover` with `waypoint: never`: ztunnel only knows Service " +
        "`trafficDistribution: PreferClose`, which prefers the own zone and fails over to others; " +
        "`waypoint: auto` (the default) keeps it strict through a zonal waypoint",
    );
  }
  return {
    destinationRules: false,
    trafficDistribution,
    mechanism:
      intent === "off"
        ? "none: ztunnel spreads requests over every zone"
        : "Service trafficDistribution: PreferClose read by ztunnel (own zone first, then failover)",
    warnings,
  };
}

/** Zones in which no reviews version lives. */
export function zonesWithoutReviews(config: StackConfig): string[] {
  const served = new Set(Object.values(config.bookinfo.reviewsZones));
  return config.zones.filter((zone) => !served.has(zone));
}

/** `global.platform: minikube` sets the Docker runtime's netns path; other runtimes use the chart default. */
export function cniPlatform(config: StackConfig): "minikube" | undefined {
  return config.cluster.provider === "minikube" && config.cluster.containerRuntime === "docker"
    ? "minikube"
    : undefined;
}
