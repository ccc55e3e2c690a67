import { BOOKINFO_PORT, type ReviewsVersion } from "../../stacks/contract";

/** The two ways a client reaches reviews: directly, or through productpage's reviews API. */
export type Via = "reviews" | "productpage";

/** Every path, in the order the check sends them. */
export const ALL_VIAS: readonly Via[] = ["reviews", "productpage"];

/** The URL each path requests; both answer with the reviews JSON that names the answering pod. */
export const VIA_URLS: Record<Via, string> = {
  reviews: `http://reviews:${BOOKINFO_PORT}/reviews/0`,
  productpage: `http://productpage:${BOOKINFO_PORT}/api/v1/products/0/reviews`,
};

/** Why a request got no reviews answer. */
export type ErrorKind =
  /** Envoy had no endpoint to send to (503 `no healthy upstream`). */
  | "no-healthy-upstream"
  /** Envoy reached no endpoint or lost the connection before the headers (503 `upstream connect error …`). */
  | "upstream-connect-error"
  /** Envoy gave up waiting (504 `upstream request timeout`). */
  | "upstream-timeout"
  /** productpage answered, but its two tries at reviews both failed. */
  | "reviews-unavailable"
  /** Any other HTTP status. */
  | "http-error"
  /** HTTP 200 whose body is not a reviews answer. */
  | "bad-body"
  /** curl 28: no answer within the time limit. */
  | "timeout"
  /** curl 7: the connection was refused or could not be made. */
  | "connection-refused"
  /** curl 55/56: the connection was reset while sending or receiving. */
  | "connection-reset"
  /** curl 52: the server closed the connection without answering. */
  | "empty-reply"
  /** curl 6: the service name did not resolve. */
  | "dns"
  /** Any other curl failure. */
  | "curl-error";

/** Errors at the connection level: nothing in the path answered at all. */
export const CONNECTION_ERRORS: ReadonlySet<ErrorKind> = new Set<ErrorKind>([
  "timeout",
  "connection-refused",
  "connection-reset",
  "empty-reply",
  "dns",
  "curl-error",
]);

/** One request as the client pod reported it. */
export interface RawAnswer {
  via: Via;
  /** 1-based request number within its path. */
  seq: number;
  /** HTTP status, 0 when no response arrived. */
  httpCode: number;
  /** curl's exit code for this transfer. */
  curlExit: number;
  /** curl's error message, empty on success. */
  curlError: string;
  /** Response body, lines joined. */
  body: string;
}

/** What one request tells about locality: who answered, or why nobody did. */
export type Outcome =
  | {
      kind: "answer";
      /** The reviews version that answered, from its pod name (or its ratings when the name says nothing). */
      version: ReviewsVersion | "unknown";
      /** The zone of the answering pod; `unknown` when neither CLUSTER_NAME nor the version tells it. */
      zone: string;
      /** Where the zone came from: the pod's own CLUSTER_NAME, or the stack's version → zone map. */
      zoneSource: "clustername" | "version" | "unknown";
      pod: string;
      /** v1 shows no stars; `unavailable` when v2/v3 could not reach ratings. */
      ratings: "stars" | "none" | "unavailable";
    }
  | { kind: "error"; error: ErrorKind; detail: string };

const BEGIN = "@@begin";
const END = "@@end";
const DONE = "@@done";

/**
 * The shell script the check runs in a client pod: one exec per zone that sends `requests` requests per
 * path and frames every answer between marker lines, so bodies of any shape parse back unambiguously.
 * Each request is its own curl process, so each opens its own connection: ztunnel balances per
 * connection, and a reused connection would pin every answer to one pod and hide the spread.
 */
export function verifyScript(requests: number, vias: readonly Via[], timeoutSeconds = 5): string {
  const cases = vias.map((via) => `      ${via}) url='${VIA_URLS[via]}' ;;`).join("\n");
  return [
    `n=${requests}`,
    "i=1",
    'while [ "$i" -le "$n" ]; do',
    `  for via in ${vias.join(" ")}; do`,
    '    case "$via" in',
    cases,
    "    esac",
    `    printf '${BEGIN} %s %s\\n' "$via" "$i"`,
    `    curl -s --max-time ${timeoutSeconds} -H 'Connection: close' -w '\\n${END} %{http_code} %{exitcode} %{errormsg}\\n' "$url"`,
    "  done",
    "  i=$((i + 1))",
    "done",
    `printf '${DONE}\\n'`,
  ].join("\n");
}

