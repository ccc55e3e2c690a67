import * as pulumi from "@pulumi/pulumi";
import { Bookinfo, BOOKINFO_SERVICES } from "./components/bookinfo";
import { Cluster } from "./components/cluster";
import { INGRESS_NAMESPACE, Istio, RELEASE_NAMES } from "./components/istio";
import { Locality } from "./components/locality";
import { loadConfig } from "./stacks/config";
import { previousDataplaneMode } from "./stacks/history";
import { cniPlatform, localityPlan, zonesWithoutReviews } from "./stacks/modes";
import { productpageCommand } from "./stacks/outputs";

const config = loadConfig();
const plan = localityPlan(
  config.dataplaneMode,
  config.locality,
  config.cluster.kubernetesVersion,
  zonesWithoutReviews(config),
);
const previousMode = previousDataplaneMode();
const leavingAmbient = previousMode.apply((mode) => mode === "ambient" && config.dataplaneMode === "sidecar");

const cluster = new Cluster("cluster", {
  source:
    config.cluster.provider === "minikube"
      ? { minikube: config.cluster }
      : { kubeconfigPath: config.cluster.kubeconfig!, context: config.cluster.context },
  nodeZones: config.cluster.nodeZones,
  region: config.cluster.region,
});
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
    cniPlatform: cniPlatform(config),
    after: cluster.zoneLabels,
    istiodAfter: leavingAmbient.apply((leaving): Promise<pulumi.Resource[]> =>
      leaving ? enrolled : Promise.resolve([]),
    ),
  },
  { providers },
);

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
    leavingAmbient,
  },
  { providers },
);
resolveEnrolled([bookinfo.enrolled]);

const localityPolicy = new Locality(
  "locality",
  {
    intent: config.locality,
    plan,
    zones: config.zones,
    namespace: config.bookinfo.namespace,
    services: bookinfo.services,
    crds: istio.crds,
  },
  { providers },
);

export const dataplaneMode = config.dataplaneMode;
export const locality = config.locality;
export const localityMechanism = localityPolicy.mechanism;
export const zones = config.zones;
export const nodeZones = cluster.nodeZones;
export const kubeconfig = cluster.kubeconfig;
export const istioReleases = istio.releases;
export const bookinfoNamespace = config.bookinfo.namespace;
export const bookinfoServices = [...BOOKINFO_SERVICES];
export const reviewsZones = config.bookinfo.reviewsZones;
export const clientImage = config.bookinfo.clientImage;
export const migration = previousMode.apply((previous) =>
  previous && previous !== config.dataplaneMode ? `${previous} → ${config.dataplaneMode}` : "none",
);
export const productpage = productpageCommand(
  config,
  config.istio.ingressGateway ? RELEASE_NAMES.gateway : undefined,
  INGRESS_NAMESPACE,
);
