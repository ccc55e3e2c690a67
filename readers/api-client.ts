import * as fs from "fs";
import { ApiType, Interceptor, KubeConfig } from "@kubernetes/client-node";
import { minikubeKubeconfigPath, StackConfig } from "../stacks/config";

/**
 * The kubeconfig of the stack's cluster, at its configured context: the existing cluster's file, or
 * the one minikube writes for the profile. Undefined when there is no cluster to ask yet (a minikube
 * profile not started).
 */
export function stackKubeconfig(config: StackConfig): KubeConfig | undefined {
  const cluster = config.cluster;
  const file = cluster.provider === "existing" ? cluster.kubeconfig : minikubeKubeconfigPath(cluster.profile);
  if (!fs.existsSync(file)) return undefined;
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(file);
  if (cluster.provider === "existing" && cluster.context) kubeconfig.setCurrentContext(cluster.context);
  return kubeconfig;
}

/**
 * A client-node API client whose every request gives up after `timeoutMs`. Without it, an API
 * server that never answers holds the run for the system's TCP timeout.
 */
export function apiClientWithTimeout<T extends ApiType & { addInterceptor(interceptor: Interceptor): void }>(
  kubeconfig: KubeConfig,
  api: new (server: string) => T,
  timeoutMs: number,
): T {
  const client = kubeconfig.makeApiClient(api);
  client.addInterceptor((options) => {
    (options as { timeout?: number }).timeout = timeoutMs;
  });
  return client;
}
