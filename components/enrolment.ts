import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BookinfoPlan, PlannedWorkload } from "../stacks/plan";
import { PATCH_FORCE_ANNOTATION, RESTARTED_AT_ANNOTATION } from "../stacks/workloads";

/** What enrolling a namespace in the mesh works on. */
export interface Enrolment {
  /** The owning component's name, which prefixes each label patch's. */
  name: string;
  namespace: kubernetes.core.v1.Namespace;
  labels: BookinfoPlan["labels"];
  /** What must be ready before the namespace joins the mesh (istiod; in ambient ztunnel; the gateway). */
  meshReady: pulumi.Resource[];
  child: pulumi.CustomResourceOptions;
}

function labelPatch(
  enrolment: Enrolment,
  role: "injection" | "ambient",
  namespace: pulumi.Input<string>,
  dependsOn: pulumi.Resource[],
): kubernetes.core.v1.NamespacePatch {
  return new kubernetes.core.v1.NamespacePatch(
    `${enrolment.name}-${role}-label`,
    { metadata: { name: namespace, labels: enrolment.labels[role] } },
    { ...enrolment.child, dependsOn },
  );
}

/**
 * Into ambient: ztunnel must be ready on every node before a namespace asks it to capture pods, and
 * whatever else `ready` names (the waypoint its services go through ready in every zone, the
 * sidecars restarted to take HBONE) done. While both labels are on, sidecars keep precedence; so
 * the injection label goes only once the ambient one is confirmed (its name comes from it). The
 * workloads' pods are replaced after the injection label.
 */
export function enrolInAmbient(
  enrolment: Enrolment,
  ready: pulumi.Resource[],
): { injectionLabel: kubernetes.core.v1.NamespacePatch; ambientLabel: kubernetes.core.v1.NamespacePatch } {
  const ambientLabel = labelPatch(enrolment, "ambient", enrolment.namespace.metadata.name, [
    ...enrolment.meshReady,
    ...ready,
  ]);
  const injectionLabel = labelPatch(enrolment, "injection", ambientLabel.metadata.name, []);
  return { injectionLabel, ambientLabel };
}

/**
 * With sidecars, the injection label comes before the workloads. Pods get sidecars only from
 * istiod's webhook, so it waits for the mesh — except on the way out of ambient, where istiod
 * already runs.
 */
export function sidecarInjection(
  enrolment: Enrolment,
  afterMesh: boolean,
): kubernetes.core.v1.NamespacePatch {
  return labelPatch(
    enrolment,
    "injection",
    enrolment.namespace.metadata.name,
    afterMesh ? enrolment.meshReady : [],
  );
}

/** With sidecars, the ambient label goes only once every pod has its sidecar back (ztunnel skips such pods). */
export function leaveAmbient(
  enrolment: Enrolment,
  deployments: pulumi.Resource[],
): kubernetes.core.v1.NamespacePatch {
  return labelPatch(enrolment, "ambient", enrolment.namespace.metadata.name, deployments);
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
export function restartForHbone(
  name: string,
  namespace: string,
  workloads: PlannedWorkload[],
  meshReady: pulumi.Resource[],
  child: pulumi.CustomResourceOptions,
): kubernetes.apps.v1.DeploymentPatch[] {
  const restartedAt = new Date().toISOString();
  return workloads.map(
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
