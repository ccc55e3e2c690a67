import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BOOKINFO_PORT, BookinfoService, POD_LABELS } from "../stacks/contract";
import { BookinfoPlan } from "../stacks/plan";
import { workloadLabels } from "../stacks/workloads";

/**
 * Bookinfo's service accounts, Deployments and their zones' disruption budgets. The Deployments'
 * pods are (re)created only after `labelled`, the namespace label of the mode, is in place.
 */
export function declareWorkloads(
  name: string,
  plan: BookinfoPlan,
  namespace: kubernetes.core.v1.Namespace,
  labelled: pulumi.Resource,
  child: pulumi.CustomResourceOptions,
): kubernetes.apps.v1.Deployment[] {
  const serviceAccounts = new Map(
    plan.serviceAccounts.map((account) => [
      account,
      new kubernetes.core.v1.ServiceAccount(
        `${name}-${account}`,
        { metadata: { name: account, namespace: namespace.metadata.name } },
        child,
      ),
    ]),
  );
  return plan.workloads.map((workload) => {
    const deployment = new kubernetes.apps.v1.Deployment(
      `${name}-${workload.name}`,
      {
        metadata: {
          name: workload.name,
          namespace: serviceAccounts.get(workload.serviceAccount)!.metadata.namespace,
          labels: { [POD_LABELS.app]: workload.app, [POD_LABELS.version]: workload.version },
        },
        spec: workload.deployment,
      },
      // Created or rolled only once the mode's namespace label is in place.
      { ...child, dependsOn: [labelled] },
    );
    if (workload.budget) {
      new kubernetes.policy.v1.PodDisruptionBudget(
        `${name}-${workload.name}-budget`,
        {
          metadata: { name: workload.name, namespace: namespace.metadata.name },
          spec: { ...workload.budget, selector: { matchLabels: workloadLabels(workload) } },
        },
        child,
      );
    }
    return deployment;
  });
}

/** Bookinfo's Services, by name. */
export function declareServices(
  name: string,
  plan: BookinfoPlan,
  namespace: kubernetes.core.v1.Namespace,
  child: pulumi.CustomResourceOptions,
): Record<BookinfoService, kubernetes.core.v1.Service> {
  return Object.fromEntries(
    plan.services.map((service) => [
      service,
      new kubernetes.core.v1.Service(
        `${name}-${service}`,
        {
          metadata: { name: service, namespace: namespace.metadata.name, labels: { app: service, service } },
          spec: {
            selector: { app: service },
            ports: [{ name: "http", port: BOOKINFO_PORT, targetPort: BOOKINFO_PORT }],
          },
        },
        child,
      ),
    ]),
  ) as Record<BookinfoService, kubernetes.core.v1.Service>;
}
