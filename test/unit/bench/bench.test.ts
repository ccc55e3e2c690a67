import * as fs from "fs";
import * as path from "path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { UsageError } from "../../../cli/shared/exit";
import { ENGINE_PARALLEL } from "../../../stacks/contract";
import { busyPercent, readCpuTimes } from "../../bench/cpu";
import { benchConfig, OperationTracker, zoneNames } from "../../bench/cycle";
import { NO_COUNTS, plus, pushesOf, readMetrics, since } from "../../bench/istiod-metrics";
import { parseBenchOptions } from "../../bench/options";
import { benchChartSpec, benchMatrix, benchTable, growthLines, renderBenchSvg } from "../../bench/report";
import { growth, spread, StepSample, summarise } from "../../bench/stats";

const fixture = (name: string) =>
  fs.readFileSync(path.join(__dirname, "..", "..", "fixtures", "bench", name), "utf8");
/** Two readings of the lab's istiod, the second after the switch had restarted it. */
const FIRST = readMetrics(fixture("istiod-metrics-1.txt"));
const RESTARTED = readMetrics(fixture("istiod-metrics-2-restarted.txt"));

const sample = (over: Partial<StepSample>): StepSample => ({
  zones: 3,
  replicas: 1,
  run: 1,
  step: "up",
  seconds: 10,
  engineMiB: 100,
  providersMiB: 120,
  programMiB: 300,
  resources: 54,
  widest: 8,
  ...over,
});

describe("spread", () => {
  it("gives min, median and max; the median of an even count is the mean of the middle two", () => {
    expect(spread([5, 1, 3])).toEqual({ min: 1, median: 3, max: 5 });
    expect(spread([4, 1, 3, 2])).toEqual({ min: 1, median: 2.5, max: 4 });
  });

  it("refuses to summarise nothing", () => {
    expect(() => spread([])).toThrow("no values to summarise");
  });
});

describe("summarise", () => {
  it("groups runs by size and step, in size order and the cycle's step order", () => {
    const summaries = summarise([
      sample({ zones: 12, step: "destroy", seconds: 40 }),
      sample({ zones: 3, step: "destroy", seconds: 20 }),
      sample({ zones: 3, step: "up", seconds: 12, run: 1 }),
      sample({ zones: 3, step: "up", seconds: 10, run: 2 }),
      sample({ zones: 3, step: "up", seconds: 30, run: 3, widest: 16 }),
    ]);
    expect(summaries.map((s) => [s.zones, s.step, s.runs])).toEqual([
      [3, "up", 3],
      [3, "destroy", 1],
      [12, "destroy", 1],
    ]);
    expect(summaries[0].seconds).toEqual({ min: 10, median: 12, max: 30 });
    expect(summaries[0].widest).toBe(16);
  });

  it("keeps the slowest operation of any run", () => {
    const [summary] = summarise([
      sample({ slowest: { resource: "kubernetes:apps/v1:Deployment::a", seconds: 11 } }),
      sample({ run: 2, slowest: { resource: "kubernetes:apps/v1:Deployment::b", seconds: 19 } }),
      sample({ run: 3 }),
    ]);
    expect(summary.slowest).toEqual({ resource: "kubernetes:apps/v1:Deployment::b", seconds: 19 });
  });

  const istiod = (slowest: number | null, timed = 5) => ({
    pushes: 10,
    timed,
    debounceMeanMs: 100,
    convergenceMeanMs: timed ? 2 : 0,
    convergenceSlowestMs: timed ? slowest : null,
  });

  it("says istiod's slowest convergence is beyond its buckets when any run's was", () => {
    const [within] = summarise([sample({ istiod: istiod(100) }), sample({ run: 2, istiod: istiod(500) })]);
    expect(within.istiod?.convergenceSlowestMs).toBe(500);
    const [beyond] = summarise([sample({ istiod: istiod(100) }), sample({ run: 2, istiod: istiod(null) })]);
    expect(beyond.istiod?.convergenceSlowestMs).toBeNull();
    expect(summarise([sample({ step: "destroy" })])[0].istiod).toBeUndefined();
  });

  it("leaves runs whose clients only got their first configuration (nothing timed) out of the convergence", () => {
    const [summary] = summarise([
      sample({ istiod: istiod(null, 0) }),
      sample({ run: 2, istiod: istiod(100) }),
    ]);
    expect(summary.istiod).toMatchObject({
      timed: { min: 0, max: 5 },
      convergenceMeanMs: { median: 2 },
      convergenceSlowestMs: 100,
    });
    const [none] = summarise([sample({ istiod: istiod(null, 0) })]);
    expect([none.istiod?.convergenceMeanMs, none.istiod?.convergenceSlowestMs]).toEqual([undefined, null]);
  });
});

