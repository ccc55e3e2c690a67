import type * as kubernetes from "@pulumi/kubernetes";
import { zoneDisruptionBudget } from "./budgets";
import { Manifest } from "./charts";
import { ClusterConfig, StackConfig } from "./config";
import {
  BOOKINFO_SERVICES,
  BookinfoService,
  DataplaneMode,
  IstioChart,
  StackOutputs,
  WAYPOINT,
} from "./contract";
import { destinationRuleSpec } from "./destination-rules";
import {
  chartReference,
  ChartReference,
  chartSource,
  INGRESS_NAMESPACE,
  istioValues,
  mergeHelmValues,
  RELEASE_NAMES,
  RELEASE_NAMESPACES,
} from "./istio-releases";
import {
  cniPlatform,
  effectiveIntent,
  istioCharts,
  localityPlan,
  LocalityPlan,
  namespaceLabels,
  usesWaypoint,
  zonesWithoutReviews,
} from "./modes";
import { productpageCommand } from "./productpage";
import { migration, switchOrder, SwitchOrder } from "./switch-order";
import { waypointDeploymentPatch, waypointGatewaySpec } from "./waypoint";
import { deploymentSpec, WorkloadSpec, workloadSpecs } from "./workloads";

/** One Helm release of Istio: where its chart comes from and the values it gets (the user's over the program's). */
export interface ReleasePlan {
  chart: IstioChart;
  /** The Helm release name. */
  name: string;
  namespace: string;
  source: ChartReference;
  values: Record<string, unknown>;
}

export interface IstioPlan {
  /** The releases, in install order. */
  releases: ReleasePlan[];
  /** The Gateway API CRDs to install before istiod (none unless a waypoint needs them and the cluster lacks them). */
  gatewayApiCrds: Manifest[];
  /** A mesh-wide `STRICT` PeerAuthentication in the root namespace. */
  strictMtls: boolean;
  /** In ambient, the zones whose nodes must run ambient's node agents ready before a namespace joins. */
  nodeAgentZones?: readonly string[];
}

/** A Deployment of Bookinfo or a zone client, with its spec and its zone's disruption budget. */
export interface PlannedWorkload extends WorkloadSpec {
  deployment: kubernetes.types.input.apps.v1.DeploymentSpec;
  /** The PodDisruptionBudget's rule (none when one replica per zone leaves nothing to keep). */
  budget?: { maxUnavailable: number };
}

export interface BookinfoPlan {
  namespace: string;
  mode: DataplaneMode;
  /** The enrolment labels of the mode (see {@link namespaceLabels}). */
  labels: ReturnType<typeof namespaceLabels>;
  workloads: PlannedWorkload[];
  /** One per distinct service account of the workloads, in order of first use. */
  serviceAccounts: string[];
  services: readonly BookinfoService[];
  /** Expose productpage through the ingress gateway. */
  ingress: boolean;
}

/** The zonal waypoint of the Bookinfo namespace. */
export interface WaypointPlan {
  namespace: string;
  /** The ConfigMap (and PodDisruptionBudget) name: istiod reads the Deployment's customisation from it. */
  parameters: string;
  deploymentPatch: Record<string, unknown>;
  gateway: Record<string, unknown>;
  /** Ready replicas the waypoint's budget waits for: one per zone. */
  readyReplicas: number;
}

/** The locality intent rendered for the data plane in force. */
export interface LocalityRendering extends LocalityPlan {
  namespace: string;
  /** One DestinationRule per service (none where nothing reads them). */
  rules: { service: BookinfoService; name: string; spec: Record<string, unknown> }[];
}

/** The stack outputs that follow from the plan alone; the cluster's kubeconfig and node zones come from the run. */
export type PlannedOutputs = Omit<StackOutputs, "kubeconfig" | "nodeZones">;

/** Everything one run declares, decided before any resource exists; the components only carry it out. */
export interface RunPlan {
  cluster: ClusterConfig;
  istio: IstioPlan;
  bookinfo: BookinfoPlan;
  waypoint?: WaypointPlan;
  locality: LocalityRendering;
  /** What waits for what beyond the order every run keeps. */
  order: SwitchOrder;
  outputs: PlannedOutputs;
}

