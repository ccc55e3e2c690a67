import { StackConfig, supportsTrafficDistribution } from "./config";
import { DataplaneMode, LocalityIntent } from "./contract";

/** Istio's Helm charts, by their published names. */
export type IstioChart = "base" | "istiod" | "cni" | "ztunnel" | "gateway";

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
 * The intent the dataplane really carries out: ztunnel knows only `PreferClose`, which fails over,
 * so `strict` works as `failover` in ambient mode.
 */
export function effectiveIntent(mode: DataplaneMode, intent: LocalityIntent): LocalityIntent {
  return mode === "ambient" && intent === "strict" ? "failover" : intent;
}

/** The charts each mode installs, in install order. */
export function istioCharts(mode: DataplaneMode, ingressGateway: boolean): IstioChart[] {
  const dataplane: IstioChart[] = mode === "ambient" ? ["cni", "ztunnel"] : [];
  return ["base", "istiod", ...dataplane, ...(ingressGateway ? (["gateway"] as IstioChart[]) : [])];
}

/** Namespace labels that enrol workloads: injection for sidecars, the dataplane label for ambient. */
export function namespaceLabels(mode: DataplaneMode): {
  injection: Record<string, string>;
  ambient: Record<string, string>;
} {
  return mode === "sidecar"
    ? { injection: { "istio-injection": "enabled" }, ambient: {} }
    : { injection: {}, ambient: { "istio.io/dataplane-mode": "ambient" } };
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
  if (mode === "sidecar") {
    const how = {
      strict: "distribute 100 % to the own zone",
      failover: "own zone first, then failover",
      off: "disabled",
    };
    return {
      destinationRules: true,
      trafficDistribution,
      mechanism: `DestinationRule localityLbSetting (${how[intent]}) read by the Envoy sidecars`,
      warnings,
    };
  }
  if (effectiveIntent(mode, intent) !== intent) {
    warnings.push(
      "locality `strict` in ambient mode behaves as `failover`: ztunnel only knows Service " +
        "`trafficDistribution: PreferClose`, which prefers the own zone and fails over to others; " +
        "strict zone pinning in ambient needs a waypoint per zone with a DestinationRule",
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
