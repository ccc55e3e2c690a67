import type { EngineEvent } from "@pulumi/pulumi/automation";
import * as yaml from "js-yaml";
import { MODE_KEY } from "../../../stacks/contract";
import {
  SwitchPlan,
  nameFromUrn,
  previewWarnings,
  renderPlan,
  summarisePlan,
  withDataplaneMode,
} from "../../../cli/preview-switch/plan";
import { configuredMode } from "../../../cli/shared/stack";
import { fixtureJson } from "./fixture";

const EVENTS = fixtureJson<EngineEvent[]>("preview-sidecar-to-ambient.events.json");

describe("summarisePlan", () => {
  const steps = summarisePlan(EVENTS);

  it("lists every changed resource once, in the engine's order, leaving out unchanged ones", () => {
    expect(steps.map((step) => [step.op, step.type, step.name])).toEqual([
      ["update", "kubernetes:helm.sh/v3:Release", "istiod"],
      ["create", "kubernetes:helm.sh/v3:Release", "istio-cni"],
      ["create", "kubernetes:helm.sh/v3:Release", "ztunnel"],
      ["update", "kubernetes:core/v1:Namespace", "bookinfo-namespace"],
      ["update", "kubernetes:apps/v1:Deployment", "bookinfo-productpage-zone-a"],
      ["replace", "kubernetes:apps/v1:Deployment", "bookinfo-client-zone-a"],
      ["delete", "kubernetes:networking.istio.io/v1:DestinationRule", "locality-reviews"],
    ]);
  });

  it("folds create-replacement, replace and delete-replaced into one replace with the keys that force it", () => {
    const replaced = steps.filter((step) => step.op === "replace");
    expect(replaced).toHaveLength(1);
    expect(replaced[0]).toMatchObject({ replaceKeys: ["spec.selector"], diffs: ["spec"] });
  });

  it("detects a replacement announced only by delete-replaced (delete before replace)", () => {
    const deleteFirst = EVENTS.filter(
      (event) =>
        event.resourcePreEvent?.metadata.op !== "create-replacement" &&
        event.resourcePreEvent?.metadata.op !== "replace",
    );
    expect(summarisePlan(deleteFirst).find((step) => step.name === "bookinfo-client-zone-a")?.op).toBe(
      "replace",
    );
  });

  it("keeps the changed properties of updates", () => {
    expect(steps.find((step) => step.name === "istiod")?.diffs).toEqual(["values"]);
  });
});

describe("previewWarnings", () => {
  it("keeps the program's warnings without the engine's colour markup", () => {
    expect(previewWarnings(EVENTS)).toEqual([
      "locality `strict` in ambient mode behaves as `failover`: ztunnel only knows Service `trafficDistribution: PreferClose`, " +
        "which prefers the own zone and fails over to others; strict zone pinning in ambient needs a waypoint per zone with a DestinationRule",
    ]);
  });
});

