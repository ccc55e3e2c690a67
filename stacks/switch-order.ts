import { DataplaneMode } from "./contract";

/**
 * What waits for what in one run, beyond the order every run keeps (CRDs before custom resources,
 * ztunnel ready before the ambient label, the injection label off only once the ambient label is on).
 * It depends on the mode the stack ran before and the one it runs now.
 */
export interface SwitchOrder {
  /**
   * The istiod release changes only after every pod has its sidecar back and the namespace has left
   * ambient: ztunnel keeps its control plane for as long as it carries pods.
   */
  istiodAfterWorkloads: boolean;
  /**
   * Istio's custom resources wait for the istiod release, whose webhook judges them; on an install
   * the base chart's webhook would let them through unjudged until istiod runs.
   */
  istioResourcesAfterIstiod: boolean;
  /** The injection label waits for the mesh: pods get sidecars only from istiod's injection webhook. */
  injectionAfterMesh: boolean;
  /**
   * Every sidecar workload restarts once istiod runs the ambient profile and before the namespace
   * joins ambient: istiod tells a running sidecar to send HBONE, but a sidecar accepts HBONE only if
   * it started under the ambient profile. Without the restart, ambient pods reach the sidecar pods
   * not yet replaced in plaintext — which `mtls: strict` refuses and `permissive` lets through
   * unencrypted — so it is done whatever the mTLS mode, as Istio's migration guide does.
   */
  restartSidecarsForHbone: boolean;
}

type Transition = `${DataplaneMode} → ${DataplaneMode}`;

/**
 * The decision table. Istio's migration guide orders the way into ambient as an install does (the
 * ambient parts first, then the label); the way back reverses it: istiod, which already runs, keeps
 * serving ztunnel until the sidecars are back, so nothing may wait for it.
 */
const ORDERS: Record<Transition, SwitchOrder> = {
  "sidecar → sidecar": {
    istiodAfterWorkloads: false,
    istioResourcesAfterIstiod: true,
    injectionAfterMesh: true,
    restartSidecarsForHbone: false,
  },
  "ambient → ambient": {
    istiodAfterWorkloads: false,
    istioResourcesAfterIstiod: true,
    injectionAfterMesh: true,
    restartSidecarsForHbone: false,
  },
  "sidecar → ambient": {
    istiodAfterWorkloads: false,
    istioResourcesAfterIstiod: true,
    injectionAfterMesh: true,
    restartSidecarsForHbone: true,
  },
  "ambient → sidecar": {
    istiodAfterWorkloads: true,
    istioResourcesAfterIstiod: false,
    injectionAfterMesh: false,
    restartSidecarsForHbone: false,
  },
};

/** The order of a run from `previous` (undefined on a new stack, which orders as an install) to `next`. */
export function switchOrder(previous: DataplaneMode | undefined, next: DataplaneMode): SwitchOrder {
  return ORDERS[`${previous ?? next} → ${next}`];
}

/** The stack output `migration`: the switch a run performs, or `none`. */
export function migration(previous: DataplaneMode | undefined, next: DataplaneMode): string {
  return previous && previous !== next ? `${previous} → ${next}` : "none";
}
