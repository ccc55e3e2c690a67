import { ApiType, Interceptor, KubeConfig } from "@kubernetes/client-node";

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
