import * as pulumi from "@pulumi/pulumi";
import { ApiextensionsV1Api, VersionApi } from "@kubernetes/client-node";
import { apiClientWithTimeout, stackKubeconfig } from "./api-client";
import { GATEWAY_API_BUNDLE_ANNOTATION, Manifest } from "../stacks/charts";
import { ConfigError, configProblem, StackConfig } from "../stacks/config";
import { describeReadFailure } from "./nodes";
import { istioMinor, outsideKubernetesRange } from "../stacks/versions";

/** How long the version check waits for the API server before it warns and goes on. */
export const CLUSTER_VERSIONS_TIMEOUT_MS = 10_000;

/** What a cluster runs that a run's versions must fit: its API server, and its Gateway API CRDs. */
export interface ClusterVersions {
  /** `v1.36.5`, from the API server's `/version`. */
  kubernetes: string;
  /** The newest bundle version among the cluster's Gateway API CRDs; undefined without any. */
  gatewayApi?: string;
}

const GATEWAY_API_GROUP = ".gateway.networking.k8s.io";

/** `v1.5.1` as numbers, for ordering; undefined when not a release. */
const release = (version: string): number[] | undefined => {
  const match = /^v(\d+)\.(\d+)\.(\d+)$/.exec(version);
  return match ? match.slice(1).map(Number) : undefined;
};

/** Whether release `a` is newer than `b`. */
export function newerRelease(a: string, b: string): boolean {
  const [x, y] = [release(a), release(b)];
  if (!x || !y) return false;
  const i = x.findIndex((part, k) => part !== y[k]);
  return i >= 0 && x[i] > y[i];
}

/** The newest Gateway API bundle among CRDs; undefined when none carries one. */
export function newestBundle(crds: Manifest[]): string | undefined {
  const bundles = crds
    .filter((crd) => crd.metadata?.name?.endsWith(GATEWAY_API_GROUP))
    .map((crd) => crd.metadata?.annotations?.[GATEWAY_API_BUNDLE_ANNOTATION])
    .filter((bundle): bundle is string => bundle !== undefined && release(bundle) !== undefined);
  return bundles.reduce<string | undefined>(
    (newest, bundle) => (newest === undefined || newerRelease(bundle, newest) ? bundle : newest),
    undefined,
  );
}

/**
 * What the cluster refuses of this run's versions: an API server outside the Istio minor's Kubernetes
 * range (the cluster's own word beats `cluster.kubernetesVersion`), and Gateway API CRDs this run
 * would install over newer ones — other users' Gateways live on them, and from v1.5 their
 * safe-upgrades policy refuses older ones.
 */
export function clusterVersionProblems(
  config: StackConfig,
  cluster: ClusterVersions,
  installing: Manifest[],
): { problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const row = istioMinor(config.istio.version);
  const range = row && outsideKubernetesRange(row, cluster.kubernetes);
  if (row && range) {
    const supports = `Istio ${row.minor} supports ${range}`;
    // A run never stops a stack the cluster already runs: it says so, and the stack moves Istio.
    if (config.versions.istio.source === "deployed") {
      warnings.push(
        `${supports}, and the cluster runs Kubernetes ${cluster.kubernetes}: move \`istio-locality:istio.version\` to a minor that supports it`,
      );
    } else {
      problems.push(
        configProblem(
          "istio.version",
          config.istio.version,
          `an Istio minor that supports the Kubernetes ${cluster.kubernetes} the cluster runs; ${supports}`,
        ),
      );
    }
  }
  const ours = newestBundle(installing);
  if (ours !== undefined && cluster.gatewayApi !== undefined && newerRelease(cluster.gatewayApi, ours)) {
    problems.push(
      configProblem(
        "istio.gatewayApiCrds",
        config.istio.gatewayApiCrds,
        `CRDs no older than the Gateway API ${cluster.gatewayApi} ones the cluster has (this run would install ${ours} over them); set it to \`installed\``,
      ),
    );
  }
  return { problems, warnings };
}

/** Reads the API server's version and the Gateway API CRDs' bundles; undefined when there is no cluster yet. */
export async function readClusterVersions(
  config: StackConfig,
  timeoutMs: number = CLUSTER_VERSIONS_TIMEOUT_MS,
): Promise<ClusterVersions | undefined> {
  const kubeconfig = stackKubeconfig(config);
  if (!kubeconfig) return undefined;
  const [version, crds] = await Promise.all([
    apiClientWithTimeout(kubeconfig, VersionApi, timeoutMs).getCode(),
    apiClientWithTimeout(kubeconfig, ApiextensionsV1Api, timeoutMs).listCustomResourceDefinition(),
  ]);
  return { kubernetes: version.body.gitVersion, gatewayApi: newestBundle(crds.body.items) };
}

/**
 * Judges this run's versions against the cluster it runs on, before any resource is declared. A
 * cluster that does not answer is said and passed over: the run's own checks stand.
 */
export async function checkClusterVersions(
  config: StackConfig,
  installing: Manifest[],
  read: typeof readClusterVersions = readClusterVersions,
): Promise<void> {
  let cluster: ClusterVersions | undefined;
  try {
    cluster = await read(config);
  } catch (error) {
    await pulumi.log.warn(
      `could not read the cluster's Kubernetes version and Gateway API CRDs (${describeReadFailure(error, CLUSTER_VERSIONS_TIMEOUT_MS)}); ` +
        `the versions are judged by the config alone`,
    );
    return;
  }
  if (!cluster) return;
  const { problems, warnings } = clusterVersionProblems(config, cluster, installing);
  if (problems.length > 0) throw new ConfigError(problems);
  for (const warning of warnings) await pulumi.log.warn(warning);
}
