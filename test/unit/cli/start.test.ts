import { switchStart, StartingPoint } from "../../../cli/switch/start";
import { UsageError } from "../../../cli/shared/exit";

const SIDECAR = { ambient: [], sidecar: ["namespace bookinfo labelled istio-injection=enabled"] };
const AMBIENT = { ambient: ["DaemonSet istio-system/ztunnel"], sidecar: [] };
const HALF = {
  ambient: ["DaemonSet istio-system/ztunnel"],
  sidecar: ["15 pod(s) in bookinfo with an istio-proxy sidecar"],
};
const point = (over: Partial<StartingPoint>): StartingPoint => ({
  stack: "sidecar",
  to: "ambient",
  recorded: "sidecar",
  live: SIDECAR,
  pendingOperations: [],
  ...over,
});
const refusal = (over: Partial<StartingPoint>): string => {
  try {
    switchStart(point(over));
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error("the switch started");
};

describe("switchStart", () => {
  it("starts from the mode the cluster runs, whatever the last outputs say", () => {
    expect(switchStart(point({}))).toBe("sidecar");
    // A cancelled switch into ambient that never got past istiod writes ambient into the outputs.
    expect(switchStart(point({ recorded: "ambient" }))).toBe("sidecar");
    expect(switchStart(point({ to: "sidecar", live: AMBIENT, recorded: "ambient" }))).toBe("ambient");
  });

  it("refuses a half-switched cluster with the command to finish and the one to go back", () => {
    expect(refusal({ live: HALF, recorded: "ambient" })).toBe(
      "the cluster of stack `sidecar` runs pieces of both modes (DaemonSet istio-system/ztunnel; 15 pod(s) " +
        "in bookinfo with an istio-proxy sidecar): a switch stopped half way, and measuring from here " +
        "would measure the rest of it; nothing was touched. Finish it with `pulumi config set " +
        "istio-locality:dataplaneMode ambient --stack sidecar && pulumi up --stack sidecar`, or go back with `pulumi " +
        "config set istio-locality:dataplaneMode sidecar --stack sidecar && pulumi up --stack sidecar`; then switch " +
        "again from a whole mode",
    );
    expect(refusal({ live: HALF, to: "sidecar", recorded: "ambient" })).toContain(
      "Finish it with `pulumi config set istio-locality:dataplaneMode sidecar --stack sidecar && pulumi up --stack sidecar`, " +
        "or go back with `pulumi config set istio-locality:dataplaneMode ambient --stack sidecar",
    );
  });

  it("refuses while an interrupted engine's operations are pending, naming them and Pulumi's clean-up", () => {
    expect(
      refusal({
        pendingOperations: [
          {
            type: "creating",
            urn: "urn:pulumi:sidecar::istio-locality::istio-locality:lab:Lab$kubernetes:helm.sh/v3:Release::istio-ztunnel",
          },
        ],
      }),
    ).toBe(
      "stack `sidecar` has 1 operation(s) an interrupted engine left pending (creating istio-ztunnel); " +
        "nothing was touched. Run `pulumi refresh --stack sidecar --yes --clear-pending-creates` (it reads " +
        "each resource back from the cluster and forgets the creates that never finished), then this " +
        "command again",
    );
  });

  it("refuses a cluster without Bookinfo in the mesh, and a switch to the mode it runs", () => {
    expect(refusal({ live: { ambient: [], sidecar: [] } })).toBe(
      "the cluster of stack `sidecar` runs no Bookinfo in the mesh to measure; run `pulumi up --stack sidecar` first",
    );
    expect(refusal({ live: AMBIENT })).toBe("stack `sidecar` already runs ambient; nothing to switch");
  });
});
