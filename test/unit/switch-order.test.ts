import { DataplaneMode } from "../../stacks/contract";
import { migration, SwitchOrder, switchOrder } from "../../stacks/switch-order";

describe("switchOrder", () => {
  it.each<[DataplaneMode | undefined, DataplaneMode, SwitchOrder, string]>([
    [
      undefined,
      "sidecar",
      {
        istiodAfterWorkloads: false,
        istioResourcesAfterIstiod: true,
        injectionAfterMesh: true,
        restartSidecarsForHbone: false,
      },
      "none",
    ],
    [
      undefined,
      "ambient",
      {
        istiodAfterWorkloads: false,
        istioResourcesAfterIstiod: true,
        injectionAfterMesh: true,
        restartSidecarsForHbone: false,
      },
      "none",
    ],
    [
      "sidecar",
      "sidecar",
      {
        istiodAfterWorkloads: false,
        istioResourcesAfterIstiod: true,
        injectionAfterMesh: true,
        restartSidecarsForHbone: false,
      },
      "none",
    ],
    [
      "ambient",
      "ambient",
      {
        istiodAfterWorkloads: false,
        istioResourcesAfterIstiod: true,
        injectionAfterMesh: true,
        restartSidecarsForHbone: false,
      },
      "none",
    ],
    [
      "sidecar",
      "ambient",
      {
        istiodAfterWorkloads: false,
        istioResourcesAfterIstiod: true,
        injectionAfterMesh: true,
        restartSidecarsForHbone: true,
      },
      "sidecar → ambient",
    ],
    [
      "ambient",
      "sidecar",
      {
        istiodAfterWorkloads: true,
        istioResourcesAfterIstiod: false,
        injectionAfterMesh: false,
        restartSidecarsForHbone: false,
      },
      "ambient → sidecar",
    ],
  ])("%s → %s", (previous, next, order, named) => {
    expect(switchOrder(previous, next)).toEqual(order);
    expect(migration(previous, next)).toBe(named);
  });

  it("never lets istiod wait for the workloads while they wait for istiod", () => {
    for (const previous of [undefined, "sidecar", "ambient"] as const) {
      for (const next of ["sidecar", "ambient"] as const) {
        const order = switchOrder(previous, next);
        expect(
          order.istiodAfterWorkloads && (order.injectionAfterMesh || order.istioResourcesAfterIstiod),
        ).toBe(false);
      }
    }
  });
});
