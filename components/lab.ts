import * as pulumi from "@pulumi/pulumi";
import { FetchText, fetchText, Manifest, readInstallSources } from "../stacks/charts";
import { ConfigError, loadConfig, StackConfig } from "../stacks/config";
import { minikubeToolProblems, OnPath, onPath } from "../stacks/machine";
import { BOOKINFO_SERVICES, DataplaneMode, StackOutputs } from "../stacks/contract";
import { PreviousRun, previousRun } from "../stacks/history";
import {
  cniPlatform,
  effectiveIntent,
  localityPlan,
  usesWaypoint,
  zonesWithoutReviews,
} from "../stacks/modes";
import { LIVE_MESH_TIMEOUT_MS, LiveMesh, orderingMode, readLiveMesh } from "../stacks/live-mesh";
import { awaitNodeAgents } from "../stacks/node-agents";
import { checkClusterVersions, readClusterVersions } from "../stacks/cluster-versions";
import { checkNodeLocality, describeReadFailure } from "../stacks/nodes";
import { productpageCommand } from "../stacks/productpage";
import { migration, switchOrder } from "../stacks/switch-order";
import { versionNotes } from "../stacks/versions";
import { Bookinfo } from "./bookinfo";
import { Cluster } from "./cluster";
import { chartSource, INGRESS_NAMESPACE, Istio, NodeAgentsCheck, RELEASE_NAMES } from "./istio";
import { Locality } from "./locality";

/** The stack outputs as the program declares them: each one of {@link StackOutputs}, maybe not yet known. */
export type DeclaredOutputs = { [K in keyof StackOutputs]: pulumi.Input<StackOutputs[K]> };

export interface LabArgs {
  /** The validated configuration of the stack. */
  config: StackConfig;
  /** The Gateway API CRDs to install (read by {@link readInstallSources}); none unless a waypoint needs them. */
  gatewayApiCrds: Manifest[];
  /**
   * The mode this run switches from (undefined: an install): what the cluster runs, else the last
   * run's outputs. It tells a switch from an install, and which way a half-done switch must go on.
   */
  previousMode: DataplaneMode | undefined;
  /** Waits for ambient's node agents on every zoned node (see {@link awaitNodeAgents}); tests pass a recorded answer. */
  awaitNodeAgents: NodeAgentsCheck["await"];
}

/**
 * Resources a component declared early must wait for although they are declared later: the early
 * one takes {@link LaterResources.resources} in its `dependsOn`, the later ones are handed over once
 * they exist.
 */
export interface LaterResources {
  resources: Promise<pulumi.Resource[]>;
  declared: (resources: pulumi.Resource[]) => void;
}

export function laterResources(): LaterResources {
  let declared: (resources: pulumi.Resource[]) => void = () => undefined;
  const resources = new Promise<pulumi.Resource[]>((resolve) => (declared = resolve));
  return { resources, declared };
}

/**
 * The whole lab: a zoned cluster, Istio, Bookinfo and the locality policy, wired in the order a
 * fresh install and a mode switch need.
 */
export class Lab extends pulumi.ComponentResource {
  /** The stack outputs. */
  readonly outputs: DeclaredOutputs;

