import type { V1Node, V1Status } from "@kubernetes/client-node";
import { describeFailure, pulumiErrors } from "../../../cli/shared/failure";
import { ProbeEvidence, assessProbes, probeSettled } from "../../../cli/switch/preflight";
import { ExecEvidence, assessExecRound } from "../../../cli/verify/exec-round";
import { classifyAnswer, parseTranscript } from "../../../cli/shared/answers";
import { parseProbeLog } from "../../../cli/switch/probe";
import { fakeNodes } from "../../../cli/shared/workloads";
import { fixtureJson, fixtureText } from "./fixture";

interface KubeErrors {
  execKubeletUnreachable: V1Status;
  execKwokWithoutExecConfig: V1Status;
  execCurlMissing: V1Status;
  execSuccess: V1Status;
  execUpgradeRejected: { type: string; message: string };
  logsKubeletUnreachable: { statusCode: number; body: V1Status };
  logsKwokWithoutLogsConfig: { statusCode: number; body: V1Status };
}

const ERRORS = fixtureJson<KubeErrors>("kube-errors.json");
const NODES = fixtureJson<{ kwok: V1Node[]; minikube: V1Node[] }>("nodes.json");
const KWOK = fakeNodes(NODES.kwok);

function outcomesOf(file: string) {
  return parseTranscript(fixtureText(file)).answers.map((answer) => classifyAnswer(answer, {}));
}

function ran(zone: string, file: string): ExecEvidence {
  const transcript = parseTranscript(fixtureText(file));
  return {
    zone,
    pod: `client-${zone}-1`,
    status: ERRORS.execSuccess,
    complete: transcript.complete,
    outcomes: outcomesOf(file),
  };
}

describe("fakeNodes", () => {
  it("recognises kwok's nodes and nothing else", () => {
    expect(KWOK).toEqual(["kwok-node-0", "kwok-node-1", "kwok-node-2"]);
    expect(fakeNodes(NODES.minikube)).toEqual([]);
  });
});

describe("describeFailure", () => {
  it("reads client-node's exec rejection (a WebSocket ErrorEvent, not an Error)", () => {
    expect(describeFailure(ERRORS.execUpgradeRejected)).toBe("Unexpected server response: 403");
  });

  it("reads an API HttpError's Status body", () => {
    expect(describeFailure(ERRORS.logsKubeletUnreachable)).toMatch(
      /^HTTP 500: Get "https:\/\/10\.0\.0\.3:10250\/containerLogs\/bookinfo\/switch-probe-zone-a-mi8x3k2a\/probe": dial tcp/,
    );
  });

  it("boils a Pulumi CLI failure (the automation API's CommandError) down to its error lines", () => {
    const message = fixtureText("pulumi-preview-command-error.txt");
    const expected =
      "failed to load language plugin nodejs: no language plugin 'pulumi-language-nodejs' found in the workspace or on your $PATH";
    expect(pulumiErrors(message)).toBe(expected);
    expect(describeFailure(new Error(message))).toBe(expected);
    expect(pulumiErrors("no stack named 'nope' found")).toBe("no stack named 'nope' found");
  });

  it("keeps a configuration error whole, every problem under it, without the engine's generic one", () => {
    // A preview of a stack with two bad keys, as the automation API threw it.
    expect(describeFailure(new Error(fixtureText("pulumi-preview-config-error.txt")))).toBe(
      [
        "invalid configuration:",
        "  - `istio-locality:dataplaneMode` is `ambiant`; expected `sidecar` or `ambient`",
        "  - `istio-locality:locality` is `near`; expected one of `strict`, `failover`, `off`",
      ].join("\n"),
    );
  });

  it("falls back to the text of anything else", () => {
    expect(describeFailure(new Error("socket hang up"))).toBe("socket hang up");
    expect(describeFailure("plain")).toBe("plain");
  });
});

