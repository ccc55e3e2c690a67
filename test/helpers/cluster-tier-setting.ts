/** What every step of the test cluster tier shares: its environment, its cluster and istiod, and the stack it runs on. */
import * as path from "path";
import { defaultNodeZones, defaultReviewsZones, minikubeNodeNames } from "../../stacks/config";
import { BOOKINFO_SERVICES, DEFAULTS, MODE_ANNOTATION } from "../../stacks/contract";
import { ClusterReader, ServiceEndpoint } from "./cluster";
import { toolEnv } from "./env";
import { TestIstiod } from "./istiod";
import { GATEWAY_API_CRD_PLURALS } from "./stacks";
import { TestStack } from "./workspace";

/** The last commit whose program did not record the versions it installed (Istio 1.26.6, Kubernetes v1.32.0). */
export const UNRECORDED_COMMIT = "4f2f79c88c60b7bbefd9eeb2fd03882a1e0d783c";

export const {
  KUBECONFIG: kubeconfig,
  TEST_CLUSTER_PROFILE: profile,
  ISTIO_LOCALITY_CHARTS: charts,
  ISTIO_LOCALITY_ISTIO_BIN: istioBin,
  ISTIO_LOCALITY_GATEWAY_API: gatewayApi,
} = toolEnv(
  [
    "KUBECONFIG",
    "TEST_CLUSTER_PROFILE",
    "ISTIO_LOCALITY_CHARTS",
    "ISTIO_LOCALITY_ISTIO_BIN",
    "ISTIO_LOCALITY_GATEWAY_API",
  ],
  "this tier through scripts/test-tier.sh cluster",
);
export const REGION = DEFAULTS.cluster.region;
/** The proxy version the readers present: the program's Istio version, whose proxy image the pods name. */
export const PROXY_VERSION = DEFAULTS.istio.version;
export const PROXY_IMAGE = new RegExp(
  `^docker\\.io/istio/proxyv2:${PROXY_VERSION.replace(/\./g, "\\.")}(-distroless)?$`,
);
export const SERVICES = [...BOOKINFO_SERVICES];
export const NAMESPACE = DEFAULTS.bookinfo.namespace;
export const hostOf = (service: string) => `${service}.${NAMESPACE}.svc.cluster.local`;
export const HOSTS = SERVICES.map(hostOf);
export const ZONES = DEFAULTS.zones;
export const NODES = defaultNodeZones(minikubeNodeNames(profile, ZONES.length), ZONES);
export const REVIEWS = Object.fromEntries(
  Object.entries(defaultReviewsZones(ZONES)).map(([version, zone]) => [`reviews-${version}`, zone]),
);

export const TIER_MIN_READY_SECONDS = 3;

export const durations: [string, number][] = [];
export async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await run();
  } finally {
    durations.push([label, (Date.now() - start) / 1000]);
  }
}

export const templateMode = (o: { object: any }) =>
  o.object.spec?.template?.metadata?.annotations?.[MODE_ANNOTATION];
export const readyZones = (endpoints: ServiceEndpoint[]) =>
  [...new Set(endpoints.filter((e) => e.ready).map((e) => e.zone))].sort();
/** How the checks after an `up` wait for the cluster to catch up: once a second, for up to a minute. */
export const SETTLING = { timeoutMs: 60_000, intervalMs: 1000 };
export const labelsOf = (o: { object: any }): Record<string, string> => o.object.metadata?.labels ?? {};
/** An IP address as protojson gives a bytes field (base64), in dotted form. */
export const addressOf = (base64: string | undefined): string | undefined =>
  base64 === undefined ? undefined : [...Buffer.from(base64, "base64")].join(".");
/** An Istio resource the test cluster asks Istio's webhook to judge. */
export interface IstioObject {
  group: string;
  plural: string;
  namespace: string;
  name: string;
}
export const networkingObject = (plural: string, name: string): IstioObject => ({
  group: "networking.istio.io",
  plural,
  namespace: NAMESPACE,
  name,
});
/** The mesh-wide PeerAuthentication the test cluster's `mtls: strict` declares. */
export const STRICT_MTLS: IstioObject = {
  group: "security.istio.io",
  plural: "peerauthentications",
  namespace: "istio-system",
  name: "default",
};
/** The policy istiod sends ztunnel for every workload under a STRICT PeerAuthentication: deny without a peer identity. */
export const ZTUNNEL_STRICT_POLICY = `${STRICT_MTLS.namespace}/istio_converted_static_strict`;
export const GATEWAY_API_CRDS = GATEWAY_API_CRD_PLURALS.map(
  (plural) => `${plural}.gateway.networking.k8s.io`,
);

/** The test cluster's API server, read through the kubeconfig the tier started it with. */
export const cluster = ClusterReader.fromFile(kubeconfig);
/** Istio's own istiod (pilot-discovery), run against the test cluster; started before the first step. */
export const istiod = new TestIstiod(kubeconfig, path.join(istioBin, "pilot-discovery"));
/** The stack every step runs on, created before the first step; destroyed by step 6 or after the last. */
export const tier = { destroyed: false } as { test: TestStack; destroyed: boolean };

export const analyzed: string[] = [];
