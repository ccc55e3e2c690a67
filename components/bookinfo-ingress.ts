import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BOOKINFO_PORT } from "../stacks/contract";
import { ISTIO_RESOURCE_ANNOTATIONS } from "../stacks/istio-releases";

const GATEWAY_NAME = "bookinfo-gateway";

/** productpage's paths, as Bookinfo's own gateway routes them. */
const PRODUCTPAGE_ROUTES = [
  { uri: { exact: "/productpage" } },
  { uri: { prefix: "/static" } },
  { uri: { exact: "/login" } },
  { uri: { exact: "/logout" } },
  { uri: { prefix: "/api/v1/products" } },
];

/**
 * productpage through the ingress gateway: an Istio Gateway on the gateway chart's pods and a
 * VirtualService routing productpage's paths. Istio CRDs (the base chart, `crds`); base's webhook
 * fails open until istiod is ready to validate them, so they also wait for `validation`.
 */
export function declareIngress(
  name: string,
  namespace: kubernetes.core.v1.Namespace,
  crds: pulumi.Resource,
  validation: pulumi.Input<pulumi.Resource[]>,
  child: pulumi.CustomResourceOptions,
): void {
  const judged = { ...child, dependsOn: pulumi.output(validation).apply((istiod) => [crds, ...istiod]) };
  const metadata = (objectName: string) => ({
    name: objectName,
    namespace: namespace.metadata.name,
    annotations: ISTIO_RESOURCE_ANNOTATIONS,
  });
  new kubernetes.apiextensions.CustomResource(
    `${name}-gateway`,
    {
      apiVersion: "networking.istio.io/v1",
      kind: "Gateway",
      metadata: metadata(GATEWAY_NAME),
      spec: {
        // The gateway chart labels its pods `istio: <release name without "istio-">`.
        selector: { istio: "ingress" },
        servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"] }],
      },
    },
    judged,
  );
  new kubernetes.apiextensions.CustomResource(
    `${name}-routes`,
    {
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: metadata("bookinfo"),
      spec: {
        hosts: ["*"],
        gateways: [GATEWAY_NAME],
        http: [
          {
            match: PRODUCTPAGE_ROUTES,
            route: [{ destination: { host: "productpage", port: { number: BOOKINFO_PORT } } }],
          },
        ],
      },
    },
    judged,
  );
}
