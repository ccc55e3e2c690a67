import type { V1EndpointSlice } from "@kubernetes/client-node";
import { Outcome } from "../../../cli/shared/answers";
import { HealthSnapshot } from "../../../cli/shared/workloads";
import {
  judgingIntent,
  judgeRound,
  judgeTally,
  ownZoneHealth,
  pathServable,
  verdictCell,
} from "../../../cli/verify/judge";
import { answerColumns, errorColumns, tallyZone } from "../../../cli/verify/tally";
import { healthFromEndpointSlices } from "../../../cli/shared/workloads";
import { fixtureJson } from "./fixture";

function answers(version: string, zone: string, count: number): Outcome[] {
  return Array.from({ length: count }, () => ({
    kind: "answer" as const,
    version: version as "v1",
    zone,
    zoneSource: "clustername" as const,
    pod: `reviews-${version}-abc`,
    ratings: "none" as const,
  }));
}

function errors(error: "no-healthy-upstream" | "timeout", count: number): Outcome[] {
  return Array.from({ length: count }, () => ({ kind: "error" as const, error, detail: "" }));
}

const HEALTHY: HealthSnapshot = {
  "zone-a": { reviews: 1, productpage: 1 },
  "zone-b": { reviews: 1, productpage: 1 },
  "zone-c": { reviews: 1, productpage: 1 },
};
const A_DRAINED: HealthSnapshot = { ...HEALTHY, "zone-a": { reviews: 0, productpage: 1 } };
const NOTHING: HealthSnapshot = {
  "zone-a": { reviews: 0, productpage: 1 },
  "zone-b": { reviews: 0, productpage: 1 },
  "zone-c": { reviews: 0, productpage: 1 },
};

describe("tallyZone", () => {
  it("counts answers by version@zone, own and cross zone, errors by kind", () => {
    const tally = tallyZone("zone-a", "reviews", [
      ...answers("v1", "zone-a", 97),
      ...answers("v2", "zone-b", 2),
      ...errors("no-healthy-upstream", 1),
    ]);
    expect(tally).toMatchObject({
      total: 100,
      ownZone: 97,
      crossZone: 2,
      failed: 1,
      unknownZone: 0,
      answers: { "v1@zone-a": 97, "v2@zone-b": 2 },
      errors: { "no-healthy-upstream": 1 },
    });
  });

  it("orders answer columns by zone, then version, and lists each error kind once", () => {
    const tallies = [
      tallyZone("zone-b", "reviews", [...answers("v2", "zone-b", 1), ...errors("timeout", 1)]),
      tallyZone("zone-a", "reviews", [...answers("v1", "zone-a", 1), ...errors("timeout", 2)]),
    ];
    expect(answerColumns(tallies)).toEqual(["v1@zone-a", "v2@zone-b"]);
    expect(errorColumns(tallies)).toEqual(["timeout"]);
  });
});

describe("judgingIntent", () => {
  it("judges strict in ambient as failover and says why", () => {
    const judged = judgingIntent("ambient", "strict");
    expect(judged.intent).toBe("failover");
    expect(judged.note).toMatch(/PreferClose/);
  });

  it.each([
    ["sidecar", "strict"],
    ["sidecar", "failover"],
    ["ambient", "failover"],
    ["ambient", "off"],
  ] as const)("keeps %s/%s as it is", (mode, intent) => {
    expect(judgingIntent(mode, intent)).toEqual({ intent });
  });
});

describe("judgeTally", () => {
  const local = tallyZone("zone-a", "reviews", answers("v1", "zone-a", 100));
  const leaked = tallyZone("zone-a", "reviews", [
    ...answers("v1", "zone-a", 90),
    ...answers("v2", "zone-b", 10),
  ]);
  const failedOver = tallyZone("zone-a", "reviews", [
    ...answers("v2", "zone-b", 60),
    ...answers("v3", "zone-c", 40),
  ]);
  const erroring = tallyZone("zone-a", "reviews", errors("no-healthy-upstream", 100));

  it.each(["strict", "failover", "off"] as const)(
    "%s: all answers local and healthy → no finding",
    (intent) => {
      expect(judgeTally(intent, local, true, true)).toEqual([]);
    },
  );

  describe("strict", () => {
    it("any cross-zone answer is a violation, healthy or not", () => {
      for (const own of [true, false]) {
        const [finding] = judgeTally("strict", leaked, own, true);
        expect(finding.severity).toBe("violation");
        expect(finding.message).toBe("10 answers from other zones; strict keeps zone-a's traffic in zone-a");
      }
    });

    it("errors while the own zone is healthy fail", () => {
      expect(judgeTally("strict", erroring, true, true)).toEqual([
        expect.objectContaining({
          severity: "failure",
          message: "100 errors while zone-a has ready reviews endpoints",
        }),
      ]);
    });

    it("errors without an own-zone endpoint are expected, by design", () => {
      expect(judgeTally("strict", erroring, false, true)).toEqual([
        expect.objectContaining({
          severity: "expected",
          message: expect.stringContaining("does not fail over (by design)"),
        }),
      ]);
    });
  });

  describe("failover", () => {
    it("a cross-zone answer while the own zone is healthy is a violation", () => {
      expect(judgeTally("failover", leaked, true, true)).toEqual([
        expect.objectContaining({
          severity: "violation",
          message: "10 answers from other zones while zone-a has ready reviews endpoints",
        }),
      ]);
    });

    it("cross-zone answers without an own-zone endpoint are the failover working", () => {
      expect(judgeTally("failover", failedOver, false, true)).toEqual([
        expect.objectContaining({
          severity: "expected",
          message: expect.stringContaining("so it fails over"),
        }),
      ]);
    });

    it("errors while another zone could answer fail; with no endpoint anywhere they are expected", () => {
      expect(judgeTally("failover", erroring, false, true)[0].severity).toBe("failure");
      expect(judgeTally("failover", erroring, false, false)[0]).toMatchObject({
        severity: "expected",
        message: "100 errors: no zone has ready endpoints",
      });
    });
  });

  describe("off", () => {
    it("reports cross-zone answers without failing", () => {
      expect(judgeTally("off", leaked, true, true)).toEqual([
        expect.objectContaining({ severity: "note", message: "10 answers from other zones (locality off)" }),
      ]);
    });

    it("still fails on errors while something could answer", () => {
      expect(judgeTally("off", erroring, true, true)[0].severity).toBe("failure");
    });
  });

  it("does not judge answers when the own zone's endpoints changed during the requests", () => {
    expect(judgeTally("strict", leaked, "changed", true)).toEqual([
      expect.objectContaining({
        severity: "note",
        message: expect.stringContaining("changed during the requests"),
      }),
    ]);
  });
});

