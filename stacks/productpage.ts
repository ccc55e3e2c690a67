import { StackConfig } from "./config";

/** A ready-to-run command that prints productpage's title, for the way this stack reaches its cluster. */
export function productpageCommand(
  config: StackConfig,
  gatewayRelease: string | undefined,
  gatewayNamespace: string,
): string {
  const cluster = config.cluster;
  const kubectl =
    cluster.provider === "minikube"
      ? `minikube kubectl --profile=${cluster.profile} --`
      : `kubectl --kubeconfig=${cluster.kubeconfig}${cluster.context ? ` --context=${cluster.context}` : ""}`;
  if (gatewayRelease && cluster.provider === "minikube" && config.istio.ingressServiceType === "NodePort") {
    return `curl -s "$(minikube service ${gatewayRelease} --profile=${cluster.profile} --namespace=${gatewayNamespace} --url | head -n 1)/productpage" | grep -o "<title>.*</title>"`;
  }
  const target = gatewayRelease
    ? `--namespace=${gatewayNamespace} svc/${gatewayRelease} 8080:80`
    : `--namespace=${config.bookinfo.namespace} svc/productpage 8080:9080`;
  return `${kubectl} port-forward ${target} & sleep 3; curl -s http://localhost:8080/productpage | grep -o "<title>.*</title>"; kill %1`;
}
