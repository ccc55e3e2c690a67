import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as command from "@pulumi/command";
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ContainerRuntime, MinikubeDriver } from "../stacks/config";

/** A minikube cluster the program creates and deletes. */
export interface MinikubeSpec {
  /** Profile name; node names derive from it (`<profile>`, `<profile>-m02`, …). */
  profile: string;
  /** Number of nodes, at least the number of zones. */
  nodes: number;
  /** CPUs per node. */
  cpus: number;
  /** Memory per node in MB. */
  memoryMb: number;
  /** `podman` (the seed's) or `docker`. */
  driver: MinikubeDriver;
  /** Runtime inside the nodes; passed explicitly so the CNI netns decision matches the cluster. */
  containerRuntime: ContainerRuntime;
  /** Such as `v1.32.0`. */
  kubernetesVersion: string;
}

export interface ClusterArgs {
  /** Create a minikube cluster, or use a cluster the user already has. */
  source: { minikube: MinikubeSpec } | { kubeconfigPath: string; context?: string };
  /** Node name → zone to label, or `labelled` when the nodes already carry zone labels. */
  nodeZones: Record<string, string> | "labelled";
  /** The region every labelled node shares, so DestinationRule localities can name region and zone. */
  region: string;
}

/** Where minikube writes this profile's kubeconfig, instead of the machine's default one. */
export function minikubeKubeconfigPath(profile: string): string {
  return path.join(os.homedir(), ".kube", `istio-locality-${profile}.yaml`);
}

/** The `minikube start` command line; `--embed-certs` makes the kubeconfig self-contained. */
export function minikubeStartCommand(spec: MinikubeSpec): string {
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
  return { "topology.kubernetes.io/region": region, "topology.kubernetes.io/zone": zone };
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

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-locality:cluster:Cluster", name, {}, opts);

    let context: string | undefined;
    if ("minikube" in args.source) {
      const spec = args.source.minikube;
      const kubeconfigPath = minikubeKubeconfigPath(spec.profile);
      const minikube = new command.local.Command(
        `${name}-minikube`,
        {
          create: `${minikubeStartCommand(spec)} >&2 && cat "$KUBECONFIG"`,
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
    } else {
      this.kubeconfig = pulumi.secret(fs.readFileSync(args.source.kubeconfigPath, "utf8"));
      context = args.source.context;
    }

    this.provider = new kubernetes.Provider(
      `${name}-provider`,
      { kubeconfig: this.kubeconfig, context, enableServerSideApply: true },
      { parent: this },
    );

    const nodeZones = args.nodeZones === "labelled" ? {} : args.nodeZones;
    this.zoneLabels = Object.entries(nodeZones).map(
      ([node, zone]) =>
        new kubernetes.core.v1.NodePatch(
          `${name}-zone-${node}`,
          { metadata: { name: node, labels: topologyLabels(zone, args.region) } },
          { parent: this, provider: this.provider },
        ),
    );
    this.nodeZones = pulumi.output(nodeZones);

    this.registerOutputs({ kubeconfig: this.kubeconfig, nodeZones: this.nodeZones });
  }
}
