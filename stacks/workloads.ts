import type * as kubernetes from "@pulumi/kubernetes";
import { BookinfoConfig } from "./config";
import {
  BOOKINFO_PORT,
  CLIENT,
  DataplaneMode,
  MODE_ANNOTATION,
  POD_LABELS,
  ReviewsVersion,
  ZONE_LABEL,
} from "./contract";
import { TERMINATION_GRACE_SECONDS } from "./budgets";

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
  args: Pick<BookinfoConfig, "imageTag" | "reviewsZones" | "clientImage"> & { zones: string[] },
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
 * How every Deployment of the lab rolls, the waypoint's included: a new pod must be ready for
 * `minReadySeconds` before an old one goes, so a zone never loses its last ready pod and the mesh has
 * told every client of the new endpoint by then.
 */
export function rollout(minReadySeconds: number) {
  return {
    minReadySeconds,
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
  };
}

/** The pod label by which Istio's injection webhook skips a pod in a namespace labelled for injection. */
export const INJECT_LABEL = "sidecar.istio.io/inject";

/** Makes a Pulumi patch take the fields it sets from whichever field manager owns them. */
export const PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce";

/** The pod-template annotation `kubectl rollout restart` sets; changing it rolls the Deployment. */
export const RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt";
