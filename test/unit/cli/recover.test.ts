import { afterRecovery, describeOperation } from "../../../cli/recover/recover";

describe("recover's words", () => {
  it("names a pending operation by what it was doing, its name and its type", () => {
    expect(
      describeOperation({
        type: "creating",
        urn: "urn:pulumi:sidecar::istio-locality::istio-locality:lab:Lab$istio-locality:bookinfo:Bookinfo$kubernetes:apps/v1:DeploymentPatch::bookinfo-details-zone-a-hbone-restart",
      }),
    ).toBe("creating bookinfo-details-zone-a-hbone-restart (kubernetes:apps/v1:DeploymentPatch)");
  });

  it("names the command that finishes the switch, and the one that goes back to the last run's mode", () => {
    expect(afterRecovery("sidecar", "ambient", "sidecar")).toEqual([
      "The stack is runnable again. Its config says istio-locality:dataplaneMode=ambient.",
      "  finish what the killed update started:  pulumi up --stack sidecar",
      "  or go back:  pulumi config set istio-locality:dataplaneMode sidecar --stack sidecar && pulumi up --stack sidecar",
      "Either orders itself by what the cluster runs (see README, When a switch stops half way).",
    ]);
    expect(afterRecovery("sidecar", "ambient", "ambient")).toHaveLength(3);
  });
});