describe("health", () => {
  it("counts only ready, non-terminating endpoints per zone, placing zoneless ones by node", () => {
    const slices = fixtureJson<V1EndpointSlice[]>("endpointslices.json");
    const nodeZones = { "istio-locality-sidecar-m03": "zone-c" };
    expect(healthFromEndpointSlices(slices, ["zone-a", "zone-b", "zone-c"], nodeZones)).toEqual({
      "zone-a": { reviews: 1, productpage: 1 },
      "zone-b": { reviews: 1, productpage: 1 },
      "zone-c": { reviews: 0, productpage: 1 },
    });
  });

  it("needs productpage as well as reviews for the productpage path", () => {
    const snapshot: HealthSnapshot = { "zone-a": { reviews: 1, productpage: 0 } };
    expect(ownZoneHealth("reviews", "zone-a", snapshot, snapshot)).toBe(true);
    expect(ownZoneHealth("productpage", "zone-a", snapshot, snapshot)).toBe(false);
    expect(pathServable("productpage", snapshot)).toBe(false);
    expect(ownZoneHealth("reviews", "zone-a", HEALTHY, A_DRAINED)).toBe("changed");
  });
});

describe("judgeRound", () => {
  it("passes a strict round where every zone stays local", () => {
    const tallies = ["zone-a", "zone-b", "zone-c"].map((zone, i) =>
      tallyZone(zone, "reviews", answers(`v${i + 1}`, zone, 100)),
    );
    const verdict = judgeRound("strict", tallies, HEALTHY, HEALTHY);
    expect(verdict).toEqual({ ok: true, intent: "strict", findings: [] });
    expect(verdictCell(verdict.findings, "zone-a", "reviews")).toBe("ok");
  });

  it("fails a failover round with a leak from a healthy zone and marks that cell", () => {
    const tallies = [
      tallyZone("zone-a", "reviews", answers("v1", "zone-a", 100)),
      tallyZone("zone-b", "reviews", [...answers("v2", "zone-b", 97), ...answers("v3", "zone-c", 3)]),
    ];
    const verdict = judgeRound("failover", tallies, HEALTHY, HEALTHY);
    expect(verdict.ok).toBe(false);
    expect(verdictCell(verdict.findings, "zone-b", "reviews")).toBe("VIOLATION");
    expect(verdictCell(verdict.findings, "zone-a", "reviews")).toBe("ok");
  });

  describe("drill: zone-a's reviews at 0", () => {
    it("strict: errors are expected and pass", () => {
      const verdict = judgeRound(
        "strict",
        [tallyZone("zone-a", "reviews", errors("no-healthy-upstream", 100))],
        A_DRAINED,
        A_DRAINED,
        "zone-a",
      );
      expect(verdict.ok).toBe(true);
      expect(verdictCell(verdict.findings, "zone-a", "reviews")).toBe("expected");
    });

    it("failover: answers from other zones are expected and pass", () => {
      const tally = tallyZone("zone-a", "productpage", [
        ...answers("v2", "zone-b", 50),
        ...answers("v3", "zone-c", 50),
      ]);
      expect(judgeRound("failover", [tally], A_DRAINED, A_DRAINED, "zone-a").ok).toBe(true);
    });

    it("failover: errors while other zones are up fail", () => {
      const tally = tallyZone("zone-a", "reviews", errors("no-healthy-upstream", 100));
      expect(judgeRound("failover", [tally], A_DRAINED, A_DRAINED, "zone-a").ok).toBe(false);
    });

    it("answers still coming from the drained zone fail the drill", () => {
      const verdict = judgeRound(
        "failover",
        [tallyZone("zone-a", "reviews", answers("v1", "zone-a", 5))],
        A_DRAINED,
        A_DRAINED,
        "zone-a",
      );
      expect(verdict.ok).toBe(false);
      expect(verdict.findings).toContainEqual(
        expect.objectContaining({
          severity: "failure",
          message: "5 answers still came from zone-a after its reviews were scaled to 0",
        }),
      );
    });
  });

  it("expects errors when no zone has reviews at all, under any intent but strict with health", () => {
    const tally = tallyZone("zone-b", "reviews", errors("no-healthy-upstream", 10));
    expect(judgeRound("failover", [tally], NOTHING, NOTHING).ok).toBe(true);
    expect(judgeRound("off", [tally], NOTHING, NOTHING).ok).toBe(true);
  });
});