describe("assessExecRound", () => {
  it("a cluster whose client pods answer can answer, errors and all", () => {
    const verdict = assessExecRound([
      ran("zone-a", "verify-zone-a-local.txt"),
      ran("zone-b", "verify-zone-b-every-shape.txt"),
    ]);
    expect(verdict.canAnswer).toBe(true);
    expect(verdict.details).toEqual([
      "zone-a (client-zone-a-1): 6 requests, 0 without any answer",
      "zone-b (client-zone-b-1): 16 requests, 5 without any answer",
    ]);
  });

  it.each([
    [
      "the kubelet cannot be reached",
      ERRORS.execKubeletUnreachable,
      "dial tcp 10.0.0.3:10250: connect: connection refused",
    ],
    [
      "kwok has no exec rule for the pod",
      ERRORS.execKwokWithoutExecConfig,
      'no exec found for container \\"client\\"',
    ],
  ])("cannot answer when %s", (_case, status, detail) => {
    const verdict = assessExecRound(
      [
        { zone: "zone-a", pod: "client-zone-a-6d5f8b7c9d-x4kzp", status, complete: false, outcomes: [] },
        ran("zone-b", "verify-zone-b-every-shape.txt"),
      ],
      KWOK,
    );
    expect(verdict.canAnswer).toBe(false);
    expect(verdict.reason).toBe(
      "This cluster cannot answer: commands cannot run in the client pods of zone-a, so no request could be sent. " +
        "Its nodes kwok-node-0, kwok-node-1, kwok-node-2 are kwok fake nodes: pods there report Ready but run nothing.",
    );
    expect(verdict.details[0]).toContain(detail.replace(/\\"/g, '"'));
  });

  it("cannot answer when the exec cannot even start", () => {
    const verdict = assessExecRound([
      {
        zone: "zone-a",
        startError: describeFailure(ERRORS.execUpgradeRejected),
        complete: false,
        outcomes: [],
      },
    ]);
    expect(verdict).toMatchObject({ canAnswer: false });
    expect(verdict.details).toEqual(["zone-a (no client pod): exec failed: Unexpected server response: 403"]);
    expect(verdict.reason).not.toContain("kwok");
  });

  it("cannot answer when the script died before its first request (no curl in the image)", () => {
    const verdict = assessExecRound([
      {
        zone: "zone-c",
        pod: "client-zone-c-1",
        status: ERRORS.execCurlMissing,
        complete: false,
        outcomes: [],
      },
    ]);
    expect(verdict.canAnswer).toBe(false);
    expect(verdict.details).toEqual([
      "zone-c (client-zone-c-1): the check script exited with code 127 before sending a request",
    ]);
  });

  it("cannot answer when every request everywhere failed before anything answered", () => {
    const dead = outcomesOf("verify-zone-b-every-shape.txt").filter(
      (o) =>
        o.kind === "error" &&
        ["timeout", "connection-reset", "connection-refused", "empty-reply", "dns"].includes(o.error),
    );
    const verdict = assessExecRound(
      ["zone-a", "zone-b"].map((zone) => ({
        zone,
        status: ERRORS.execSuccess,
        complete: true,
        outcomes: dead,
      })),
      [],
    );
    expect(verdict.canAnswer).toBe(false);
    expect(verdict.reason).toBe(
      "This cluster cannot answer: all 10 requests from every zone failed before anything in the path answered (no proxy, no service).",
    );
  });

  it("can answer when only Envoy's 503s come back: the mesh is there, the numbers are real", () => {
    const envoy = outcomesOf("verify-zone-b-every-shape.txt").filter(
      (o) => o.kind === "error" && o.error === "no-healthy-upstream",
    );
    expect(
      assessExecRound([{ zone: "zone-b", status: ERRORS.execSuccess, complete: true, outcomes: envoy }])
        .canAnswer,
    ).toBe(true);
  });
});

describe("probeSettled", () => {
  const unreadable: ProbeEvidence = {
    zone: "zone-a",
    pod: "p",
    node: "m02",
    phase: "Running",
    logError: describeFailure(ERRORS.logsKubeletUnreachable),
  };

  it("gives an unreadable log its grace on a real node, and none on a kwok node, which never serves logs", () => {
    expect(probeSettled(unreadable, 1000, [])).toBe(false);
    expect(probeSettled(unreadable, 20_000, [])).toBe(true);
    expect(probeSettled(unreadable, 0, ["m02"])).toBe(true);
    expect(probeSettled({ ...unreadable, node: "m03" }, 0, ["m02"])).toBe(false);
  });

  it("waits for a pod still starting, and not for one whose image never pulls", () => {
    const starting: ProbeEvidence = {
      zone: "zone-a",
      pod: "p",
      phase: "Pending",
      waiting: "ContainerCreating",
    };
    expect(probeSettled(starting, 0, [])).toBe(false);
    expect(probeSettled({ ...starting, waiting: "ImagePullBackOff: back-off" }, 0, [])).toBe(true);
  });
});

describe("assessProbes", () => {
  const readyLog = parseProbeLog("zone-a", fixtureText("probe-zone-a.log"));

  it("can answer when every probe is ready and answering", () => {
    const verdict = assessProbes([
      { zone: "zone-a", pod: "switch-probe-zone-a-x", phase: "Running", log: readyLog },
    ]);
    expect(verdict).toEqual({
      canAnswer: true,
      details: ["zone-a (switch-probe-zone-a-x): ready, 76 of 80 requests answered"],
    });
  });

  it.each<[string, ProbeEvidence, string]>([
    [
      "its log cannot be read (no kubelet behind the node)",
      {
        zone: "zone-a",
        pod: "p",
        phase: "Running",
        logError: describeFailure(ERRORS.logsKubeletUnreachable),
      },
      "zone-a (p): its log cannot be read: HTTP 500: Get",
    ],
    [
      "kwok has no log rule",
      {
        zone: "zone-a",
        pod: "p",
        phase: "Running",
        logError: describeFailure(ERRORS.logsKwokWithoutLogsConfig),
      },
      'no logs found for container "probe"',
    ],
    [
      "it never started",
      { zone: "zone-b", pod: "p", phase: "Pending", waiting: "ImagePullBackOff: Back-off pulling image" },
      "zone-b (p): never started (phase Pending, ImagePullBackOff: Back-off pulling image)",
    ],
    [
      "it wrote nothing",
      { zone: "zone-c", pod: "p", phase: "Running", log: parseProbeLog("zone-c", "") },
      "runs but wrote no log",
    ],
    [
      "productpage never answered it",
      {
        zone: "zone-b",
        pod: "p",
        phase: "Failed",
        log: parseProbeLog("zone-b", fixtureText("probe-zone-b-not-ready.log")),
      },
      "got no answer from productpage while warming up (last try: 503 0)",
    ],
    [
      "all its requests failed at the connection",
      {
        zone: "zone-a",
        pod: "p",
        phase: "Running",
        log: { ...readyLog, records: readyLog.records.filter((r) => r.curlExit !== 0) },
      },
      "all 3 requests failed without an answer",
    ],
  ])("cannot answer when a probe %s", (_case, evidence, detail) => {
    const verdict = assessProbes(
      [{ zone: "zone-x", pod: "ok", phase: "Running", log: readyLog }, evidence],
      KWOK,
    );
    expect(verdict.canAnswer).toBe(false);
    expect(verdict.reason).toMatch(
      new RegExp(
        `^This cluster cannot answer: the traffic probes in ${evidence.zone} could not measure anything before the switch`,
      ),
    );
    expect(verdict.reason).toContain("kwok fake nodes");
    expect(verdict.details[1]).toContain(detail);
  });
});
