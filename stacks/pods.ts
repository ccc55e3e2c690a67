import type { V1Pod } from "@kubernetes/client-node";

/** A pod that runs, passes its readiness checks and is not on its way out. */
export function podReady(pod: V1Pod): boolean {
  return (
    pod.status?.phase === "Running" &&
    !pod.metadata?.deletionTimestamp &&
    (pod.status.conditions ?? []).some(
      (condition) => condition.type === "Ready" && condition.status === "True",
    )
  );
}
