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

/**
 * Why a container of the pod waits to run, as its status says (`reason: message`): the named
 * container's, or else the first container that waits with a reason.
 */
export function containerWaiting(pod: V1Pod | undefined, container?: string): string | undefined {
  const waiting = (pod?.status?.containerStatuses ?? [])
    .filter((status) => container === undefined || status.name === container)
    .map((status) => status.state?.waiting)
    .find((state) => state?.reason);
  return waiting ? `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}` : undefined;
}