/** What a run starts from besides its configuration. */
export interface RunStart {
  /** The mode the run switches from (undefined: an install); see `switchOrder`. */
  previousMode: DataplaneMode | undefined;
  /** The Gateway API CRDs the cluster lacks (read by `readInstallSources`). */
  gatewayApiCrds: Manifest[];
}

/** The whole run: every chart with its values, every workload, the locality rules, the waypoint and the order. */
export function planRun(config: StackConfig, start: RunStart): RunPlan {
  const mode = config.dataplaneMode;
  const namespace = config.bookinfo.namespace;
  const waypoint = usesWaypoint(mode, config.locality, config.waypoint);
  const locality = localityPlan(
    mode,
    config.locality,
    config.cluster.kubernetesVersion,
    zonesWithoutReviews(config),
    waypoint,
  );
  const charts = istioCharts(mode, config.istio.ingressGateway);
  const settings = {
    ...config.istio,
    mode,
    cniPlatform: cniPlatform(config),
    labSizedIstiod: config.cluster.provider === "minikube",
  };
  const source = chartSource(config.istio);
  const workloads = workloadSpecs({ ...config.bookinfo, zones: config.zones }).map(
    (workload): PlannedWorkload => ({
      ...workload,
      deployment: deploymentSpec(
        workload,
        mode,
        config.bookinfo.replicasPerZone,
        config.bookinfo.minReadySeconds,
      ),
      budget: zoneDisruptionBudget(config.bookinfo.replicasPerZone),
    }),
  );
  const waypointParameters = `${WAYPOINT.name}-zones`;

  return {
    cluster: config.cluster,
    istio: {
      releases: charts.map((chart) => ({
        chart,
        name: RELEASE_NAMES[chart],
        namespace: RELEASE_NAMESPACES[chart],
        source: chartReference(chart, source, config.istio.version),
        values: mergeHelmValues(istioValues(chart, settings), config.istio.values[chart]),
      })),
      gatewayApiCrds: start.gatewayApiCrds,
      strictMtls: config.mtls === "strict",
      nodeAgentZones: mode === "ambient" ? config.zones : undefined,
    },
    bookinfo: {
      namespace,
      mode,
      labels: namespaceLabels(mode, waypoint),
      workloads,
      serviceAccounts: [...new Set(workloads.map((workload) => workload.serviceAccount))],
      services: BOOKINFO_SERVICES,
      ingress: config.istio.ingressGateway,
    },
    waypoint: waypoint
      ? {
          namespace,
          parameters: waypointParameters,
          deploymentPatch: waypointDeploymentPatch(config.zones, config.bookinfo.minReadySeconds),
          gateway: waypointGatewaySpec(waypointParameters),
          readyReplicas: config.zones.length,
        }
      : undefined,
    locality: {
      ...locality,
      namespace,
      rules: locality.destinationRules
        ? BOOKINFO_SERVICES.map((service) => ({
            service,
            name: `${service}-locality`,
            spec: destinationRuleSpec(
              service,
              namespace,
              config.locality,
              config.zones,
              config.cluster.region,
            ),
          }))
        : [],
    },
    order: switchOrder(start.previousMode, mode),
    outputs: {
      dataplaneMode: mode,
      locality: config.locality,
      localityMechanism: locality.mechanism,
      carriedIntent: effectiveIntent(mode, config.locality, waypoint),
      waypoint: waypoint ? `${WAYPOINT.name}.${namespace}` : "none",
      mtls: config.mtls,
      zones: config.zones,
      istioReleases: charts.map((chart) => RELEASE_NAMES[chart]),
      istioVersion: config.istio.version,
      kubernetesVersion: config.cluster.kubernetesVersion,
      bookinfoNamespace: namespace,
      bookinfoServices: [...BOOKINFO_SERVICES],
      reviewsZones: config.bookinfo.reviewsZones,
      clientImage: config.bookinfo.clientImage,
      migration: migration(start.previousMode, mode),
      productpage: productpageCommand(
        config,
        config.istio.ingressGateway ? RELEASE_NAMES.gateway : undefined,
        INGRESS_NAMESPACE,
      ),
    },
  };
}
