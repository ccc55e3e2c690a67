import { describeUndone, recordedPatches, strayFields } from "../../../cli/recover/patches";
import { afterRecovery } from "../../../cli/recover/recover";
import { describeOperation } from "../../../cli/shared/stack";

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
      "Either orders itself by what the cluster runs (see docs/switching.md, When a switch stops half way).",
    ]);
    expect(afterRecovery("sidecar", "ambient", "ambient")).toHaveLength(3);
  });
});

describe("a patch the killed update applied but the state does not record", () => {
  const injectionUrn =
    "urn:pulumi:lab::istio-locality::istio-locality:lab:Lab$istio-locality:bookinfo:Bookinfo$kubernetes:core/v1:NamespacePatch::bookinfo-injection-label";
  const deployment = {
    resources: [
      {
        urn: "urn:pulumi:lab::istio-locality::pulumi:pulumi:Stack::istio-locality-test",
        type: "pulumi:pulumi:Stack",
      },
      {
        urn: injectionUrn,
        type: "kubernetes:core/v1:NamespacePatch",
        inputs: { apiVersion: "v1", kind: "Namespace", metadata: { name: "bookinfo", labels: {} } },
        outputs: {
          __fieldManager: "pulumi-kubernetes-0a1b2c3d",
          __inputs: { apiVersion: "v1", kind: "Namespace", metadata: { name: "bookinfo", labels: {} } },
          metadata: { name: "bookinfo" },
        },
      },
      {
        urn: injectionUrn.replace(
          "NamespacePatch::bookinfo-injection-label",
          "Namespace::bookinfo-namespace",
        ),
        type: "kubernetes:core/v1:Namespace",
        inputs: { apiVersion: "v1", kind: "Namespace", metadata: { name: "bookinfo" } },
        outputs: { __fieldManager: "pulumi-kubernetes-77aa", metadata: { name: "bookinfo" } },
      },
    ],
  };
  const [patch] = recordedPatches(deployment);
  const applied = (manager: string, labels: string[]) => ({
    manager,
    operation: "Apply",
    apiVersion: "v1",
    fieldsType: "FieldsV1",
    fieldsV1: { "f:metadata": { "f:labels": Object.fromEntries(labels.map((l) => [`f:${l}`, {}])) } },
  });
  const namespace = (labels: Record<string, string>, managedFields: unknown[]) =>
    ({ apiVersion: "v1", kind: "Namespace", metadata: { name: "bookinfo", labels, managedFields } }) as any;

  it("reads only Patch resources from the state, with their recorded inputs and field manager", () => {
    expect(recordedPatches(deployment)).toEqual([
      {
        urn: injectionUrn,
        fieldManager: "pulumi-kubernetes-0a1b2c3d",
        body: { apiVersion: "v1", kind: "Namespace", metadata: { name: "bookinfo", labels: {} } },
      },
    ]);
  });

  it("finds a label its field manager owns that the recorded inputs do not name", () => {
    const live = namespace(
      {
        "istio-injection": "enabled",
        "istio.io/dataplane-mode": "ambient",
        "kubernetes.io/metadata.name": "bookinfo",
      },
      [
        applied("pulumi-kubernetes-0a1b2c3d", ["istio-injection"]),
        applied("pulumi-kubernetes-ffee", ["istio.io/dataplane-mode"]),
        { ...applied("kube-apiserver", ["kubernetes.io/metadata.name"]), operation: "Update" },
      ],
    );
    expect(strayFields(patch, live)).toEqual([{ field: "labels", key: "istio-injection", value: "enabled" }]);
    expect(describeUndone({ urn: injectionUrn, stray: strayFields(patch, live) })).toBe(
      "bookinfo-injection-label: label istio-injection=enabled removed (the killed update had applied it; the state did not record it)",
    );
  });

  it("leaves alone what the state records, and what other managers own", () => {
    const recorded = {
      ...patch,
      body: { ...patch.body, metadata: { name: "bookinfo", labels: { "istio-injection": "enabled" } } },
    };
    const live = namespace({ "istio-injection": "enabled", team: "shop" }, [
      applied("pulumi-kubernetes-0a1b2c3d", ["istio-injection"]),
      applied("kubectl-client-side-apply", ["team"]),
    ]);
    expect(strayFields(recorded, live)).toEqual([]);
    expect(strayFields(patch, namespace({ team: "shop" }, [applied("kubectl", ["team"])]))).toEqual([]);
  });
});
