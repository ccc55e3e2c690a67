import { HealthSnapshot } from "../../../cli/shared/workloads";
import { judgeRound } from "../../../cli/verify/judge";
import { ProbeRecord } from "../../../cli/switch/probe";
import { formatCount, formatPercent, renderTable } from "../../../cli/shared/table";
import { goalLine, renderSwitchTable, switchResult } from "../../../cli/switch/report";
import { VerifyRound, renderVerifyRound } from "../../../cli/verify/report";
import { runStats, switchStats } from "../../../cli/switch/stats";
import { tallyZone } from "../../../cli/verify/tally";
import { Outcome } from "../../../cli/shared/answers";

const T0 = Date.parse("2025-12-18T05:00:00Z");

function records(zone: string, count: number, failing: (i: number) => boolean): ProbeRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    zone,
    start: T0 + i * 50,
    end: T0 + i * 50 + 10,
    seq: i + 1,
    httpCode: failing(i) ? 503 : 200,
    curlExit: 0,
    error: "",
    ok: !failing(i),
  }));
}

function answer(version: string, zone: string): Outcome {
  return {
    kind: "answer",
    version: version as "v1",
    zone,
    zoneSource: "clustername",
    pod: "p",
    ratings: "none",
  };
}

describe("renderTable", () => {
  it("pads columns to the widest cell and aligns numbers right", () => {
    expect(
      renderTable(
        ["zone", "n"],
        [
          ["zone-a", "5"],
          ["b", "100"],
        ],
        ["left", "right"],
      ),
    ).toBe(["zone      n", "------  ---", "zone-a    5", "b       100"].join("\n"));
  });
});

describe("formatting", () => {
  it("formats counts and rates the way the blog reported them", () => {
    expect(formatCount(2540)).toBe("2,540");
    expect(formatPercent(2534 / 2540)).toBe("99.76 %");
    expect(formatPercent(1)).toBe("100.00 %");
    expect(formatPercent(null)).toBe("—");
  });

  it("never shows a rate with failures as 100 %", () => {
    expect(formatPercent(99999 / 100000)).toBe("99.99 %");
  });
});

describe("renderSwitchTable", () => {
  const stats = switchStats(
    ["zone-a", "zone-b"],
    [...records("zone-a", 1270, (i) => i >= 600 && i < 606), ...records("zone-b", 1270, () => false)],
  );
  const text = renderSwitchTable(stats);

  it("has a row per zone and a total, with requests, failures, rate, longest gap and kinds", () => {
    const lines = text.split("\n");
    expect(lines[0]).toMatch(
      /^zone\s+requests\s+failed\s+success rate\s+longest without success\s+failures by kind$/,
    );
    expect(lines[2]).toMatch(/^zone-a\s+1,270\s+6\s+99\.53 %\s+0\.3 s\s+http-503: 6$/);
    expect(lines[3]).toMatch(/^zone-b\s+1,270\s+0\s+100\.00 %\s+0\.0 s\s+-$/);
    expect(lines[4]).toMatch(/^total\s+2,540\s+6\s+99\.76 %\s+0\.0 s\s+http-503: 6$/);
  });

  it("ends with the goal line", () => {
    expect(text.split("\n").pop()).toBe('goal "0 failed of at least 2,500": NOT MET (6 failed)');
  });
});

describe("goalLine", () => {
  it("says what is missing", () => {
    expect(goalLine(runStats(records("z", 2500, () => false)))).toBe(
      'goal "0 failed of at least 2,500": MET (2,500 requests, none failed)',
    );
    expect(goalLine(runStats(records("z", 1200, (i) => i === 1)))).toBe(
      'goal "0 failed of at least 2,500": NOT MET (1 failed; only 1,200 requests; raise --rate or --settle)',
    );
  });
});

