import * as fs from "fs";

const MIB = 1024 * 1024;

/** A process's peak resident set (VmHWM), bytes; undefined once it is gone. */
function peakResident(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The children of a process, from every one of its threads (Linux's /proc/<pid>/task/<tid>/children). */
function childrenOf(pid: number): number[] {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((tid) => {
        try {
          return fs.readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim().split(/\s+/);
        } catch {
          return [];
        }
      })
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

const commandOf = (pid: number): string => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
  } catch {
    return "";
  }
};

/** Peak resident memory of a step's processes, MiB. */
export interface StepMemory {
  engineMiB: number;
  providersMiB: number;
  programMiB: number;
}

/**
 * Follows the memory of one Automation API call: the Pulumi CLI it spawns (the engine), the provider
 * plugins that CLI spawns, and this process (which runs the program inline). The kernel keeps each
 * process's peak; the CLI and its plugins are new per call, this process's peak is reset at the start.
 * Processes are found while they run, so one is sampled every `intervalMs`.
 */
export class MemoryPeaks {
  private readonly peaks = new Map<number, { bytes: number; provider: boolean }>();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 200) {
    // Writing 5 to clear_refs resets the peak resident set the kernel reports as VmHWM.
    fs.writeFileSync("/proc/self/clear_refs", "5");
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    for (const cli of childrenOf(process.pid).filter((pid) => /pulumi$/.test(commandOf(pid)))) {
      this.record(cli, false);
      for (const plugin of childrenOf(cli).filter((pid) => /pulumi-resource-/.test(commandOf(pid)))) {
        this.record(plugin, true);
      }
    }
  }

  private record(pid: number, provider: boolean): void {
    const bytes = peakResident(pid);
    if (bytes !== undefined)
      this.peaks.set(pid, { bytes: Math.max(bytes, this.peaks.get(pid)?.bytes ?? 0), provider });
  }

  stop(): StepMemory {
    this.sample();
    clearInterval(this.timer);
    const entries = [...this.peaks.values()];
    const engine = Math.max(0, ...entries.filter((e) => !e.provider).map((e) => e.bytes));
    const providers = entries.filter((e) => e.provider).reduce((sum, e) => sum + e.bytes, 0);
    return {
      engineMiB: engine / MIB,
      providersMiB: providers / MIB,
      programMiB: (peakResident(process.pid) ?? 0) / MIB,
    };
  }
}