describe("growth", () => {
  it("divides each step's median at the largest size by the smallest's, with the stack's own growth", () => {
    const summaries = summarise([
      sample({ zones: 3, seconds: 40, resources: 54 }),
      sample({ zones: 6, seconds: 60, resources: 70 }),
      sample({ zones: 12, seconds: 100, resources: 99 }),
      sample({ zones: 3, step: "destroy", seconds: 20 }),
    ]);
    expect(growth(summaries)).toEqual([
      { replicas: 1, step: "up", fromZones: 3, toZones: 12, ratio: 2.5, resourcesRatio: 99 / 54 },
    ]);
  });

  it("has nothing to compare with one size", () => {
    expect(growth(summarise([sample({})]))).toEqual([]);
  });
});

describe("istiod's metrics", () => {
  it("reads pushes without the error types, the two histograms and the process start", () => {
    expect(FIRST.startedAt).toBe(1.7963150606e9);
    expect(FIRST.counts.pushes).toBe(37 + 207 + 37);
    expect(FIRST.counts.convergence.count).toBe(203);
    expect(FIRST.counts.debounce.sum).toBeCloseTo(3.9257, 4);
    expect(FIRST.counts.convergence.buckets[0]).toEqual([0.1, 203]);
    expect(FIRST.counts.convergence.buckets.at(-1)).toEqual([Infinity, 203]);
  });

  it("counts everything a restarted istiod reports as new, though its totals are higher than before", () => {
    expect(RESTARTED.counts.pushes).toBeGreaterThan(FIRST.counts.pushes);
    expect(since(FIRST, RESTARTED)).toEqual(RESTARTED.counts);
    expect(since(undefined, FIRST)).toEqual(FIRST.counts);
  });

  it("subtracts two readings of one process, bucket by bucket", () => {
    const later = { ...FIRST, counts: plus(FIRST.counts, FIRST.counts) };
    expect(since(FIRST, later)).toEqual(FIRST.counts);
    expect(since(FIRST, FIRST).pushes).toBe(0);
  });

  it("gives the mean times and the bound of the slowest bucket reached", () => {
    expect(pushesOf(FIRST.counts)).toEqual({
      pushes: 281,
      timed: 203,
      debounceMeanMs: (1000 * 3.925747847000002) / 30,
      convergenceMeanMs: (1000 * 1.8652653070000014) / 203,
      convergenceSlowestMs: 100,
    });
    // 21 of the restarted istiod's 2365 pushes took more than 0.1 s, none more than 0.5 s.
    expect(pushesOf(RESTARTED.counts).convergenceSlowestMs).toBe(500);
    const beyond = {
      ...NO_COUNTS,
      convergence: {
        count: 2,
        sum: 70,
        buckets: [[30, 1] as [number, number], [Infinity, 2] as [number, number]],
      },
    };
    expect(pushesOf(beyond).convergenceSlowestMs).toBeNull();
    expect(pushesOf(NO_COUNTS)).toEqual({
      pushes: 0,
      timed: 0,
      debounceMeanMs: 0,
      convergenceMeanMs: 0,
      convergenceSlowestMs: null,
    });
  });
});

