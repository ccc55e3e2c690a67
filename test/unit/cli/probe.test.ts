import {
  PROBE_RUN_LABEL,
  ProbeSpec,
  isConnectionFailure,
  parseProbeLog,
  parseProbeTime,
  probeFailureKind,
  probePodManifest,
  probePodName,
  probeScript,
} from "../../../cli/switch/probe";
import { fixtureText } from "./fixture";

const SPEC: ProbeSpec = {
  runId: "mi8x3k2a",
  zone: "zone-b",
  namespace: "bookinfo",
  image: "curlimages/curl:8.16.0",
  rate: 20,
  maxSeconds: 7200,
  timeoutSeconds: 5,
};

describe("probePodManifest", () => {
  const pod = probePodManifest(SPEC);

  it("pins the probe to its zone with required node affinity", () => {
    expect(
      pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms,
    ).toEqual([
      { matchExpressions: [{ key: "topology.kubernetes.io/zone", operator: "In", values: ["zone-b"] }] },
    ]);
  });

  it("is a bare pod in the Bookinfo namespace, labelled with its run for cleanup, never restarted", () => {
    expect(pod.kind).toBe("Pod");
    expect(pod.metadata).toMatchObject({
      name: "switch-probe-zone-b-mi8x3k2a",
      namespace: "bookinfo",
      labels: { app: "switch-probe", zone: "zone-b", [PROBE_RUN_LABEL]: "mi8x3k2a" },
    });
    expect(pod.metadata?.labels?.app).not.toBe("client");
    expect(pod.spec?.restartPolicy).toBe("Never");
    expect(pod.spec?.activeDeadlineSeconds).toBeGreaterThan(SPEC.maxSeconds);
  });

  it("runs the stack's client image with the probe script", () => {
    const [container] = pod.spec!.containers;
    expect(container.image).toBe("curlimages/curl:8.16.0");
    expect(container.command?.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(container.command?.[2]).toBe(probeScript(SPEC));
  });

  it("keeps pod names within 63 characters", () => {
    expect(probePodName("mi8x3k2a", "a-very-long-zone-name-that-goes-on-and-on-and-on-forever")).toHaveLength(
      63,
    );
  });
});

describe("probeScript", () => {
  const script = probeScript(SPEC);

  it("waits for a first answer, then requests productpage at a constant rate over a URL glob", () => {
    expect(script).toMatch(/until curl -sf -o \/dev\/null --max-time 5 "\$url"; do/);
    expect(script).toContain("echo PROBE-READY");
    expect(script).toContain("--rate 20/s");
    expect(script).toContain('"$url?probe=[1-144000]"');
    expect(script).toContain("url='http://productpage:9080/api/v1/products/0/reviews'");
  });

  it("prints a line per request with time, duration, URL (numbered), status, curl exit and error", () => {
    expect(script).toContain(
      "-w 'PROBE\\t%time{%Y-%m-%dT%H:%M:%S.%fZ}\\t%{time_total}\\t%{url}\\t%{http_code}\\t%{exitcode}\\t%{errormsg}\\n'",
    );
  });
});

describe("parseProbeLog", () => {
  const log = parseProbeLog("zone-a", fixtureText("probe-zone-a.log"));

  it("sees the ready marker and every complete request line", () => {
    expect(log.ready).toBe(true);
    expect(log.records).toHaveLength(80);
    expect(log.malformed).toBe(1);
  });

  it("dates each request by its start: completion time minus duration, to the microsecond", () => {
    const first = log.records[0];
    expect(first.end).toBe(Date.parse("2025-11-25T19:20:00.012Z"));
    expect(first.start).toBeCloseTo(Date.parse("2025-11-25T19:20:00.000Z"), 6);
    const timeout = log.records.find((r) => r.seq === 44)!;
    expect(timeout.end - timeout.start).toBeCloseTo(5001, 6);
  });

  it("marks HTTP 200 with curl exit 0 as ok and keeps the failures' details", () => {
    const failed = log.records.filter((r) => !r.ok);
    expect(failed.map((r) => [r.seq, r.httpCode, r.curlExit, probeFailureKind(r)])).toEqual([
      [41, 503, 0, "http-503"],
      [42, 0, 56, "connection-reset"],
      [43, 0, 7, "connection-refused"],
      [44, 0, 28, "timeout"],
    ]);
    expect(failed[1].error).toBe("Recv failure: Connection reset by peer");
    expect(failed.map(isConnectionFailure)).toEqual([false, true, true, true]);
  });

  it("reads a probe that gave up warming up", () => {
    expect(parseProbeLog("zone-b", fixtureText("probe-zone-b-not-ready.log"))).toEqual({
      zone: "zone-b",
      ready: false,
      notReady: "503 0",
      records: [],
      malformed: 0,
    });
  });

  it("reads microsecond times and rejects others", () => {
    expect(parseProbeTime("2025-11-25T19:20:01.123456Z")).toBeCloseTo(
      Date.parse("2025-11-25T19:20:01.123Z") + 0.456,
      6,
    );
    expect(parseProbeTime("2025-11-25T19:20:01Z")).toBe(Date.parse("2025-11-25T19:20:01Z"));
    expect(parseProbeTime("%time{%Y-%m-%dT%H:%M:%S.%fZ}")).toBeUndefined();
  });
});
