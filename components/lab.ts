import * as pulumi from "@pulumi/pulumi";
import { DataplaneMode, loadConfig, StackConfig } from "../stacks/config";
import { previousDataplaneMode } from "../stacks/history";
import { cniPlatform, localityPlan, zonesWithoutReviews } from "../stacks/modes";
import { checkNodeLocality } from "../stacks/nodes";
import { productpageCommand } from "../stacks/outputs";
import { Bookinfo, BOOKINFO_SERVICES } from "./bookinfo";
import { Cluster } from "./cluster";
import { INGRESS_NAMESPACE, Istio, RELEASE_NAMES } from "./istio";
import { Locality } from "./locality";

export interface LabArgs {
  /** The validated configuration of the stack. */
  config: StackConfig;
  /** The mode of the stack's previous run (undefined on a new stack); it tells a switch from an install. */
  previousMode: pulumi.Input<DataplaneMode | undefined>;
}

/**
 * The whole lab: a zoned cluster, Istio, Bookinfo and the locality policy, wired in the order a
 * fresh install and a mode switch need.
 */
export class Lab extends pulumi.ComponentResource {
  /** The stack outputs. */
  readonly outputs: Record<string, unknown>;

  constructor(name: string, args: LabArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-locality:lab:Lab", name, {}, opts);
    const config = args.config;
    const plan = localityPlan(
      config.dataplaneMode,
      config.locality,
      config.cluster.kubernetesVersion,
      zonesWithoutReviews(config),
    );
    const previousMode = pulumi.output(args.previousMode);
    const leavingAmbient = previousMode.apply(
      (mode) => mode === "ambient" && config.dataplaneMode === "sidecar",
    );

    const cluster = new Cluster(
      "cluster",
      {
        source:
          config.cluster.provider === "minikube"
            ? { minikube: config.cluster }
            : { kubeconfigPath: config.cluster.kubeconfig!, context: config.cluster.context },
        nodeZones: config.cluster.nodeZones,
        region: config.cluster.region,
      },
      { parent: this },
    );
    const providers = { kubernetes: cluster.provider };

    // Bookinfo is declared after Istio, yet on the way out of ambient istiod must wait for it.
    let resolveEnrolled: (resources: pulumi.Resource[]) => void = () => undefined;
    const enrolled = new Promise<pulumi.Resource[]>((resolve) => (resolveEnrolled = resolve));

    const istio = new Istio(
      "istio",
      {
        mode: config.dataplaneMode,
        version: config.istio.version,
        chartSource: config.istio.chartDirectory
          ? { directory: config.istio.chartDirectory }
          : { repository: config.istio.chartRepository },
        hub: config.istio.hub,
        ingressGateway: config.istio.ingressGateway,
        ingressServiceType: config.istio.ingressServiceType,
        values: config.istio.values,
        cniPlatform: cniPlatform(config),
        after: cluster.zoneLabels,
        istiodAfter: leavingAmbient.apply((leaving): Promise<pulumi.Resource[]> =>
          leaving ? enrolled : Promise.resolve([]),
        ),
      },
      { parent: this, providers },
    );

    // Istio's own validation judges every Istio resource: after istiod on an install, at once on the
    // way out of ambient, where istiod already runs and must wait for the sidecars to come back.
    const judgedBy = leavingAmbient.apply((leaving): pulumi.Resource[] => (leaving ? [] : [istio.istiod]));

    const bookinfo = new Bookinfo(
      "bookinfo",
      {
        mode: config.dataplaneMode,
        namespace: config.bookinfo.namespace,
        zones: config.zones,
        imageTag: config.bookinfo.imageTag,
        replicasPerZone: config.bookinfo.replicasPerZone,
        reviewsZones: config.bookinfo.reviewsZones,
        clientImage: config.bookinfo.clientImage,
        ingress: config.istio.ingressGateway,
        meshReady: istio.meshReady,
        crds: istio.crds,
        validation: judgedBy,
        leavingAmbient,
      },
      { parent: this, providers },
    );
    resolveEnrolled([bookinfo.enrolled]);

    const localityPolicy = new Locality(
      "locality",
      {
        intent: config.locality,
        plan,
        zones: config.zones,
        region: config.cluster.region,
        namespace: config.bookinfo.namespace,
        services: bookinfo.services,
        crds: istio.crds,
        validation: judgedBy,
      },
      { parent: this, providers },
    );

    this.outputs = {
      dataplaneMode: config.dataplaneMode,
      locality: config.locality,
      localityMechanism: localityPolicy.mechanism,
      zones: config.zones,
      nodeZones: cluster.nodeZones,
      kubeconfig: cluster.kubeconfig,
      istioReleases: istio.releases,
      bookinfoNamespace: config.bookinfo.namespace,
      bookinfoServices: [...BOOKINFO_SERVICES],
      reviewsZones: config.bookinfo.reviewsZones,
      clientImage: config.bookinfo.clientImage,
      migration: previousMode.apply((previous) =>
        previous && previous !== config.dataplaneMode ? `${previous} → ${config.dataplaneMode}` : "none",
      ),
      productpage: productpageCommand(
        config,
        config.istio.ingressGateway ? RELEASE_NAMES.gateway : undefined,
        INGRESS_NAMESPACE,
      ),
    };
    this.registerOutputs(this.outputs);
  }
}

/**
 * Validates this stack's configuration (against the live nodes where they came labelled), then
 * declares the lab and returns the stack outputs.
 */
export async function declareStack(): Promise<Record<string, unknown>> {
  const config = loadConfig();
  await checkNodeLocality(config);
  return new Lab("lab", { config, previousMode: previousDataplaneMode() }).outputs;
}