describe("the machine's CPU", () => {
  // Two readings of this machine's /proc/stat, 2 cores.
  const BEFORE =
    "cpu  1914007 0 405273 5395065 23897 0 23002 49440 0 0\ncpu0 932190 0 193049 2742319 3717 0 9369 24512 0 0\n";
  const AFTER = "cpu  1914107 0 405323 5395105 23907 0 23012 49450 0 0\n";

  it("counts idle and iowait as not busy, and everything else up to steal as busy", () => {
    expect(readCpuTimes(BEFORE)).toEqual({
      busy: 1914007 + 405273 + 23002 + 49440,
      total: 1914007 + 405273 + 5395065 + 23897 + 23002 + 49440,
    });
    // 170 busy ticks of 220.
    expect(busyPercent(readCpuTimes(BEFORE), readCpuTimes(AFTER))).toBeCloseTo((100 * 170) / 220, 6);
  });

  it("refuses a /proc/stat without a cpu line", () => {
    expect(() => readCpuTimes("intr 1 2 3\n")).toThrow("/proc/stat has no cpu line");
  });
});

describe("OperationTracker", () => {
  const urn = (name: string) => `urn:pulumi:bench::istio-locality::kubernetes:apps/v1:Deployment::${name}`;
  const pre = (name: string, op: string) =>
    ({
      resourcePreEvent: { metadata: { op, urn: urn(name), type: "kubernetes:apps/v1:Deployment" } },
    }) as unknown as EngineEvent;
  const done = (name: string) =>
    ({
      resOutputsEvent: { metadata: { op: "update", urn: urn(name), type: "kubernetes:apps/v1:Deployment" } },
    }) as unknown as EngineEvent;

  it("counts the operations in flight at once and names the slowest; same steps and components do not count", () => {
    let now = 0;
    const tracker = new OperationTracker(() => now);
    tracker.onEvent(pre("a", "update"));
    tracker.onEvent(pre("b", "update"));
    tracker.onEvent(pre("c", "same"));
    // The stack and the program's components stay open while their children run.
    for (const type of ["pulumi:pulumi:Stack", "istio-locality:bookinfo:Bookinfo"]) {
      tracker.onEvent({
        resourcePreEvent: { metadata: { op: "update", urn: urn(type), type } },
      } as unknown as EngineEvent);
    }
    now = 4000;
    tracker.onEvent(done("a"));
    tracker.onEvent(pre("d", "create"));
    now = 13000;
    tracker.onEvent(done("b"));
    tracker.onEvent(done("c"));
    tracker.onEvent(done("d"));
    expect(tracker.widest).toBe(2);
    expect(tracker.slowest).toEqual({ resource: "kubernetes:apps/v1:Deployment::b", seconds: 13 });
  });
});

describe("the benchmark's sizes", () => {
  it("names zones as the program's default starts, up to z", () => {
    expect(zoneNames(3)).toEqual(["zone-a", "zone-b", "zone-c"]);
    expect(zoneNames(12).at(-1)).toBe("zone-l");
    expect(() => zoneNames(27)).toThrow("27 zones is out of range");
  });

  it("puts zone i on the lab's node i and keeps the program's defaults otherwise", () => {
    const config = benchConfig(
      { kubeconfig: "/lab.kubeconfig", profile: "lab", charts: "/charts", gatewayApi: "/crds.yaml" },
      6,
      3,
    ) as any;
    expect(config.cluster.nodeZones).toEqual({
      lab: "zone-a",
      "lab-m02": "zone-b",
      "lab-m03": "zone-c",
      "lab-m04": "zone-d",
      "lab-m05": "zone-e",
      "lab-m06": "zone-f",
    });
    expect(config.bookinfo).toEqual({ replicasPerZone: 3 });
    expect(Object.keys(config).sort()).toEqual(["bookinfo", "cluster", "dataplaneMode", "istio", "zones"]);
  });
});

