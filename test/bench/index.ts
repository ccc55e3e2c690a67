import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { EXIT, ExitCode } from "../../cli/shared/exit";
import { runCli } from "../../cli/shared/run";
import { BOOKINFO_SERVICES, DEFAULTS } from "../../stacks/contract";
import { ClusterReader } from "../helpers/cluster";
import { LabIstiod } from "../helpers/istiod";
import { ZoneClients } from "./clients";
import { BenchLab, runCycle, StepFailedError } from "./cycle";
import { BenchOptions, parseBenchOptions } from "./options";
import { benchTable, growthLines, renderBenchSvg } from "./report";
import { growth, StepSample, summarise } from "./stats";

const LAB_SCRIPT = path.join(__dirname, "..", "..", "scripts", "lab.sh");
/** Its own cluster name, so the benchmark never deletes a lab the test tier is using. */
const BENCH_CLUSTER = "istio-locality-bench";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the benchmark with npm run bench`);
  return value;
}

async function lab(command: "start" | "stop", zones: number): Promise<string> {
  const { stdout } = await promisify(execFile)("bash", [LAB_SCRIPT, command], {
    env: { ...process.env, LAB_CLUSTER: BENCH_CLUSTER, LAB_NODE_COUNT: String(zones) },
  });
  return stdout.trim();
}

function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
  };
}

/** A cycle that stopped at a step. */
interface BenchFailure {
  zones: number;
  replicas: number;
  run: number;
  step: string;
  message: string;
  log: string;
}

async function write(
  out: string,
  samples: StepSample[],
  failures: BenchFailure[],
  started: Date,
): Promise<string[]> {
  const summaries = summarise(samples);
  const ratios = growth(summaries);
  const about = machine();
  const title = `istio-locality bench, ${started.toISOString().slice(0, 10)}, ${about.cpus} × ${about.cpuModel}`;
  fs.writeFileSync(
    path.join(out, "results.json"),
    JSON.stringify(
      { started: started.toISOString(), machine: about, samples, summaries, growth: ratios },
      null,
      2,
    ),
  );
  const lines = [
    ...growthLines(ratios),
    ...failures.map(
      (f) => `FAILED: ${f.zones} zones, ${f.replicas} per zone, run ${f.run}: ${f.message.split("\n")[0]}`,
    ),
  ];
  fs.writeFileSync(
    path.join(out, "results.md"),
    [
      `${title}, ${about.memoryGiB} GiB`,
      "",
      benchTable(summaries),
      "",
      ...lines.map((l) => `- ${l}`),
      "",
    ].join("\n"),
  );
  fs.writeFileSync(path.join(out, "time-by-size.svg"), await renderBenchSvg(summaries, title));
  return lines;
}

async function bench(options: BenchOptions): Promise<ExitCode> {
  const istioBin = required("ISTIO_LOCALITY_ISTIO_BIN");
  const tools = {
    charts: required("ISTIO_LOCALITY_CHARTS"),
    gatewayApi: required("ISTIO_LOCALITY_GATEWAY_API"),
  };
  const profile = process.env.LAB_PROFILE ?? "istio-locality-lab";
  fs.mkdirSync(path.join(options.out, "logs"), { recursive: true });
  const started = new Date();
  const samples: StepSample[] = [];
  const failures: BenchFailure[] = [];
  let lines: string[] = [];
  for (let run = 1; run <= options.runs; run++) {
    for (const zones of options.zones) {
      for (const replicas of options.replicas) {
        const name = `${zones} zones, ${replicas} per zone, run ${run} of ${options.runs}`;
        console.log(`== ${name}`);
        await lab("stop", zones);
        const kubeconfig = (await lab("start", zones)).split("\n").pop()!;
        const benchLab: BenchLab = { kubeconfig, profile, ...tools };
        const istiod = new LabIstiod(kubeconfig, path.join(istioBin, "pilot-discovery"));
        istiod.start();
        const clients = new ZoneClients({
          cluster: ClusterReader.fromFile(kubeconfig),
          reader: path.join(istioBin, "xds-reader"),
          namespace: DEFAULTS.bookinfo.namespace,
          region: DEFAULTS.cluster.region,
          proxyVersion: DEFAULTS.istio.version,
          hosts: BOOKINFO_SERVICES.map((s) => `${s}.${DEFAULTS.bookinfo.namespace}.svc.cluster.local`),
        });
        const log = path.join(options.out, "logs", `${zones}z-${replicas}r-${run}.log`);
        try {
          const cycle = await runCycle(
            benchLab,
            { zones, replicas, run },
            options.parallel === "engine" ? undefined : options.parallel,
            log,
          );
          samples.push(...cycle);
          console.log(cycle.map((s) => `   ${s.step}: ${s.seconds.toFixed(1)} s`).join("\n"));
        } catch (error) {
          // One size failing says something about that size; the others are still measured.
          if (!(error instanceof StepFailedError)) throw error;
          failures.push({ zones, replicas, run, step: error.step, message: error.message, log });
          console.error(`${name}: ${error.message}\nistiod's last lines:\n${istiod.logTail(15)}`);
        } finally {
          await clients.stop();
          await istiod.stop();
          await lab("stop", zones);
        }
        lines = await write(options.out, samples, failures, started);
      }
    }
  }
  console.log(`\nResults in ${options.out}. Each step, largest size ÷ smallest (median seconds):`);
  for (const line of lines) console.log(`  ${line}`);
  return failures.length ? EXIT.failed : EXIT.ok;
}

runCli(parseBenchOptions, bench);