describe("renderPlan", () => {
  const steps = summarisePlan(EVENTS);
  const plan: SwitchPlan = {
    stackName: "sidecar",
    from: "sidecar",
    fromSource: "last run",
    to: "ambient",
    changeSummary: { create: 2, update: 3, replace: 1, delete: 1, same: 2 },
    steps,
    replacements: steps.filter((step) => step.op === "replace"),
    warnings: previewWarnings(EVENTS),
  };
  const text = renderPlan(plan);

  it("says which stack, which mode, and that the config file is untouched", () => {
    expect(text).toContain(
      "Preview of stack `sidecar` with dataplaneMode `ambient` (runs now: sidecar, from its last run).",
    );
    expect(text).toContain("The stack's config file is unchanged.");
  });

  it("says when the cluster is half-switched that the steps are what remains", () => {
    const half = renderPlan({
      ...plan,
      halfSwitched: "DaemonSet istio-system/ztunnel; 3 pod(s) in bookinfo with an istio-proxy sidecar",
    });
    expect(half).toContain(
      "The cluster runs pieces of both modes (DaemonSet istio-system/ztunnel; 3 pod(s) in bookinfo with an " +
        "istio-proxy sidecar): a switch stopped half way, and the steps below are what remains to reach `ambient`.",
    );
    expect(text).not.toContain("half way");
  });

  it("prints op, type and name per resource", () => {
    expect(text).toMatch(/\+\s+create\s+kubernetes:helm\.sh\/v3:Release\s+istio-cni/);
    expect(text).toMatch(
      /-\s+delete\s+kubernetes:networking\.istio\.io\/v1:DestinationRule\s+locality-reviews/,
    );
    expect(text).toMatch(/~\s+update\s+kubernetes:core\/v1:Namespace\s+bookinfo-namespace\s+\[metadata\]/);
  });

  it("flags replacements loudly, with what forces them", () => {
    expect(text).toMatch(
      /REPLACE\s+kubernetes:apps\/v1:Deployment\s+bookinfo-client-zone-a\s+<-- deleted and created again \(forced by spec\.selector\)/,
    );
    expect(text).toContain("!!! 1 resource(s) would be REPLACED (deleted and created again):");
    expect(text).toContain("!!!   kubernetes:apps/v1:Deployment  bookinfo-client-zone-a");
  });

  it("ends with the change summary and the program's warnings", () => {
    expect(text).toContain(
      "Change summary: 2 to create, 3 to update, 1 to replace, 1 to delete, 2 to leave unchanged.",
    );
    expect(text).toContain("warning: locality `strict` in ambient mode behaves as `failover`");
  });

  it("says so when nothing changes, without a replacement banner", () => {
    const quiet = renderPlan({
      ...plan,
      steps: [],
      replacements: [],
      changeSummary: { same: 40 },
      warnings: [],
    });
    expect(quiet).toContain("No resource would change.");
    expect(quiet).toContain("Change summary: 40 to leave unchanged.");
    expect(quiet).not.toContain("!!!");
  });
});

describe("withDataplaneMode", () => {
  const stackFile = [
    "secretsprovider: passphrase",
    "encryptionsalt: v1:7ZSg2gxU1bM=:v1:DQ9Cn5pDkWqSdmKx:xdGq3Pzd6cMKJvQ0ZZnmhcCbbnVQ8A==",
    "config:",
    "  istio-locality:dataplaneMode: sidecar",
    "  istio-locality:locality: failover",
    "  istio-locality:cluster:",
    "    provider: existing",
    "    kubeconfig: ~/.kube/config",
    "  istio-locality:token:",
    "    secure: v1:Ji2HK1ZsvA6x5kpX:TmPl0OmgdZJw8cHIxmYoHjA+hM8=",
    "",
  ].join("\n");

  it("changes only the mode, keeping secrets, salt and other keys", () => {
    const copy = yaml.load(withDataplaneMode(stackFile, "ambient"));
    const original = yaml.load(stackFile) as { config: Record<string, unknown> };
    expect(copy).toEqual({ ...original, config: { ...original.config, [MODE_KEY]: "ambient" } });
  });

  it("writes a config file for a stack that has none", () => {
    expect(yaml.load(withDataplaneMode(undefined, "sidecar"))).toEqual({ config: { [MODE_KEY]: "sidecar" } });
  });

  it("is read back by configuredMode", () => {
    expect(configuredMode(stackFile)).toBe("sidecar");
    expect(configuredMode(withDataplaneMode(stackFile, "ambient"))).toBe("ambient");
    expect(configuredMode("config: {}\n")).toBeUndefined();
    expect(configuredMode(undefined)).toBeUndefined();
  });
});

describe("small helpers", () => {
  it("nameFromUrn takes the last URN segment", () => {
    expect(
      nameFromUrn(
        "urn:pulumi:sidecar::istio-locality::pulumi:pulumi:Stack$istio-locality:istio:Istio$kubernetes:helm.sh/v3:Release::istio-cni",
      ),
    ).toBe("istio-cni");
  });
});
