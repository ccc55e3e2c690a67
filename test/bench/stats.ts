/** The steps of one benchmark cycle, in the order they run. */
export const BENCH_STEPS = [
  "first preview",
  "up",
  "no-change preview",
  "switch to ambient",
  "switch back",
  "destroy",
] as const;
export type BenchStep = (typeof BENCH_STEPS)[number];

/** The steps that change the cluster, after which istiod pushes to its clients. */
export const PUSHING_STEPS: readonly BenchStep[] = ["up", "switch to ambient", "switch back"];

/** What istiod reported about its pushes while a step ran (deltas of its own metrics). */
export interface IstiodPushes {
  /** xDS pushes, every type (`pilot_xds_pushes`). */
  pushes: number;
  /**
   * Pushes to a connected client whose convergence istiod timed (not a client's first configuration).
   * Absent in results written before it was recorded; there a step timed pushes iff its mean is above 0.
   */
  timed?: number;
  /** Mean time istiod held a batch of changes before queueing its push (`pilot_debounce_time`), ms. */
  debounceMeanMs: number;
  /** Mean time from a push entering the queue to a client holding all of it (`pilot_proxy_convergence_time`), ms. */
  convergenceMeanMs: number;
  /** The bound of the slowest convergence bucket reached, ms: every client had every push within it; null beyond 30 s or when none was timed. */
  convergenceSlowestMs: number | null;
}

/** One step of one run at one size. */
export interface StepSample {
  zones: number;
  replicas: number;
  run: number;
  step: BenchStep;
  seconds: number;
  /** Peak resident memory of the Pulumi CLI (the engine), MiB. */
  engineMiB: number;
  /** Peak resident memory of the provider plugins, summed over those that ran, MiB. */
  providersMiB: number;
  /** Peak resident memory of this process, which runs the program inline, MiB. */
  programMiB: number;
  /** Resources in the stack once the step ended. */
  resources: number;
  /** How busy the whole machine's CPUs were during the step, percent. */
  machineBusyPercent?: number;
  /** The engine's `--parallel`; undefined for its own default (4 × CPUs). */
  parallel?: number;
  /** The most resource operations the engine had in flight at once. */
  widest: number;
  /** The resource operation that took longest, and its seconds. */
  slowest?: { resource: string; seconds: number };
  istiod?: IstiodPushes;
}

export interface Spread {
  min: number;
  median: number;
  max: number;
}

/** A step at one size, over its runs. */
export interface StepSummary {
  zones: number;
  replicas: number;
  step: BenchStep;
  runs: number;
  seconds: Spread;
  engineMiB: Spread;
  providersMiB: Spread;
  programMiB: Spread;
  resources: number;
  /** The most operations in flight at once, over the runs. */
  widest: number;
  /** How busy the machine's CPUs were, over the runs that measured it. */
  machineBusyPercent?: Spread;
  /** The slowest operation of any run. */
  slowest?: { resource: string; seconds: number };
  istiod?: {
    pushes: Spread;
    debounceMeanMs: Spread;
    timed: Spread;
    /** Over the runs that timed any push. */
    convergenceMeanMs?: Spread;
    /** The slowest bound over the runs that timed any; null when none did or one took longer than istiod's last bucket. */
    convergenceSlowestMs: number | null;
  };
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error("no values to summarise");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { min: sorted[0], median, max: sorted[sorted.length - 1] };
}

function busyOf(group: readonly StepSample[]): Pick<StepSummary, "machineBusyPercent"> {
  const busy = group.flatMap((s) => (s.machineBusyPercent === undefined ? [] : [s.machineBusyPercent]));
  return busy.length ? { machineBusyPercent: spread(busy) } : {};
}

function slowestOf(group: readonly StepSample[]): Pick<StepSummary, "slowest"> {
  const slowest = group
    .flatMap((s) => (s.slowest ? [s.slowest] : []))
    .reduce<StepSample["slowest"]>((a, b) => (a && a.seconds >= b.seconds ? a : b), undefined);
  return slowest ? { slowest } : {};
}