/** Splits the check's output back into requests. `complete` is false when the script did not finish. */
export function parseTranscript(stdout: string): { answers: RawAnswer[]; complete: boolean } {
  const answers: RawAnswer[] = [];
  let current: { via: Via; seq: number; body: string[] } | undefined;
  let complete = false;
  for (const line of stdout.split(/\r?\n/)) {
    if (line.startsWith(`${BEGIN} `)) {
      const [, via, seq] = line.split(" ");
      current = via === "reviews" || via === "productpage" ? { via, seq: Number(seq), body: [] } : undefined;
    } else if (line.startsWith(`${END} `) && current) {
      const match = /^@@end (\d{3}) (\d+) ?(.*)$/.exec(line);
      if (match) {
        answers.push({
          via: current.via,
          seq: current.seq,
          httpCode: Number(match[1]),
          curlExit: Number(match[2]),
          curlError: match[3].trim(),
          body: current.body.join("\n").trim(),
        });
      }
      current = undefined;
    } else if (line === DONE) {
      complete = true;
    } else if (current) {
      current.body.push(line);
    }
  }
  return { answers, complete };
}

/** Maps a curl exit code to the kind of connection failure it reports. */
export function curlErrorKind(exit: number): ErrorKind {
  switch (exit) {
    case 6:
      return "dns";
    case 7:
      return "connection-refused";
    case 28:
      return "timeout";
    case 52:
      return "empty-reply";
    case 55:
    case 56:
      return "connection-reset";
    default:
      return "curl-error";
  }
}

interface ReviewsBody {
  podname?: unknown;
  clustername?: unknown;
  reviews?: unknown;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function ratingsOf(reviews: unknown[]): { ratings: "stars" | "none" | "unavailable"; colour?: string } {
  const ratings = reviews
    .map((review) =>
      review && typeof review === "object" ? (review as { rating?: unknown }).rating : undefined,
    )
    .filter((rating): rating is Record<string, unknown> => !!rating && typeof rating === "object");
  if (ratings.length === 0) return { ratings: "none" };
  const withStars = ratings.find((rating) => typeof rating.stars === "number");
  if (!withStars) return { ratings: "unavailable" };
  return { ratings: "stars", colour: typeof withStars.color === "string" ? withStars.color : undefined };
}

function versionOf(pod: string, ratings: ReturnType<typeof ratingsOf>): ReviewsVersion | "unknown" {
  const fromName = /^reviews-(v[123])-/.exec(pod);
  if (fromName) return fromName[1] as ReviewsVersion;
  // Without a telling pod name, the shipped images still differ: v1 shows no stars, v2 black, v3 red.
  if (ratings.ratings === "none") return "v1";
  if (ratings.colour === "black") return "v2";
  if (ratings.colour === "red") return "v3";
  return "unknown";
}

function httpErrorOf(httpCode: number, body: string): Outcome {
  const text = body.trim();
  const short = text.length > 120 ? `${text.slice(0, 117)}...` : text;
  const detail = `HTTP ${httpCode}${short ? `: ${short}` : ""}`;
  if (text === "no healthy upstream") return { kind: "error", error: "no-healthy-upstream", detail };
  if (text.startsWith("upstream connect error or disconnect/reset before headers")) {
    return { kind: "error", error: "upstream-connect-error", detail };
  }
  if (text === "upstream request timeout") return { kind: "error", error: "upstream-timeout", detail };
  const json = parseJson(text) as { error?: unknown } | undefined;
  if (json && typeof json.error === "string" && /reviews are currently unavailable/.test(json.error)) {
    return { kind: "error", error: "reviews-unavailable", detail };
  }
  return { kind: "error", error: "http-error", detail };
}

/**
 * Reads one answer: which reviews version in which zone answered, or which kind of failure it was.
 * The zone comes from the pod's `clustername` (its CLUSTER_NAME); reviews without it print the literal
 * `null`, and then the stack's `reviewsZones` map stands in.
 */
export function classifyAnswer(raw: RawAnswer, reviewsZones: Record<string, string>): Outcome {
  if (raw.curlExit !== 0) {
    return {
      kind: "error",
      error: curlErrorKind(raw.curlExit),
      detail: `curl exit ${raw.curlExit}${raw.curlError ? `: ${raw.curlError}` : ""}`,
    };
  }
  if (raw.httpCode !== 200) return httpErrorOf(raw.httpCode, raw.body);
  const json = parseJson(raw.body) as ReviewsBody | undefined;
  if (!json || typeof json.podname !== "string" || !Array.isArray(json.reviews)) {
    const short = raw.body.length > 120 ? `${raw.body.slice(0, 117)}...` : raw.body;
    return { kind: "error", error: "bad-body", detail: `HTTP 200 without a reviews answer: ${short}` };
  }
  const ratings = ratingsOf(json.reviews);
  const version = versionOf(json.podname, ratings);
  const clustername = typeof json.clustername === "string" ? json.clustername : "";
  if (clustername && clustername !== "null") {
    return {
      kind: "answer",
      version,
      zone: clustername,
      zoneSource: "clustername",
      pod: json.podname,
      ratings: ratings.ratings,
    };
  }
  const mapped = version === "unknown" ? undefined : reviewsZones[version];
  return {
    kind: "answer",
    version,
    zone: mapped ?? "unknown",
    zoneSource: mapped ? "version" : "unknown",
    pod: json.podname,
    ratings: ratings.ratings,
  };
}
