import { stoppedSwitchAdvice, switchStart, StartingPoint } from "../../../cli/switch/start";
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

  it("refuses while a killed engine's operations are pending, naming them and the command that clears them", () => {
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
      "stack `sidecar` has 1 operation(s) a killed engine left pending (creating istio-ztunnel (kubernetes:helm.sh/v3:Release)); nothing " +
        "was touched. Run `npm run recover -- --stack sidecar` (it removes the dead engine's update lock " +
        "and clears the creates that never finished), then this command again",
    );
  });

  it("refuses a cluster without Bookinfo in the mesh, and a switch to the mode it runs", () => {
    expect(refusal({ live: { ambient: [], sidecar: [] } })).toBe(
      "the cluster of stack `sidecar` runs no Bookinfo in the mesh to measure; run `pulumi up --stack sidecar` first",
    );
    expect(refusal({ live: AMBIENT })).toBe("stack `sidecar` already runs ambient; nothing to switch");
  });

  it("takes the mode only from the cluster: not from the last outputs of a stack whose cluster has nothing", () => {
    // currentMode would fall back to the last run; a measured switch must not.
    expect(refusal({ live: undefined, recorded: "sidecar" })).toContain(
      "runs no Bookinfo in the mesh to measure",
    );
  });

  it("fails with the cluster's own error when it does not answer", () => {
    const unreachable = new Error("connect ECONNREFUSED 127.0.0.1:6443");
    expect(() => switchStart(point({ live: unreachable }))).toThrow(unreachable);
  });
});

describe("stoppedSwitchAdvice", () => {
  it("says what the cluster runs now, and the command that finishes the switch and the one that goes back", () => {
    expect(stoppedSwitchAdvice("sidecar", "sidecar", "ambient", HALF)).toEqual([
      "The cluster runs pieces of both modes (DaemonSet istio-system/ztunnel; 15 pod(s) in bookinfo with an istio-proxy sidecar).",
      "  finish the switch:  pulumi up --stack sidecar   (the config already says istio-locality:dataplaneMode=ambient)",
      "  or go back:         pulumi config set istio-locality:dataplaneMode sidecar --stack sidecar && pulumi up --stack sidecar",
      "Either orders itself by what the cluster runs, so it takes the remaining steps in order.",
    ]);
  });

  it("tells a switch that never started and one that nearly finished from a half-done one", () => {
    expect(stoppedSwitchAdvice("s", "sidecar", "ambient", SIDECAR)[0]).toBe(
      "The cluster still runs sidecar only (namespace bookinfo labelled istio-injection=enabled).",
    );
    expect(stoppedSwitchAdvice("s", "sidecar", "ambient", AMBIENT)[0]).toBe(
      "The cluster already runs ambient only (DaemonSet istio-system/ztunnel); the last steps may remain.",
    );
    expect(stoppedSwitchAdvice("s", "sidecar", "ambient", undefined)[0]).toBe(
      "The cluster did not answer: what it runs now is not known.",
    );
  });
});