/** Groups samples by size and step, in size order and then the steps' own order. */
export function summarise(samples: readonly StepSample[]): StepSummary[] {
  const groups = new Map<string, StepSample[]>();
  for (const sample of samples) {
    const key = `${sample.zones}/${sample.replicas}/${sample.step}`;
    groups.set(key, [...(groups.get(key) ?? []), sample]);
  }
  const summaries = [...groups.values()].map((group): StepSummary => {
    const [first] = group;
    const pushes = group.flatMap((s) => (s.istiod ? [s.istiod] : []));
    const timedCount = (p: IstiodPushes) => p.timed ?? (p.convergenceMeanMs > 0 ? 1 : 0);
    const timed = pushes.filter((p) => timedCount(p) > 0);
    return {
      zones: first.zones,
      replicas: first.replicas,
      step: first.step,
      runs: group.length,
      seconds: spread(group.map((s) => s.seconds)),
      engineMiB: spread(group.map((s) => s.engineMiB)),
      providersMiB: spread(group.map((s) => s.providersMiB)),
      programMiB: spread(group.map((s) => s.programMiB)),
      resources: Math.max(...group.map((s) => s.resources)),
      widest: Math.max(...group.map((s) => s.widest)),
      ...busyOf(group),
      ...slowestOf(group),
      ...(pushes.length
        ? {
            istiod: {
              pushes: spread(pushes.map((p) => p.pushes)),
              debounceMeanMs: spread(pushes.map((p) => p.debounceMeanMs)),
              timed: spread(pushes.map(timedCount)),
              convergenceMeanMs: timed.length ? spread(timed.map((p) => p.convergenceMeanMs)) : undefined,
              convergenceSlowestMs:
                timed.length === 0 || timed.some((p) => p.convergenceSlowestMs === null)
                  ? null
                  : Math.max(...timed.map((p) => p.convergenceSlowestMs!)),
            },
          }
        : {}),
    };
  });
  return summaries.sort(
    (a, b) =>
      a.zones - b.zones ||
      a.replicas - b.replicas ||
      BENCH_STEPS.indexOf(a.step) - BENCH_STEPS.indexOf(b.step),
  );
}

/** How much a step's median time grows from the smallest size to the largest, at one replica count. */
export interface Growth {
  replicas: number;
  step: BenchStep;
  fromZones: number;
  toZones: number;
  ratio: number;
  /** The most resources the stack held in a cycle at the largest size ÷ at the smallest: a step whose ratio is above it grows faster than the stack. */
  resourcesRatio: number;
}

/** The goal the issue sets: every step at the largest size within twice its time at the smallest. */
export const GROWTH_GOAL = 2;

/** Per replica count and step, the largest size's median ÷ the smallest size's median. */
export function growth(summaries: readonly StepSummary[]): Growth[] {
  const zones = [...new Set(summaries.map((s) => s.zones))].sort((a, b) => a - b);
  if (zones.length < 2) return [];
  const [fromZones, toZones] = [zones[0], zones[zones.length - 1]];
  const find = (z: number, replicas: number, step: BenchStep) =>
    summaries.find((s) => s.zones === z && s.replicas === replicas && s.step === step);
  const stackSize = (z: number, replicas: number) =>
    Math.max(...summaries.filter((s) => s.zones === z && s.replicas === replicas).map((s) => s.resources));
  const replicaCounts = [...new Set(summaries.map((s) => s.replicas))].sort((a, b) => a - b);
  return replicaCounts.flatMap((replicas) =>
    BENCH_STEPS.flatMap((step): Growth[] => {
      const [small, large] = [find(fromZones, replicas, step), find(toZones, replicas, step)];
      if (!small || !large) return [];
      return [
        {
          replicas,
          step,
          fromZones,
          toZones,
          ratio: large.seconds.median / small.seconds.median,
          resourcesRatio: stackSize(toZones, replicas) / stackSize(fromZones, replicas),
        },
      ];
    }),
  );
}
