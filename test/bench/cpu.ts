import * as fs from "fs";

/** The machine's CPU time so far, in clock ticks, from the `cpu` line of /proc/stat. */
export interface CpuTimes {
  busy: number;
  total: number;
}

/** Reads /proc/stat's text: every column counts towards the total; idle and iowait are not busy. */
export function readCpuTimes(stat: string): CpuTimes {
  const line = stat.split("\n").find((l) => /^cpu\s/.test(l));
  if (!line) throw new Error("/proc/stat has no cpu line");
  // user nice system idle iowait irq softirq steal (guest time is already in user and nice).
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busy: total - ticks[3] - ticks[4], total };
}

/** The share of the machine's CPU time that was busy between two readings, in percent. */
export function busyPercent(before: CpuTimes, after: CpuTimes): number {
  const total = after.total - before.total;
  return total > 0 ? (100 * (after.busy - before.busy)) / total : 0;
}

/**
 * How busy the whole machine was during a step. The test cluster's control plane, kwok, istiod and the
 * engine share its cores: near 100 % the step waits for the machine, not for its own work.
 */
export class MachineCpu {
  private readonly started = readCpuTimes(fs.readFileSync("/proc/stat", "utf8"));

  busyPercent(): number {
    return busyPercent(this.started, readCpuTimes(fs.readFileSync("/proc/stat", "utf8")));
  }
}
