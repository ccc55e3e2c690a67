/**
 * How long a pod of the lab's (Bookinfo's and the waypoint's) has between SIGTERM and SIGKILL: the
 * 10 s preStop delay while every proxy and ztunnel learns the endpoint is leaving, then the time a
 * request in flight gets to finish. Istio's waypoint template of 1.26 and 1.27 says 2 s, later ones
 * leave Kubernetes' 30 s; the waypoint gets Bookinfo's, so rolling or draining it cuts no request
 * its backends would have finished.
 */
export const TERMINATION_GRACE_SECONDS = 45;

/**
 * The disruption budget of a zone's pods of one Deployment (a service's in a zone, or the zonal
 * waypoint's): one voluntary eviction at a time, so `kubectl drain` and a node-pool upgrade always
 * complete. With two replicas or more a zone keeps a ready pod of the service throughout a drain;
 * with one there is no budget at all, as in Istio's own charts: a budget that can never be met blocks
 * a drain forever (kubernetes/kubernetes#93476), and the zone is without the service until its pod
 * is ready on another of the zone's nodes — under `strict` locality the zone's requests to it fail
 * meanwhile, under `failover` they go to another zone.
 */
export function zoneDisruptionBudget(replicas: number): { maxUnavailable: number } | undefined {
  return replicas >= 2 ? { maxUnavailable: 1 } : undefined;
}

/**
 * The waypoint's budget: one replica per zone, of which one at a time may be evicted. A zone whose
 * replica is away has its clients' ztunnel fail over to another zone's replica (`PreferClose`), which
 * sends only to its own zone's backends: traffic stays within one zone, not the client's, until the
 * replica is back. A budget of every replica, as before, made every drain of a waypoint's node hang.
 */
export const WAYPOINT_DISRUPTION_BUDGET = { maxUnavailable: 1 } as const;
