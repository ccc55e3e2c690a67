import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BookinfoConfig } from "../stacks/config";
import {
  BOOKINFO_PORT,
  BOOKINFO_SERVICES,
  BookinfoService,
  CLIENT,
  DataplaneMode,
  MODE_ANNOTATION,
  POD_LABELS,
  ReviewsVersion,
  ZONE_LABEL,
} from "../stacks/contract";
import { TERMINATION_GRACE_SECONDS, zoneDisruptionBudget } from "../stacks/budgets";
import { namespaceLabels } from "../stacks/modes";
import { SwitchOrder } from "../stacks/switch-order";
import { ISTIO_RESOURCE_ANNOTATIONS } from "./istio";
import { rollout } from "./rollout";
import { Waypoint } from "./waypoint";
import { childOptions } from "./children";

/** The validated `bookinfo` config, and what the rest of the stack decides for Bookinfo. */
export interface BookinfoArgs extends BookinfoConfig {
  /** The mode the namespace runs in; it picks the enrolment labels and the restart annotation. */
  mode: DataplaneMode;
  /** Zones, in order; details, ratings, productpage and a client run in each. */
  zones: string[];
  /** Expose productpage through the ingress gateway (`istio: ingress`). */
  ingress: boolean;
  /** What must be ready before the namespace joins the mesh (istiod; in ambient ztunnel; the gateway). */
  meshReady: pulumi.Resource[];
  /** Istio's CRDs, for the ingress Gateway and VirtualService. */
  crds: pulumi.Resource;
  /** What must run before Istio can judge the Gateway and VirtualService (see `LocalityArgs.validation`). */
  validation: pulumi.Input<pulumi.Resource[]>;
  /** What waits for what in this run (see `stacks/switch-order.ts`). */
  order: SwitchOrder;
  /**
   * In ambient mode, a zonal waypoint for the namespace's services, and what it waits for (the
   * Gateway API CRDs and istiod); the namespace joins ambient only once it is ready in every zone.
   */
  waypoint?: { after: pulumi.Input<pulumi.Resource[]> };
}

/** A Deployment's shape, before Pulumi: everything tests assert on. */
export interface WorkloadSpec {
  name: string;
  app: string;
  version: string;
  zone: string;
  /** The pod's one container. */
  container: string;
  serviceAccount: string;
  image: string;
  /** Bookinfo serves `/health` on 9080; clients have no port. */
  serves: boolean;
  env: Record<string, string>;
  volumes: Record<string, string>;
  command?: string[];
}

/** Every Deployment: details, ratings, productpage and a client per zone, reviews per version. */
export function workloadSpecs(
  args: Pick<BookinfoArgs, "zones" | "imageTag" | "reviewsZones" | "clientImage">,
): WorkloadSpec[] {
  const image = (app: string, version: string) =>
    `docker.io/istio/examples-bookinfo-${app}-${version}:${args.imageTag}`;
  const perZone = args.zones.flatMap((zone) =>
    (["details", "ratings", "productpage"] as const).map((app): WorkloadSpec => ({
      name: `${app}-${zone}`,
      app,
      version: "v1",
      zone,
      container: app,
      serviceAccount: `bookinfo-${app}`,
      image: image(app, "v1"),
      serves: true,
      env: { CLUSTER_NAME: zone },
      volumes: app === "productpage" ? { tmp: "/tmp" } : {},
    })),
  );
  const reviews = (Object.entries(args.reviewsZones) as [ReviewsVersion, string][]).map(
    ([version, zone]): WorkloadSpec => ({
      name: `reviews-${version}`,
      app: "reviews",
      version,
      zone,
      container: "reviews",
      serviceAccount: "bookinfo-reviews",
      image: image("reviews", version),
      serves: true,
      env: { CLUSTER_NAME: zone, LOG_DIR: "/tmp/logs" },
      volumes: { tmp: "/tmp", "wlp-output": "/opt/ibm/wlp/output" },
    }),
  );
  const clients = args.zones.map((zone): WorkloadSpec => ({
    name: `${CLIENT.app}-${zone}`,
    app: CLIENT.app,
    version: "v1",
    zone,
    container: CLIENT.container,
    serviceAccount: "client",
    image: args.clientImage,
    serves: false,
    env: { CLUSTER_NAME: zone },
    volumes: {},
    command: ["sleep", "infinity"],
  }));
  return [...perZone, ...reviews, ...clients];
}

