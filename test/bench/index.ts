import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { EXIT, ExitCode } from "../../cli/shared/exit";
import { runCli } from "../../cli/shared/run";
import { BOOKINFO_SERVICES, DEFAULTS } from "../../stacks/contract";
import { ClusterReader } from "../helpers/cluster";
import { TestIstiod } from "../helpers/istiod";
import { ZoneClients } from "./clients";
import { BenchCluster, runCycle, StepFailedError } from "./cycle";
import { BenchOptions, parseBenchOptions } from "./options";
import { benchMatrix, benchTable, growthLines, renderBenchSvg } from "./report";
import { growth, StepSample, summarise } from "./stats";
import { toolEnv } from "../helpers/env";

const LAB_SCRIPT = path.join(__dirname, "..", "..", "scripts", "test-cluster.sh");
/** Its own cluster name, so the benchmark never deletes the test cluster the cluster tier is using. */
const BENCH_CLUSTER = "istio-locality-bench";

async function testCluster(command: "start" | "stop", zones: number, options: BenchOptions): Promise<string> {
  const { stdout } = await promisify(execFile)("bash", [LAB_SCRIPT, command], {
    env: {
      ...process.env,
      TEST_CLUSTER_NAME: BENCH_CLUSTER,
      TEST_CLUSTER_NODE_COUNT: String(zones),
      TEST_CLUSTER_NODE_CPUS: String(options.nodeCpus),
      TEST_CLUSTER_NODE_MEMORY: options.nodeMemory,
      TEST_CLUSTER_RATE_LIMITS: options.controlPlaneRateLimits,
    },
  });
  return stdout.trim();
}

/** Where the results were measured. */
interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  labNode: string;
  parallel: BenchOptions["parallel"];
  /** Absent from results measured before the test cluster lifted its control plane's rate limits. */
  controlPlaneRateLimits?: BenchOptions["controlPlaneRateLimits"];
}

function machine(options: BenchOptions): Machine {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    labNode: `${options.nodeCpus} CPUs, ${options.nodeMemory}`,
    parallel: options.parallel,
    controlPlaneRateLimits: options.controlPlaneRateLimits,
  };
}

/** A cycle that stopped at a step. */
interface BenchFailure {
  zones: number;
  replicas: number;
  run: number;
  step: string;
  message: string;
  /** Pods the scheduler could not place when the step failed, with its reason. */
  unscheduled: string[];
  log: string;
}

/** Every pod the scheduler has not placed, with the reason it gives. */
async function unscheduledPods(cluster: ClusterReader): Promise<string[]> {
  const pods = (await cluster.core.listPodForAllNamespaces()).body.items;
  return pods.flatMap((pod) => {
    const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
    return scheduled?.status === "False"
      ? [
          `${pod.metadata?.namespace}/${pod.metadata?.name}: ${scheduled.message ?? scheduled.reason ?? "no reason given"}`,
        ]
      : [];
  });
}

/** What results.json holds besides what is derived from the samples. */
interface Recorded {
  started: string;
  machine: Machine;
  samples: StepSample[];
  failures: BenchFailure[];
}

async function write(out: string, recorded: Recorded): Promise<string[]> {
  const { samples, failures, machine: about } = recorded;
  const started = new Date(recorded.started);
  const summaries = summarise(samples);
  const ratios = growth(summaries);
  const limits = about.controlPlaneRateLimits
    ? `, control-plane rate limits ${about.controlPlaneRateLimits}`
    : "";
  const title = `istio-locality bench, ${started.toISOString().slice(0, 10)}, ${about.cpus} × ${about.cpuModel}, test cluster nodes of ${about.labNode}${limits}`;
  fs.writeFileSync(
    path.join(out, "results.json"),
    JSON.stringify({ ...recorded, summaries, growth: ratios }, null, 2),
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
      `${title} (this machine: ${about.cpus} CPUs, ${about.memoryGiB} GiB, ${about.os}, Node ${about.node})`,
      "",
      "Median seconds (zones × replicas per zone):",
      "",
      benchMatrix(summaries),
      "",
      "Every step and size:",
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
  if (options.redraw) {
    const recorded = JSON.parse(fs.readFileSync(path.join(options.out, "results.json"), "utf8")) as Recorded;
    for (const line of await write(options.out, recorded)) console.log(line);
    return EXIT.ok;
  }
  const env = toolEnv(
    ["ISTIO_LOCALITY_ISTIO_BIN", "ISTIO_LOCALITY_CHARTS", "ISTIO_LOCALITY_GATEWAY_API"],
    "the benchmark with npm run bench",
  );
  const istioBin = env.ISTIO_LOCALITY_ISTIO_BIN;
  const tools = { charts: env.ISTIO_LOCALITY_CHARTS, gatewayApi: env.ISTIO_LOCALITY_GATEWAY_API };
  const profile = process.env.TEST_CLUSTER_PROFILE ?? "istio-locality-test";
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
        await testCluster("stop", zones, options);
        const kubeconfig = (await testCluster("start", zones, options)).split("\n").pop()!;
        const benchCluster: BenchCluster = { kubeconfig, profile, ...tools };
        const istiod = new TestIstiod(kubeconfig, path.join(istioBin, "pilot-discovery"));
        istiod.start();
        const cluster = ClusterReader.fromFile(kubeconfig);
        const clients = new ZoneClients({
          cluster,
          reader: path.join(istioBin, "xds-reader"),
          namespace: DEFAULTS.bookinfo.namespace,
          region: DEFAULTS.cluster.region,
          proxyVersion: DEFAULTS.istio.version,
          hosts: BOOKINFO_SERVICES.map((s) => `${s}.${DEFAULTS.bookinfo.namespace}.svc.cluster.local`),
        });
        const log = path.join(options.out, "logs", `${zones}z-${replicas}r-${run}.log`);
        try {
          const cycle = await runCycle(
            benchCluster,
            { zones, replicas, run },
            options.parallel === "engine" ? undefined : options.parallel,
            log,
          );
          samples.push(...cycle);
          console.log(cycle.map((s) => `   ${s.step}: ${s.seconds.toFixed(1)} s`).join("\n"));
        } catch (error) {
          // One size failing says something about that size; the others are still measured.
          if (!(error instanceof StepFailedError)) throw error;
          const unscheduled = await unscheduledPods(cluster).catch((e: unknown) => [
            `unreadable: ${String(e)}`,
          ]);
          failures.push({ zones, replicas, run, step: error.step, message: error.message, unscheduled, log });
          for (const pod of unscheduled) console.error(`   not scheduled: ${pod}`);
          console.error(`${name}: ${error.message}\nistiod's last lines:\n${istiod.logTail(15)}`);
        } finally {
          await clients.stop();
          await istiod.stop();
          await testCluster("stop", zones, options);
        }
        lines = await write(options.out, {
          started: started.toISOString(),
          machine: machine(options),
          samples,
          failures,
        });
      }
    }
  }
  console.log(`\nResults in ${options.out}. Each step, largest size ÷ smallest (median seconds):`);
  for (const line of lines) console.log(`  ${line}`);
  return failures.length ? EXIT.failed : EXIT.ok;
}

runCli(parseBenchOptions, bench);
