import { ProbeRecord, parseProbeLog } from "../../../cli/switch/probe";
import {
  GOAL,
  goalMet,
  longestRunWithoutSuccess,
  perSecondBuckets,
  runStats,
  switchStats,
} from "../../../cli/switch/stats";
import { formatPercent } from "../../../cli/shared/table";
import { fixtureText } from "./fixture";

const T0 = Date.parse("2025-12-18T05:00:00Z");

/** `count` requests every `everyMs`, those with index in `failing` failed (HTTP 503). */
function series(
  zone: string,
  count: number,
  everyMs: number,
  failing: (i: number) => boolean,
): ProbeRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const start = T0 + i * everyMs;
    const ok = !failing(i);
    return { zone, start, end: start + 8, seq: i + 1, httpCode: ok ? 200 : 503, curlExit: 0, error: "", ok };
  });
}

describe("the blog's measurement: 2,540 requests, 6 failed within 3 s", () => {
  // Two requests a second; requests 1000–1005 fail, so 3 s pass between the first failure and the next success.
  const records = series("zone-a", 2540, 500, (i) => i >= 1000 && i <= 1005);
  const stats = runStats(records);

  it("counts requests and failures and gives 99.76 %", () => {
    expect(stats.requests).toBe(2540);
    expect(stats.failures).toBe(6);
    expect(stats.successRate).toBeCloseTo(2534 / 2540, 10);
    expect(formatPercent(stats.successRate)).toBe("99.76 %");
  });

  it("measures the longest stretch without a success as about 3 s", () => {
    expect(stats.longestNoSuccessSeconds).toBeCloseTo(3, 6);
  });

  it("counts failures by kind and spans the run", () => {
    expect(stats.failuresByKind).toEqual({ "http-503": 6 });
    expect(stats.firstRequestAt).toBe(T0);
    expect(stats.lastRequestAt).toBe(T0 + 2539 * 500 + 8);
  });

  it("misses the goal, which wants 0 failed of at least 2,500", () => {
    expect(GOAL).toEqual({ minRequests: 2500, maxFailures: 0 });
    expect(goalMet(stats)).toBe(false);
    expect(goalMet(runStats(series("zone-a", 2540, 500, () => false)))).toBe(true);
    expect(goalMet(runStats(series("zone-a", 2499, 500, () => false)))).toBe(false);
  });
});

describe("longestRunWithoutSuccess", () => {
  it("is 0 without failures and reaches to the last request's end when no success followed", () => {
    expect(longestRunWithoutSuccess(series("z", 10, 50, () => false))).toBe(0);
    expect(longestRunWithoutSuccess(series("z", 10, 100, (i) => i >= 8))).toBeCloseTo(0.108, 6);
  });

  it("sorts by start time, since zones' lines interleave", () => {
    const records = series("z", 6, 1000, (i) => i === 2).reverse();
    expect(longestRunWithoutSuccess(records)).toBeCloseTo(1, 6);
  });

  it("spans a serial probe's timeout: from the first failure to the next start", () => {
    const { records } = parseProbeLog("zone-a", fixtureText("probe-zone-a.log"));
    expect(longestRunWithoutSuccess(records)).toBeCloseTo(5.151, 3);
  });
});

describe("perSecondBuckets", () => {
  it("counts requests and successes per second since the origin, keeping empty seconds", () => {
    const records = [
      ...series("z", 4, 250, (i) => i === 1),
      ...series("z", 1, 0, () => false).map((r) => ({ ...r, start: T0 + 2500 })),
    ];
    expect(perSecondBuckets(records, T0)).toEqual([
      { second: 0, requests: 4, ok: 3 },
      { second: 1, requests: 0, ok: 0 },
      { second: 2, requests: 1, ok: 1 },
    ]);
  });

  it("leaves out requests before the origin", () => {
    expect(
      perSecondBuckets(
        series("z", 3, 1000, () => false),
        T0 + 1000,
      ),
    ).toEqual([
      { second: 0, requests: 1, ok: 1 },
      { second: 1, requests: 1, ok: 1 },
    ]);
  });
});

describe("switchStats", () => {
  it("gives each zone its own figures, in zone order, and the total over all", () => {
    const records = [...series("zone-b", 20, 50, (i) => i === 3), ...series("zone-a", 20, 50, () => false)];
    const stats = switchStats(["zone-a", "zone-b", "zone-c"], records);
    expect(stats.zones.map((z) => [z.zone, z.requests, z.failures])).toEqual([
      ["zone-a", 20, 0],
      ["zone-b", 20, 1],
      ["zone-c", 0, 0],
    ]);
    expect(stats.zones[2].successRate).toBeNull();
    expect(stats.total).toMatchObject({ requests: 40, failures: 1 });
    // zone-a answered while zone-b failed, so overall there was no stretch without any success
    expect(stats.total.longestNoSuccessSeconds).toBe(0);
  });
});
