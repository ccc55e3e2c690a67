import {
  Outcome,
  RawAnswer,
  classifyAnswer,
  parseTranscript,
  verifyScript,
} from "../../../cli/shared/answers";
import { fixtureText } from "./fixture";

const REVIEWS_ZONES = { v1: "zone-a", v2: "zone-b", v3: "zone-c" };

function raw(body: string, httpCode = 200, curlExit = 0, curlError = ""): RawAnswer {
  return { via: "reviews", seq: 1, httpCode, curlExit, curlError, body };
}

describe("verifyScript", () => {
  it("loops N times over the chosen paths in one shell, one curl (one connection) per request", () => {
    const script = verifyScript(100, ["reviews", "productpage"], 5);
    expect(script).toContain("n=100");
    expect(script).toContain("for via in reviews productpage; do");
    expect(script).toContain("url='http://reviews:9080/reviews/0'");
    expect(script).toContain("url='http://productpage:9080/api/v1/products/0/reviews'");
    expect(script).toContain("--max-time 5 -H 'Connection: close'");
    expect(script).toContain("%{http_code} %{exitcode} %{errormsg}");
    expect(script.match(/curl /g)).toHaveLength(1);
  });

  it("leaves out the path not asked for", () => {
    expect(verifyScript(10, ["reviews"])).not.toContain("productpage");
  });
});

describe("parseTranscript", () => {
  it("reads every framed request of a healthy zone and sees the end marker", () => {
    const { answers, complete } = parseTranscript(fixtureText("verify-zone-a-local.txt"));
    expect(complete).toBe(true);
    expect(answers).toHaveLength(6);
    expect(answers.map((a) => `${a.via}#${a.seq}`)).toEqual([
      "reviews#1",
      "productpage#1",
      "reviews#2",
      "productpage#2",
      "reviews#3",
      "productpage#3",
    ]);
    expect(answers.every((a) => a.httpCode === 200 && a.curlExit === 0 && a.curlError === "")).toBe(true);
    expect(answers[0].body).toContain('"podname": "reviews-v1-5c8f7d6b9c-k2x7q"');
  });

  it("keeps curl's error message and an empty body for requests that got no response", () => {
    const { answers } = parseTranscript(fixtureText("verify-zone-b-every-shape.txt"));
    const timeout = answers.find((a) => a.curlExit === 28)!;
    expect(timeout).toMatchObject({ via: "reviews", httpCode: 0, body: "" });
    expect(timeout.curlError).toBe("Operation timed out after 5002 milliseconds with 0 bytes received");
  });

  it("reports a cut-off run as incomplete and drops the unfinished request", () => {
    const { answers, complete } = parseTranscript(fixtureText("verify-zone-b-cut-off.txt"));
    expect(complete).toBe(false);
    expect(answers).toHaveLength(2);
  });
});