/** The labels of a workload's pods, which select them: its service, version and zone. */
export function workloadLabels(workload: WorkloadSpec): Record<string, string> {
  return {
    [POD_LABELS.app]: workload.app,
    [POD_LABELS.version]: workload.version,
    [POD_LABELS.zone]: workload.zone,
  };
}

/**
 * The Deployment spec of a workload. Rollouts never take a zone's last ready pod away: a new pod
 * must be ready (and stay so for `minReadySeconds`) before an old one goes, and an old one keeps
 * serving through its preStop delay while the mesh learns it is leaving.
 */
export function deploymentSpec(
  workload: WorkloadSpec,
  mode: DataplaneMode,
  replicas: number,
  minReadySeconds: number,
): kubernetes.types.input.apps.v1.DeploymentSpec {
  const labels = workloadLabels(workload);
  return {
    replicas,
    selector: { matchLabels: labels },
    ...rollout(minReadySeconds),
    template: {
      metadata: {
        // An ambient pod refuses a sidecar even while the namespace still carries the injection label:
        // a switch resumed or rolled back into ambient restarts pods before that label goes, and
        // their template no longer changes afterwards to restart them again.
        labels: mode === "ambient" ? { ...labels, [INJECT_LABEL]: "false" } : labels,
        annotations: {
          [MODE_ANNOTATION]: mode,
          // The proxy starts before and stops after the app, so neither end of a pod's life loses requests.
          "sidecar.istio.io/nativeSidecar": "true",
        },
      },
      spec: {
        serviceAccountName: workload.serviceAccount,
        terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: ZONE_LABEL, operator: "In", values: [workload.zone] }] },
              ],
            },
          },
        },
        containers: [
          {
            name: workload.container,
            image: workload.image,
            imagePullPolicy: "IfNotPresent",
            command: workload.command,
            env: Object.entries(workload.env).map(([name, value]) => ({ name, value })),
            ports: workload.serves ? [{ name: "http", containerPort: BOOKINFO_PORT }] : undefined,
            readinessProbe: workload.serves
              ? {
                  httpGet: { path: "/health", port: "http" },
                  initialDelaySeconds: 5,
                  periodSeconds: 2,
                  failureThreshold: 3,
                }
              : undefined,
            // Endpoint removal reaches every proxy and ztunnel later than SIGTERM reaches the pod.
            lifecycle: { preStop: { exec: { command: ["sleep", "10"] } } },
            resources: {
              requests:
                workload.app === "reviews" ? { cpu: "50m", memory: "256Mi" } : { cpu: "10m", memory: "64Mi" },
            },
            volumeMounts: Object.entries(workload.volumes).map(([name, mountPath]) => ({ name, mountPath })),
          },
        ],
        volumes: Object.keys(workload.volumes).map((name) => ({ name, emptyDir: {} })),
      },
    },
  };
}

/**
 * Bookinfo spread over zones, with a client per zone, enrolled in the mesh of the chosen mode.
 *
 * Enrolment follows Istio's migration order. Into ambient: ambient components ready → namespace
 * labelled ambient → injection label removed → pods restarted. Back to sidecars: injection label
 * added → pods restarted (a pod with a sidecar is never captured by ztunnel) → ambient label removed.
 */
export class Bookinfo extends pulumi.ComponentResource {
  /** The Services by name. */
  readonly services: Record<BookinfoService, kubernetes.core.v1.Service>;
  /** The last step of enrolment; istiod waits for it on the way out of ambient. */
  readonly enrolled: pulumi.Resource;
  /** The waypoint the services go through (`waypoint.<namespace>`), or `none`. */
  readonly waypoint: string = "none";

