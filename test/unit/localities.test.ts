import { localityLbSetting } from "../../stacks/destination-rules";
import { parseConfig } from "../../stacks/config";
import { localityProblems } from "../../stacks/localities";

/** Every locality a strict rule names: each `from` and each key of each `to`. */
function strictLocalities(zones: string[], region: string): string[] {
  const setting = localityLbSetting("strict", zones, region) as {
    distribute: { from: string; to: Record<string, number> }[];
  };
  return setting.distribute.flatMap((rule) => [rule.from, ...Object.keys(rule.to)]);
}

describe("localityProblems", () => {
  it.each([
    "*",
    "region-1",
    "region-1/*",
    "region-1/zone-a",
    "region-1/zone-a/*",
    "region-1/zone-a/rack-7",
    "us-east1/us-east1-b/*",
  ])("accepts %s, as Istio does", (locality) => {
    expect(localityProblems(locality)).toBeUndefined();
  });

  it.each([
    ["*/zone-a/*", "locality */zone-a/* wildcard '*' number can not exceed 1 and must be in the end"],
    ["*/zone-a", "locality */zone-a wildcard '*' number can not exceed 1 and must be in the end"],
    ["region-1/*/*", "locality region-1/*/* wildcard '*' number can not exceed 1 and must be in the end"],
    [
      "region-*/zone-a",
      "locality region-*/zone-a wildcard '*' number can not exceed 1 and must be in the end",
    ],
    ["", "locality  must not contain empty region/zone/subzone info"],
    ["region-1//*", "locality region-1//* must not contain empty region/zone/subzone info"],
    ["/zone-a/*", "locality /zone-a/* must not contain empty region/zone/subzone info"],
    ["region-1/", "locality region-1/ must not contain empty region/zone/subzone info"],
  ])("rejects %j with Istio's message", (locality, message) => {
    expect(localityProblems(locality)).toBe(message);
  });

  it("checks the wildcard before empty parts, in Istio's order", () => {
    expect(localityProblems("*//zone-a")).toContain("wildcard '*' number can not exceed 1");
  });

  it("rejects more than three parts, which Istio would keep as a subzone no node carries", () => {
    expect(localityProblems("region-1/zone-a/rack-7/*")).toBe(
      "locality region-1/zone-a/rack-7/* has 4 parts; expected at most 3 (region/zone/subzone)",
    );
  });
});

describe("the localities of strict rules", () => {
  it("reject the old any-region form, as Istio's webhook did", () => {
    expect(localityProblems("*/zone-a/*")).toBe(
      "locality */zone-a/* wildcard '*' number can not exceed 1 and must be in the end",
    );
  });

  it.each<[string, Record<string, unknown>]>([
    ["the defaults", {}],
    ["two zones", { zones: ["east", "west"], cluster: { nodes: 2 } }],
    ["a cloud's region and zones", { zones: ["us-east1-b", "us-east1-c"], cluster: { region: "us-east1" } }],
    ["dots and underscores", { zones: ["Zone_A.1"], cluster: { region: "Region.1_x" } }],
  ])("pass Istio's validation for %s", (_, raw) => {
    const config = parseConfig(raw, "sidecar");
    const localities = strictLocalities(config.zones, config.cluster.region);
    expect(localities).toHaveLength(2 * config.zones.length);
    for (const locality of localities) {
      expect([locality, localityProblems(locality)]).toEqual([locality, undefined]);
    }
  });
});
