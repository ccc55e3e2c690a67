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
