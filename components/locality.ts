import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BookinfoService } from "../stacks/contract";
import { ISTIO_RESOURCE_ANNOTATIONS } from "../stacks/istio-releases";
import { LocalityRendering } from "../stacks/plan";
import { childOptions } from "./children";

export interface LocalityArgs {
  /** The intent rendered for the dataplane in force: its DestinationRules and Service field (see `planRun`). */
  plan: LocalityRendering;
  /** The Services to keep in-zone, by name; they must exist before they are patched. */
  services: Record<BookinfoService, kubernetes.core.v1.Service>;
  /** Istio's CRDs, for the DestinationRules. */
  crds: pulumi.Resource;
  /**
   * What must run before Istio can judge a DestinationRule: the istiod release on an install (the
   * base chart's webhook fails open until istiod is ready); nothing while leaving ambient, where
   * istiod already runs and changes last.
   */
  validation: pulumi.Input<pulumi.Resource[]>;
}

/** The locality intent made real: DestinationRules for sidecars, `trafficDistribution` for ztunnel. */
export class Locality extends pulumi.ComponentResource {
  constructor(name: string, args: LocalityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-locality:locality:Locality", name, {}, opts);
    const child = childOptions(this, opts);

    for (const rule of args.plan.rules) {
      const service = args.services[rule.service];
      new kubernetes.apiextensions.CustomResource(
        `${name}-${rule.service}-rule`,
        {
          apiVersion: "networking.istio.io/v1",
          kind: "DestinationRule",
          metadata: {
            name: rule.name,
            namespace: service.metadata.namespace,
            annotations: ISTIO_RESOURCE_ANNOTATIONS,
          },
          spec: rule.spec,
        },
        // An Istio CRD (base chart); base's webhook fails open until istiod is ready to validate it.
        { ...child, dependsOn: pulumi.output(args.validation).apply((istiod) => [args.crds, ...istiod]) },
      );
    }
    const trafficDistribution = args.plan.trafficDistribution;
    if (trafficDistribution) {
      for (const [serviceName, service] of Object.entries(args.services)) {
        new kubernetes.core.v1.ServicePatch(
          `${name}-${serviceName}-distribution`,
          {
            metadata: { name: service.metadata.name, namespace: service.metadata.namespace },
            spec: { trafficDistribution },
          },
          child,
        );
      }
    }

    for (const warning of args.plan.warnings) {
      void pulumi.log.warn(warning, this);
    }
    this.registerOutputs({});
  }
}
