/**
 * How every Deployment of the lab rolls, the waypoint's included: a new pod must be ready for 10 s
 * before an old one goes, so a zone never loses its last ready pod.
 */
export const ROLLOUT = {
  minReadySeconds: 10,
  strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
};