  constructor(name: string, args: LabArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-locality:lab:Lab", name, {}, opts);
    const config = args.config;
    const waypoint = usesWaypoint(config.dataplaneMode, config.locality, config.waypoint);
    const plan = localityPlan(
      config.dataplaneMode,
      config.locality,
      config.cluster.kubernetesVersion,
      zonesWithoutReviews(config),
      waypoint,
    );
    const order = switchOrder(args.previousMode, config.dataplaneMode);

    const cluster = new Cluster("cluster", { cluster: config.cluster }, { parent: this });
    const providers = { kubernetes: cluster.provider };
    const deletedWith = cluster.deletedWith;

    // Bookinfo is declared after Istio, yet on the way out of ambient istiod must wait for it.
    const enrolment = laterResources();
    const istio = new Istio(
      "istio",
      {
        ...config.istio,
        mode: config.dataplaneMode,
        chartSource: chartSource(config.istio),
        cniPlatform: cniPlatform(config),
        labSizedIstiod: config.cluster.provider === "minikube",
        mtls: config.mtls,
        gatewayApiCrds: args.gatewayApiCrds,
        after: cluster.zoneLabels,
        istiodAfter: order.istiodAfterWorkloads ? enrolment.resources : [],
        nodeAgents: { kubeconfig: cluster.kubeconfig, zones: config.zones, await: args.awaitNodeAgents },
      },
      { parent: this, providers, deletedWith },
    );

    // Istio's own validation judges every Istio resource, once istiod runs (see SwitchOrder).
    const judgedBy = order.istioResourcesAfterIstiod ? [istio.istiod] : [];

    const bookinfo = new Bookinfo(
      "bookinfo",
      {
        ...config.bookinfo,
        mode: config.dataplaneMode,
        zones: config.zones,
        ingress: config.istio.ingressGateway,
        meshReady: istio.meshReady,
        crds: istio.crds,
        validation: judgedBy,
        order,
        // istiod's controller creates the waypoint's GatewayClass and Deployment.
        waypoint: waypoint ? { after: [...istio.gatewayApi, istio.istiod] } : undefined,
      },
      { parent: this, providers, deletedWith },
    );
    enrolment.declared([bookinfo.enrolled]);

    const localityPolicy = new Locality(
      "locality",
      {
        intent: config.locality,
        plan,
        zones: config.zones,
        region: config.cluster.region,
        namespace: config.bookinfo.namespace,
        services: bookinfo.services,
        crds: istio.crds,
        validation: judgedBy,
      },
      { parent: this, providers, deletedWith },
    );

    this.outputs = {
      dataplaneMode: config.dataplaneMode,
      locality: config.locality,
      localityMechanism: localityPolicy.mechanism,
      carriedIntent: effectiveIntent(config.dataplaneMode, config.locality, waypoint),
      waypoint: bookinfo.waypoint,
      mtls: config.mtls,
      zones: config.zones,
      nodeZones: cluster.nodeZones,
      kubeconfig: cluster.kubeconfig,
      istioReleases: istio.releases,
      istioVersion: config.istio.version,
      kubernetesVersion: config.cluster.kubernetesVersion,
      bookinfoNamespace: config.bookinfo.namespace,
      bookinfoServices: [...BOOKINFO_SERVICES],
      reviewsZones: config.bookinfo.reviewsZones,
      clientImage: config.bookinfo.clientImage,
      migration: migration(args.previousMode, config.dataplaneMode),
      productpage: productpageCommand(
        config,
        config.istio.ingressGateway ? RELEASE_NAMES.gateway : undefined,
        INGRESS_NAMESPACE,
      ),
    };
    this.registerOutputs(this.outputs);
  }
}

/** What the program reads from outside itself before it declares anything; tests pass recorded answers. */
export interface StackReaders {
  /** The chart source and the Gateway API CRDs' release. */
  web: FetchText;
  /** What the cluster runs now. */
  mesh: typeof readLiveMesh;
  /** Ambient's node agents, awaited during the run. */
  nodeAgents: NodeAgentsCheck["await"];
  /** The cluster's Kubernetes and Gateway API versions. */
  clusterVersions: typeof readClusterVersions;
  /** Which commands this machine has (minikube and its driver). */
  commands: OnPath;
}

const LIVE_READERS: StackReaders = {
  web: fetchText,
  mesh: readLiveMesh,
  nodeAgents: awaitNodeAgents,
  clusterVersions: readClusterVersions,
  commands: onPath,
};

/**
 * Validates this stack's configuration (against this machine's commands, its chart source, the live
 * nodes where they came labelled, and the cluster's own versions), then declares the lab and returns
 * the stack outputs.
 */
export async function declareStack(readers: Partial<StackReaders> = {}): Promise<DeclaredOutputs> {
  const read = { ...LIVE_READERS, ...readers };
  const previous = await previousRun();
  const config = loadConfig(previous.versions);
  for (const note of versionNotes(config.versions, config.cluster.provider, new Date())) {
    await pulumi.log.warn(note);
  }
  const machine = minikubeToolProblems(config.cluster, read.commands);
  if (machine.length > 0) throw new ConfigError(machine);
  const gatewayApiCrds = await readInstallSources(config, read.web);
  await checkClusterVersions(config, gatewayApiCrds, read.clusterVersions);
  await checkNodeLocality(config);
  const previousMode = await startingMode(config, previous, read.mesh);
  return new Lab("lab", { config, gatewayApiCrds, previousMode, awaitNodeAgents: read.nodeAgents }).outputs;
}

/**
 * The mode this run switches from: what the cluster runs, or the last run's outputs when the
 * cluster cannot be asked (see {@link orderingMode}). Says so when the two disagree, and when the
 * cluster did not answer.
 */
async function startingMode(
  config: StackConfig,
  lastRun: PreviousRun,
  readMesh: typeof readLiveMesh,
): Promise<DataplaneMode | undefined> {
  const lastOutputs = lastRun.dataplaneMode;
  let live: LiveMesh | undefined;
  try {
    live = await readMesh(config);
  } catch (error) {
    await pulumi.log.warn(
      `could not read which dataplane the cluster runs (${describeReadFailure(error, LIVE_MESH_TIMEOUT_MS)}); ` +
        `the switch order follows the last run's outputs (\`${lastOutputs ?? "no run"}\`)`,
    );
  }
  const { previous, note } = orderingMode(config.dataplaneMode, live, lastOutputs);
  if (note) await pulumi.log.warn(note);
  return previous;
}