describe("classifyAnswer", () => {
  it.each([
    ["reviews-v1.body", { version: "v1", zone: "zone-a", zoneSource: "clustername", ratings: "none" }],
    ["reviews-v2.body", { version: "v2", zone: "zone-b", zoneSource: "clustername", ratings: "stars" }],
    ["reviews-v3.body", { version: "v3", zone: "zone-c", zoneSource: "clustername", ratings: "stars" }],
    ["reviews-v2-ratings-unavailable.body", { version: "v2", zone: "zone-b", ratings: "unavailable" }],
    ["productpage-v1.body", { version: "v1", zone: "zone-a", pod: "reviews-v1-5c8f7d6b9c-k2x7q" }],
  ])("reads %s as an answer", (file, expected) => {
    expect(classifyAnswer(raw(fixtureText(file)), REVIEWS_ZONES)).toMatchObject({
      kind: "answer",
      ...expected,
    });
  });

  it("falls back to the stack's version → zone map when CLUSTER_NAME is unset (`null`)", () => {
    expect(
      classifyAnswer(raw(fixtureText("reviews-v1-without-cluster-name.body")), REVIEWS_ZONES),
    ).toMatchObject({
      kind: "answer",
      version: "v1",
      zone: "zone-a",
      zoneSource: "version",
    });
    expect(classifyAnswer(raw(fixtureText("reviews-v1-without-cluster-name.body")), {})).toMatchObject({
      zone: "unknown",
      zoneSource: "unknown",
    });
  });

  it("tells the version by the star colour when the pod name does not", () => {
    const body = fixtureText("reviews-v3.body").replace("reviews-v3-6b4d8c9f7-p9m3t", "reviews-canary-1");
    expect(classifyAnswer(raw(body), REVIEWS_ZONES)).toMatchObject({ version: "v3", zone: "zone-c" });
  });

  it.each<[string, RawAnswer, Outcome["kind"], string]>([
    ["Envoy without endpoints", raw("no healthy upstream", 503), "error", "no-healthy-upstream"],
    [
      "Envoy's refused upstream",
      raw(
        "upstream connect error or disconnect/reset before headers. retried and the latest reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused",
        503,
      ),
      "error",
      "upstream-connect-error",
    ],
    ["Envoy's timeout", raw("upstream request timeout", 504), "error", "upstream-timeout"],
    [
      "productpage's 503",
      raw(fixtureText("productpage-reviews-unavailable.body"), 503),
      "error",
      "reviews-unavailable",
    ],
    [
      "productpage's 500",
      raw(fixtureText("productpage-reviews-unavailable.body"), 500),
      "error",
      "reviews-unavailable",
    ],
    ["a 502 page", raw("<html>bad gateway</html>", 502), "error", "http-error"],
    ["a 200 that is no reviews answer", raw("<html><title>ok</title></html>"), "error", "bad-body"],
    [
      "curl timeout",
      raw("", 0, 28, "Operation timed out after 5002 milliseconds with 0 bytes received"),
      "error",
      "timeout",
    ],
    ["curl reset", raw("", 0, 56, "Recv failure: Connection reset by peer"), "error", "connection-reset"],
    [
      "curl refused",
      raw("", 0, 7, "Failed to connect to reviews port 9080 after 3 ms: Could not connect to server"),
      "error",
      "connection-refused",
    ],
    ["curl empty reply", raw("", 0, 52, "Empty reply from server"), "error", "empty-reply"],
    ["curl DNS", raw("", 0, 6, "Could not resolve host: reviews"), "error", "dns"],
    ["another curl failure", raw("", 0, 35, "TLS connect error"), "error", "curl-error"],
  ])("classifies %s", (_name, answer, kind, error) => {
    const outcome = classifyAnswer(answer, REVIEWS_ZONES);
    expect(outcome.kind).toBe(kind);
    expect(outcome).toMatchObject({ error });
  });

  it("keeps the status and curl's message in the detail", () => {
    expect(classifyAnswer(raw("no healthy upstream", 503), {})).toMatchObject({
      detail: "HTTP 503: no healthy upstream",
    });
    expect(classifyAnswer(raw("", 0, 56, "Recv failure: Connection reset by peer"), {})).toMatchObject({
      detail: "curl exit 56: Recv failure: Connection reset by peer",
    });
  });

  it("classifies every shape of the recorded zone-b run", () => {
    const { answers } = parseTranscript(fixtureText("verify-zone-b-every-shape.txt"));
    const kinds = answers.map((a) => {
      const o = classifyAnswer(a, REVIEWS_ZONES);
      return o.kind === "answer" ? `${o.version}@${o.zone}` : o.error;
    });
    expect(kinds).toEqual([
      "v2@zone-b",
      "v2@zone-b",
      "v3@zone-c",
      "v2@zone-b",
      "no-healthy-upstream",
      "reviews-unavailable",
      "upstream-connect-error",
      "reviews-unavailable",
      "timeout",
      "connection-reset",
      "connection-refused",
      "empty-reply",
      "upstream-timeout",
      "dns",
      "v1@zone-a",
      "bad-body",
    ]);
  });
});
