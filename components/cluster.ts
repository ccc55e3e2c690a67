import * as fs from "fs";
import * as command from "@pulumi/command";
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig, MinikubeClusterConfig, minikubeKubeconfigPath } from "../stacks/config";
import { REGION_LABEL, ZONE_LABEL } from "../stacks/contract";

export interface ClusterArgs {
  /**
   * The validated `cluster` config: a minikube cluster the program creates and deletes, or an
   * existing one reached through its kubeconfig file. Node zones and region come with it.
   */
  cluster: ClusterConfig;
}

/** The `minikube start` command line; `--embed-certs` makes the kubeconfig self-contained. */
export function minikubeStartCommand(spec: MinikubeClusterConfig): string {
  return [
    "minikube start",
    `--profile=${spec.profile}`,
    `--nodes=${spec.nodes}`,
    `--cpus=${spec.cpus}`,
    `--memory=${spec.memoryMb}`,
    `--driver=${spec.driver}`,
    `--container-runtime=${spec.containerRuntime}`,
    `--kubernetes-version=${spec.kubernetesVersion}`,
    // ambient needs a CNI that istio-cni can chain into; minikube's multi-node default is kindnet, made explicit.
    "--cni=kindnet",
    "--embed-certs",
  ].join(" ");
}

/** Labels a node carries for Istio and Kubernetes to know its locality. */
export function topologyLabels(zone: string, region: string): Record<string, string> {
  return { [REGION_LABEL]: region, [ZONE_LABEL]: zone };
}

/**
 * A Kubernetes cluster with zone-labelled nodes and an explicit provider for everything deployed
 * into it. Nothing here reads the machine's default kubeconfig or context.
 */
export class Cluster extends pulumi.ComponentResource {
  /** The kubeconfig of the cluster (secret). */
  readonly kubeconfig: pulumi.Output<string>;
  /** The provider every Kubernetes resource of the stack uses. */
  readonly provider: kubernetes.Provider;
  /** Node name → zone as labelled by this component (empty when the nodes came labelled). */
  readonly nodeZones: pulumi.Output<Record<string, string>>;
  /** The node label patches; Istio waits for them because proxies read locality when they connect. */
  readonly zoneLabels: kubernetes.core.v1.NodePatch[];
  /**
   * The resource whose deletion takes every object in the cluster with it: the minikube cluster
   * (undefined for an existing one). Resources in the cluster name it as `deletedWith`, so a destroy
   * deletes the cluster instead of uninstalling each release and object first (and Helm's notice of
   * the CRDs it keeps never prints for a cluster that goes anyway).
   */
  readonly deletedWith?: pulumi.Resource;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-locality:cluster:Cluster", name, {}, opts);

    const cluster = args.cluster;
    let context: string | undefined;
    if (cluster.provider === "minikube") {
      const spec = cluster;
      const kubeconfigPath = minikubeKubeconfigPath(spec.profile);
      const minikube = new command.local.Command(
        `${name}-minikube`,
        {
          create: `mkdir -p "$(dirname "$KUBECONFIG")" && ${minikubeStartCommand(spec)} >&2 && cat "$KUBECONFIG"`,
          delete: `minikube delete --profile=${spec.profile} >&2 && rm -f "$KUBECONFIG"`,
          environment: { KUBECONFIG: kubeconfigPath },
          // minikube's progress goes to the log; the kubeconfig on stdout must not.
          logging: command.local.Logging.Stderr,
          triggers: [
            spec.profile,
            spec.nodes,
            spec.cpus,
            spec.memoryMb,
            spec.driver,
            spec.containerRuntime,
            spec.kubernetesVersion,
          ],
        },
        // One profile name cannot hold two clusters, so the old one goes before the new one starts.
        { parent: this, additionalSecretOutputs: ["stdout"], deleteBeforeReplace: true },
      );
      this.kubeconfig = pulumi.secret(minikube.stdout);
      this.deletedWith = minikube;
    } else {
      this.kubeconfig = pulumi.secret(fs.readFileSync(cluster.kubeconfig, "utf8"));
      context = cluster.context;
    }

    this.provider = new kubernetes.Provider(
      `${name}-provider`,
      { kubeconfig: this.kubeconfig, context, enableServerSideApply: true },
      { parent: this, deletedWith: this.deletedWith },
    );

    const nodeZones = cluster.nodeZones === "labelled" ? {} : cluster.nodeZones;
    this.zoneLabels = Object.entries(nodeZones).map(
      ([node, zone]) =>
        new kubernetes.core.v1.NodePatch(
          `${name}-zone-${node}`,
          { metadata: { name: node, labels: topologyLabels(zone, cluster.region) } },
          { parent: this, provider: this.provider, deletedWith: this.deletedWith },
        ),
    );
    this.nodeZones = pulumi.output(nodeZones);

    this.registerOutputs({ kubeconfig: this.kubeconfig, nodeZones: this.nodeZones });
  }
}