  constructor(name: string, args: BookinfoArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-locality:bookinfo:Bookinfo", name, {}, opts);
    const child = childOptions(this, opts);
    const ns = args.namespace;
    const labels = namespaceLabels(args.mode, args.waypoint !== undefined);
    const specs = workloadSpecs(args);

    const namespace = new kubernetes.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: ns } },
      child,
    );
    const labelPatch = (
      role: string,
      patchLabels: Record<string, string>,
      dependsOn: pulumi.ResourceOptions["dependsOn"],
    ) =>
      new kubernetes.core.v1.NamespacePatch(
        `${name}-${role}-label`,
        { metadata: { name: ns, labels: patchLabels } },
        { ...child, dependsOn },
      );

    let injectionLabel: kubernetes.core.v1.NamespacePatch;
    let ambientLabel: kubernetes.core.v1.NamespacePatch | undefined;
    if (args.mode === "ambient") {
      const waypoint = args.waypoint
        ? new Waypoint(
            `${name}-waypoint`,
            {
              namespace: ns,
              zones: args.zones,
              minReadySeconds: args.minReadySeconds,
              after: args.waypoint.after,
            },
            { ...child, dependsOn: [namespace] },
          )
        : undefined;
      this.waypoint = waypoint?.name ?? "none";
      const restarts = args.order.restartSidecarsForHbone
        ? this.restartForHbone(name, ns, specs, args.meshReady, child)
        : [];
      // ztunnel must be ready on every node before a namespace asks it to capture pods, the waypoint
      // its services go through ready in every zone, and the sidecars able to take HBONE.
      ambientLabel = labelPatch("ambient", labels.ambient, [
        namespace,
        ...args.meshReady,
        ...(waypoint ? [waypoint.ready] : []),
        ...restarts,
      ]);
      // While both labels are on, sidecars keep precedence; injection goes only once ambient is confirmed.
      injectionLabel = labelPatch("injection", labels.injection, [ambientLabel]);
    } else {
      // Pods get sidecars only when istiod's webhook exists; on the way out of ambient istiod already runs.
      injectionLabel = labelPatch(
        "injection",
        labels.injection,
        args.order.injectionAfterMesh ? [namespace, ...args.meshReady] : [namespace],
      );
    }

    const serviceAccounts = new Map<string, kubernetes.core.v1.ServiceAccount>();
    for (const sa of new Set(specs.map((w) => w.serviceAccount))) {
      serviceAccounts.set(
        sa,
        new kubernetes.core.v1.ServiceAccount(
          `${name}-${sa}`,
          { metadata: { name: sa, namespace: ns } },
          { ...child, dependsOn: [namespace] },
        ),
      );
    }

    const deployments: kubernetes.apps.v1.Deployment[] = [];
    for (const workload of specs) {
      const deployment = new kubernetes.apps.v1.Deployment(
        `${name}-${workload.name}`,
        {
          metadata: {
            name: workload.name,
            namespace: ns,
            labels: { [POD_LABELS.app]: workload.app, [POD_LABELS.version]: workload.version },
          },
          spec: deploymentSpec(workload, args.mode, args.replicasPerZone, args.minReadySeconds),
        },
        // Pods are (re)created only after the namespace labels of the mode are in place.
        { ...child, dependsOn: [injectionLabel, serviceAccounts.get(workload.serviceAccount)!] },
      );
      deployments.push(deployment);
      const budget = zoneDisruptionBudget(args.replicasPerZone);
      if (budget) {
        new kubernetes.policy.v1.PodDisruptionBudget(
          `${name}-${workload.name}-budget`,
          {
            metadata: { name: workload.name, namespace: namespace.metadata.name },
            spec: { ...budget, selector: { matchLabels: workloadLabels(workload) } },
          },
          child,
        );
      }
    }

    if (args.mode === "sidecar") {
      // The ambient label goes only once every pod has its sidecar back (ztunnel skips such pods).
      ambientLabel = labelPatch("ambient", labels.ambient, [namespace, ...deployments]);
    }
    this.enrolled = ambientLabel!;

    this.services = Object.fromEntries(
      BOOKINFO_SERVICES.map((service) => [
        service,
        new kubernetes.core.v1.Service(
          `${name}-${service}`,
          {
            metadata: { name: service, namespace: ns, labels: { app: service, service } },
            spec: {
              selector: { app: service },
              ports: [{ name: "http", port: BOOKINFO_PORT, targetPort: BOOKINFO_PORT }],
            },
          },
          { ...child, dependsOn: [namespace] },
        ),
      ]),
    ) as Record<BookinfoService, kubernetes.core.v1.Service>;

    if (args.ingress) {
      const gatewayName = "bookinfo-gateway";
      // Istio CRDs (base chart); base's webhook fails open until istiod is ready to validate them.
      const crdOpts = {
        ...child,
        dependsOn: pulumi.output(args.validation).apply((istiod) => [namespace, args.crds, ...istiod]),
      };
      new kubernetes.apiextensions.CustomResource(
        `${name}-gateway`,
        {
          apiVersion: "networking.istio.io/v1",
          kind: "Gateway",
          metadata: { name: gatewayName, namespace: ns, annotations: ISTIO_RESOURCE_ANNOTATIONS },
          spec: {
            // The gateway chart labels its pods `istio: <release name without "istio-">`.
            selector: { istio: "ingress" },
            servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"] }],
          },
        },
        crdOpts,
      );
      new kubernetes.apiextensions.CustomResource(
        `${name}-routes`,
        {
          apiVersion: "networking.istio.io/v1",
          kind: "VirtualService",
          metadata: { name: "bookinfo", namespace: ns, annotations: ISTIO_RESOURCE_ANNOTATIONS },
          spec: {
            hosts: ["*"],
            gateways: [gatewayName],
            http: [
              {
                match: [
                  { uri: { exact: "/productpage" } },
                  { uri: { prefix: "/static" } },
                  { uri: { exact: "/login" } },
                  { uri: { exact: "/logout" } },
                  { uri: { prefix: "/api/v1/products" } },
                ],
                route: [{ destination: { host: "productpage", port: { number: BOOKINFO_PORT } } }],
              },
            ],
          },
        },
        crdOpts,
      );
    }

    this.registerOutputs({});
  }

  /**
   * `kubectl rollout restart` of every Deployment, as Pulumi resources: each patch sets the restart
   * time on the pod template, once istiod runs the ambient profile, and is awaited until the rollout
   * is done. The Deployments already run (this happens only on the way into ambient), so the patches
   * do not wait for their updates, which come after the ambient label. A later run no longer declares
   * them; they are retained, so dropping them from the stack touches nothing. They take the restart
   * time by force: each patch gets a new field manager, and a retained patch of an earlier switch
   * still owns that field, so without force the next switch into ambient fails on the conflict.
   */
  private restartForHbone(
    name: string,
    namespace: string,
    specs: WorkloadSpec[],
    meshReady: pulumi.Resource[],
    child: pulumi.CustomResourceOptions,
  ): kubernetes.apps.v1.DeploymentPatch[] {
    const restartedAt = new Date().toISOString();
    return specs.map(
      (workload) =>
        new kubernetes.apps.v1.DeploymentPatch(
          `${name}-${workload.name}-hbone-restart`,
          {
            metadata: { name: workload.name, namespace, annotations: { [PATCH_FORCE_ANNOTATION]: "true" } },
            spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt } } } },
          },
          { ...child, dependsOn: meshReady, retainOnDelete: true },
        ),
    );
  }
}

/** The pod label by which Istio's injection webhook skips a pod in a namespace labelled for injection. */
export const INJECT_LABEL = "sidecar.istio.io/inject";

/** Makes a Pulumi patch take the fields it sets from whichever field manager owns them. */
export const PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce";

/** The pod-template annotation `kubectl rollout restart` sets; changing it rolls the Deployment. */
export const RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt";
