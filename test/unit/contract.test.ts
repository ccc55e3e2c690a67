import * as fs from "node:fs";
import * as path from "node:path";
import {
  DATAPLANE_MODES,
  OutputMap,
  StackOutputsError,
  currentMode,
  otherMode,
  readToolOutputs,
} from "../../stacks/contract";

const outputs = JSON.parse(
  fs.readFileSync(path.join(__dirname, "..", "fixtures", "cli", "stack-outputs.json"), "utf8"),
) as OutputMap;

function without(map: OutputMap, ...keys: string[]): OutputMap {
  return Object.fromEntries(Object.entries(map).filter(([key]) => !keys.includes(key)));
}

describe("readToolOutputs", () => {
  it("reads the outputs the tools need from a deployed stack's outputs", () => {
    const read = readToolOutputs(outputs, "sidecar");
    expect(read).toMatchObject({
      dataplaneMode: "sidecar",
      locality: "strict",
      zones: ["zone-a", "zone-b", "zone-c"],
      bookinfoNamespace: "bookinfo",
      reviewsZones: { v1: "zone-a", v2: "zone-b", v3: "zone-c" },
      clientImage: "curlimages/curl:8.16.0",
    });
    expect(read.kubeconfig).toContain("current-context: istio-locality-sidecar");
    expect(read.localityMechanism).toMatch(/^DestinationRule/);
  });

  it("names a missing output and how to get it", () => {
    expect(() => readToolOutputs(without(outputs, "zones"), "sidecar")).toThrow(
      new StackOutputsError("stack `sidecar` has no output `zones`; deploy it first (`pulumi up`)"),
    );
  });

  it.each([
    ["locality", "loose", 'output `locality` is "loose"; expected one of `strict`, `failover`, `off`'],
    ["dataplaneMode", "mesh", 'output `dataplaneMode` is "mesh"; expected one of `sidecar`, `ambient`'],
    ["reviewsZones", { v1: "zone-a" }, "expected a map of reviews version (`v1`, `v2`, `v3`) to zone"],
  ])("names a malformed output %s and what was expected", (key, value, message) => {
    expect(() => readToolOutputs({ ...outputs, [key]: { value } }, "s")).toThrow(message);
  });
});

describe("currentMode", () => {
  it.each(DATAPLANE_MODES.flatMap((lastRun) => DATAPLANE_MODES.map((configured) => [lastRun, configured])))(
    "believes the last run (%s) over the stack config (%s), which a failed up leaves at the target",
    (lastRun, configured) => {
      expect(currentMode(lastRun, configured)).toEqual({ mode: lastRun, source: "last run" });
    },
  );

  it("believes the one whole mode the cluster runs over the outputs, which a cancelled up writes at the target", () => {
    expect(currentMode("ambient", "ambient", "sidecar")).toEqual({ mode: "sidecar", source: "cluster" });
    expect(currentMode("sidecar", undefined, "ambient")).toEqual({ mode: "ambient", source: "cluster" });
  });

  it("falls back to the stack config, then the project default, for a stack that never ran", () => {
    expect(currentMode(undefined, "ambient")).toEqual({ mode: "ambient", source: "stack config" });
    expect(currentMode(undefined, undefined)).toEqual({ mode: "sidecar", source: "project default" });
  });

  it("switches to the other mode", () => {
    expect(DATAPLANE_MODES.map(otherMode)).toEqual(["ambient", "sidecar"]);
  });
});