describe("renderVerifyRound", () => {
  const healthy: HealthSnapshot = {
    "zone-a": { reviews: 1, productpage: 1 },
    "zone-b": { reviews: 1, productpage: 1 },
  };
  const tallies = [
    tallyZone(
      "zone-a",
      "reviews",
      Array.from({ length: 100 }, () => answer("v1", "zone-a")),
    ),
    tallyZone("zone-b", "reviews", [
      ...Array.from({ length: 98 }, () => answer("v2", "zone-b")),
      answer("v1", "zone-a"),
      { kind: "error", error: "no-healthy-upstream", detail: "" },
    ]),
  ];
  const round: VerifyRound = {
    label: "locality check",
    tallies,
    verdict: judgeRound("strict", tallies, healthy, healthy),
    before: healthy,
    after: healthy,
  };
  const text = renderVerifyRound(round);

  it("tables client zone × answering version@zone and error kinds, with a verdict per row", () => {
    const lines = text.split("\n");
    expect(lines[0]).toBe("locality check (judged as locality `strict`)");
    expect(lines[1]).toMatch(/^client zone\s+path\s+v1@zone-a\s+v2@zone-b\s+no-healthy-upstream\s+verdict$/);
    expect(lines[3]).toMatch(/^zone-a\s+reviews\s+100\s+0\s+0\s+ok$/);
    expect(lines[4]).toMatch(/^zone-b\s+reviews\s+1\s+98\s+1\s+VIOLATION$/);
  });

  it("lists the findings and the result", () => {
    expect(text).toContain(
      "VIOLATION zone-b reviews: 1 answer from other zones; strict keeps zone-b's traffic in zone-b",
    );
    expect(text).toContain("FAILED    zone-b reviews: 1 error while zone-b has ready reviews endpoints");
    expect(text).toContain(
      "ready endpoints before: zone-a: 1 reviews, 1 productpage; zone-b: 1 reviews, 1 productpage",
    );
    expect(text.split("\n").pop()).toBe("result: BROKEN");
  });
});

describe("switchResult", () => {
  it("has the documented JSON shape, with ISO times and the goal", () => {
    const stats = switchStats(
      ["zone-a"],
      records("zone-a", 2540, (i) => i < 6),
    );
    const result = switchResult({
      stack: "sidecar",
      from: "sidecar",
      to: "ambient",
      ratePerZone: 20,
      settleSeconds: 30,
      timeline: {
        probesReady: T0,
        upStart: T0 + 5000,
        upEnd: T0 + 95000,
        rolloutDone: undefined,
        probesStopped: T0 + 130000,
      },
      up: { result: "succeeded" },
      stats,
      verify: { ok: true, summary: "locality holds" },
    });
    const parsed = JSON.parse(JSON.stringify(result)) as typeof result;
    expect(parsed).toEqual({
      schema: "istio-locality/switch-result@1",
      stack: "sidecar",
      from: "sidecar",
      to: "ambient",
      ratePerZone: 20,
      settleSeconds: 30,
      timeline: {
        probesReady: "2025-12-18T05:00:00.000Z",
        upStart: "2025-12-18T05:00:05.000Z",
        upEnd: "2025-12-18T05:01:35.000Z",
        rolloutDone: null,
        probesStopped: "2025-12-18T05:02:10.000Z",
      },
      up: { result: "succeeded" },
      zones: [
        expect.objectContaining({
          zone: "zone-a",
          requests: 2540,
          failures: 6,
          firstRequest: "2025-12-18T05:00:00.000Z",
        }),
      ],
      total: expect.objectContaining({ requests: 2540, failures: 6, failuresByKind: { "http-503": 6 } }),
      goal: { minRequests: 2500, maxFailures: 0, met: false },
      verify: { ok: true, summary: "locality holds" },
    });
    expect(parsed.total.successRate).toBeCloseTo(2534 / 2540, 10);
    expect(parsed.total.longestNoSuccessSeconds).toBeCloseTo(0.3, 6);
    expect(parsed.total.lastRequest).toBe("2025-12-18T05:02:06.960Z");
  });
});
