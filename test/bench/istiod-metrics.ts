import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { IstiodPushes } from "./stats";

/** A histogram as Prometheus exposes it: cumulative counts per upper bound (seconds, ascending). */
export interface Histogram {
  count: number;
  sum: number;
  buckets: [bound: number, cumulative: number][];
}

/** The istiod figures the benchmark follows, as counted since istiod started. */
export interface IstiodCounters {
  /** Successful xDS pushes of every type (`pilot_xds_pushes` without its `*_senderr`/`*_builderr` types). */
  pushes: number;
  /** `pilot_debounce_time`: from the first change of a batch to its push entering the queue. */
  debounce: Histogram;
  /** `pilot_proxy_convergence_time`: from a push entering the queue to a proxy holding all of it. */
  convergence: Histogram;
}

const EMPTY: Histogram = { count: 0, sum: 0, buckets: [] };
export const NO_COUNTS: IstiodCounters = { pushes: 0, debounce: EMPTY, convergence: EMPTY };

/** One reading of istiod's metrics: its counts, and when its process started. */
export interface IstiodReading {
  /** `process_start_time_seconds`: a new value means a new process, counting from zero again. */
  startedAt: number;
  counts: IstiodCounters;
}

/** Reads istiod's `/metrics` text. */
export function readMetrics(text: string): IstiodReading {
  const families = parsePrometheusTextFormat(text);
  const family = (name: string) => families.find((f) => f.name === name);
  const histogram = (name: string): Histogram => {
    const sample = family(name)?.metrics[0];
    if (!sample?.buckets) return EMPTY;
    return {
      count: Number(sample.count),
      sum: Number(sample.sum),
      buckets: Object.entries(sample.buckets)
        .map(([bound, count]): [number, number] => [
          bound === "+Inf" ? Infinity : Number(bound),
          Number(count),
        ])
        .sort((a, b) => a[0] - b[0]),
    };
  };
  const pushes = (family("pilot_xds_pushes")?.metrics ?? [])
    .filter((m) => !/err$/.test(m.labels?.type ?? ""))
    .reduce((sum, m) => sum + Number(m.value), 0);
  return {
    startedAt: Number(family("process_start_time_seconds")?.metrics[0]?.value ?? 0),
    counts: {
      pushes,
      debounce: histogram("pilot_debounce_time"),
      convergence: histogram("pilot_proxy_convergence_time"),
    },
  };
}

/**
 * What happened between two readings. istiod restarts when the switch replaces its pod (and the test cluster
 * restarts pilot-discovery for it); then everything the new process counted is new.
 */
export function since(earlier: IstiodReading | undefined, later: IstiodReading): IstiodCounters {
  if (!earlier || later.startedAt !== earlier.startedAt) return later.counts;
  const [before, after] = [earlier.counts, later.counts];
  const minus = (a: Histogram, b: Histogram): Histogram => ({
    count: a.count - b.count,
    sum: a.sum - b.sum,
    buckets: a.buckets.map(([bound, count]) => [
      bound,
      count - (b.buckets.find(([x]) => x === bound)?.[1] ?? 0),
    ]),
  });
  return {
    pushes: after.pushes - before.pushes,
    debounce: minus(after.debounce, before.debounce),
    convergence: minus(after.convergence, before.convergence),
  };
}

export function plus(a: IstiodCounters, b: IstiodCounters): IstiodCounters {
  const add = (x: Histogram, y: Histogram): Histogram => {
    const bounds = [...new Set([...x.buckets, ...y.buckets].map(([bound]) => bound))].sort((p, q) => p - q);
    const at = (h: Histogram, bound: number) => h.buckets.find(([b]) => b === bound)?.[1] ?? 0;
    return {
      count: x.count + y.count,
      sum: x.sum + y.sum,
      buckets: bounds.map((b) => [b, at(x, b) + at(y, b)]),
    };
  };
  return {
    pushes: a.pushes + b.pushes,
    debounce: add(a.debounce, b.debounce),
    convergence: add(a.convergence, b.convergence),
  };
}

/** The smallest bucket bound that holds every observation, ms; null when some fell beyond the last bound or there were none. */
function slowestBoundMs(histogram: Histogram): number | null {
  if (histogram.count === 0) return null;
  const bound = histogram.buckets.find(([, cumulative]) => cumulative >= histogram.count)?.[0];
  return bound === undefined || bound === Infinity ? null : bound * 1000;
}

const meanMs = (histogram: Histogram) => (histogram.count ? (1000 * histogram.sum) / histogram.count : 0);

export function pushesOf(counts: IstiodCounters): IstiodPushes {
  return {
    pushes: counts.pushes,
    timed: counts.convergence.count,
    debounceMeanMs: meanMs(counts.debounce),
    convergenceMeanMs: meanMs(counts.convergence),
    convergenceSlowestMs: slowestBoundMs(counts.convergence),
  };
}

/**
 * Adds up istiod's counts over a step by reading its metrics once a second, so a restart in the
 * middle loses at most the last second before it.
 */
export class IstiodPushMeter {
  private total = NO_COUNTS;
  private last?: IstiodReading;
  private timer?: NodeJS.Timeout;
  private reading = Promise.resolve();

  private constructor(private readonly url: string) {}

  /** Starts counting from istiod's counts now (from its start, if it is not running yet). */
  static async start(url: string): Promise<IstiodPushMeter> {
    const meter = new IstiodPushMeter(url);
    meter.last = await meter.fetchReading();
    meter.timer = setInterval(() => void meter.read(), 1000);
    return meter;
  }

  private async fetchReading(): Promise<IstiodReading | undefined> {
    try {
      return readMetrics(await (await fetch(this.url)).text());
    } catch {
      // Not running yet, or restarting: the next reading names a new process, which `since` recognises.
      return undefined;
    }
  }

  /** One reading after another: two at once would both count from the same last one. */
  private read(): Promise<void> {
    this.reading = this.reading.then(async () => {
      const current = await this.fetchReading();
      if (!current) return;
      this.total = plus(this.total, since(this.last, current));
      this.last = current;
    });
    return this.reading;
  }

  async stop(): Promise<IstiodPushes> {
    clearInterval(this.timer);
    await this.read();
    return pushesOf(this.total);
  }
}
