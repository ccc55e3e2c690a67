import * as pulumi from "@pulumi/pulumi";

/**
 * The options of a component's children: parented to it, and deleted with what it is deleted with.
 * On minikube that is the cluster (Cluster.deletedWith), so a destroy deletes the cluster only
 * instead of uninstalling every release and object first.
 */
export function childOptions(
  parent: pulumi.Resource,
  opts: pulumi.ComponentResourceOptions | undefined,
): pulumi.CustomResourceOptions {
  return { parent, deletedWith: opts?.deletedWith };
}