describe("npm run bench options", () => {
  const options = (...argv: string[]) => {
    const parsed = parseBenchOptions(argv);
    if ("help" in parsed) throw new Error("help");
    return parsed.options;
  };

  it("defaults to the issue's sizes, 3 runs and the tools' parallelism", () => {
    expect(options()).toMatchObject({
      zones: [3, 6, 12],
      replicas: [1, 3],
      runs: 3,
      parallel: ENGINE_PARALLEL,
    });
  });

  it("sorts and de-duplicates sizes, and takes `engine` for the engine's own parallelism", () => {
    expect(options("--zones", "12,3,3", "--parallel", "engine")).toMatchObject({
      zones: [3, 12],
      parallel: "engine",
    });
  });

  it("gives the lab's nodes a real node's size unless told", () => {
    expect(options()).toMatchObject({ nodeCpus: 8, nodeMemory: "32Gi" });
    expect(options("--node-cpus", "2", "--node-memory", "4Gi")).toMatchObject({
      nodeCpus: 2,
      nodeMemory: "4Gi",
    });
    expect(() => options("--node-memory", "4G")).toThrow(
      "option '--node-memory <quantity>' argument '4G' is invalid. expected a quantity in Mi or Gi, such as 32Gi",
    );
  });

  it("runs the lab's control plane without client rate limits unless told to use Kubernetes' own", () => {
    expect(options()).toMatchObject({ controlPlaneRateLimits: "off" });
    expect(options("--control-plane-rate-limits", "upstream")).toMatchObject({
      controlPlaneRateLimits: "upstream",
    });
    expect(() => options("--control-plane-rate-limits", "none")).toThrow(
      "option '--control-plane-rate-limits <limits>' argument 'none' is invalid. Allowed choices are off, upstream.",
    );
  });

  it("names the option, the value and what is allowed", () => {
    expect(() => options("--zones", "3,0")).toThrow(
      new UsageError(
        "option '--zones <list>' argument '3,0' is invalid. expected whole numbers from 1 to 26, separated by commas",
      ),
    );
  });

  it("says in --help what it measures and that it is not part of npm test", () => {
    const parsed = parseBenchOptions(["--help"]);
    expect("help" in parsed && parsed.help).toContain("not part of npm test");
  });
});

describe("the report", () => {
  const summaries = summarise([
    sample({ zones: 3, seconds: 40 }),
    sample({
      zones: 12,
      seconds: 100,
      resources: 99,
      machineBusyPercent: 97.4,
      slowest: { resource: "kubernetes:apps/v1:Deployment::details-zone-l", seconds: 31.25 },
      istiod: {
        pushes: 554,
        timed: 40,
        debounceMeanMs: 111,
        convergenceMeanMs: 3.7,
        convergenceSlowestMs: null,
      },
    }),
  ]);

  it("writes one row per step and size", () => {
    const rows = benchTable(summaries).split("\n");
    expect(rows).toHaveLength(4);
    expect(rows[3]).toBe(
      "| 12 | 1 | up | 100.0 (100.0–100.0) | 99 | 97 | 8 | kubernetes:apps/v1:Deployment::details-zone-l 31.3 | 100 | 120 | 300 | 554 / 111 / 3.7 / > 30000 |",
    );
  });

  it("lays out median seconds with a column per size, replicas first", () => {
    const matrix = benchMatrix(
      summarise([
        sample({ zones: 12, replicas: 3, seconds: 90, resources: 99 }),
        sample({ zones: 3, seconds: 40 }),
        sample({ zones: 12, seconds: 50, resources: 99 }),
        sample({ zones: 3, step: "destroy", seconds: 20 }),
      ]),
    ).split("\n");
    expect(matrix).toEqual([
      "| step | 3 zones × 1 | 12 zones × 1 | 12 zones × 3 |",
      "| --- | ---: | ---: | ---: |",
      "| up | 40.0 | 50.0 | 90.0 |",
      "| destroy | 20.0 |  |  |",
      "| resources after up | 54 | 99 | 99 |",
    ]);
  });

  it("says whether each step kept within twice its time at the smallest size", () => {
    expect(growthLines(growth(summaries))).toEqual([
      "up, 1 per zone: 12 zones ÷ 3 zones = 2.50× (resources 1.83×; goal ≤ 2×: missed)",
    ]);
  });

  it("draws median seconds against zones per step, one panel per replica count", async () => {
    const spec = benchChartSpec(summaries, "bench") as any;
    expect(spec.facet.column.field).toBe("replicas");
    expect(spec.data.values.map((v: any) => [v.zones, v.step, v.median])).toEqual([
      [3, "up", 40],
      [12, "up", 100],
    ]);
    expect(await renderBenchSvg(summaries, "bench")).toMatch(/^<svg[\s\S]*<\/svg>$/);
  });
});
