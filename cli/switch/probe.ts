import type { V1Pod } from "@kubernetes/client-node";
import { POD_LABELS, ZONE_LABEL } from "../../stacks/contract";
import { CONNECTION_ERRORS, VIA_URLS, curlErrorKind } from "../shared/answers";

/** Label every probe pod carries, valued with its run's id, so cleanup finds exactly one run's pods. */
export const PROBE_RUN_LABEL = "istio-locality.dev/probe-run";

/** What one zone's traffic probe needs. */
export interface ProbeSpec {
  /** Unique per switch run; part of the pod names and the cleanup selector. */
  runId: string;
  zone: string;
  namespace: string;
  /** An image with curl ≥ 8.16 (for `%time{}` in `-w`), the stack's `clientImage`. */
  image: string;
  /** Requests per second, constant. */
  rate: number;
  /** Upper bound on the probe's life: if cleanup never runs, the pod still stops by itself. */
  maxSeconds: number;
  /** A request not answered within this many seconds counts as failed. */
  timeoutSeconds: number;
}

/** Markers in the probe's log. */
export const PROBE_MARKERS = { ready: "PROBE-READY", notReady: "PROBE-NOT-READY", line: "PROBE" } as const;

/** Seconds the probe waits for its first successful answer before it declares the path unusable. */
export const PROBE_WARMUP_SECONDS = 120;

/** The probe pod's name: kebab-case, unique per run and zone. */
export function probePodName(runId: string, zone: string): string {
  return `switch-probe-${zone}-${runId}`.toLowerCase().slice(0, 63).replace(/-+$/, "");
}

/**
 * The probe's shell script. It first waits until its own path through the mesh answers (a sidecar may
 * still be starting), prints a ready marker, then hands over to one curl that requests productpage at a
 * constant rate over a URL glob and prints a line per request: completion time (curl's `%time{}`,
 * microseconds, UTC), duration, URL (its glob number counts the requests), HTTP status, curl exit
 * code and error. `Connection:
 * close` gives every request a new connection, like a fresh client, so ztunnel balances each one.
 */
export function probeScript(spec: Pick<ProbeSpec, "rate" | "maxSeconds" | "timeoutSeconds">): string {
  const url = VIA_URLS.productpage;
  const count = Math.max(1, Math.round(spec.rate * spec.maxSeconds));
  const format = `${PROBE_MARKERS.line}\\t%time{%Y-%m-%dT%H:%M:%S.%fZ}\\t%{time_total}\\t%{url}\\t%{http_code}\\t%{exitcode}\\t%{errormsg}\\n`;
  return [
    `url='${url}'`,
    "tries=0",
    `until curl -sf -o /dev/null --max-time ${spec.timeoutSeconds} "$url"; do`,
    "  tries=$((tries + 1))",
    `  if [ "$tries" -ge ${PROBE_WARMUP_SECONDS} ]; then`,
    `    echo "${PROBE_MARKERS.notReady} $(curl -s -o /dev/null --max-time ${spec.timeoutSeconds} -w '%{http_code} %{exitcode} %{errormsg}' "$url")"`,
    "    exit 3",
    "  fi",
    "  sleep 1",
    "done",
    `echo ${PROBE_MARKERS.ready}`,
    `exec curl -s -o /dev/null --rate ${spec.rate}/s --max-time ${spec.timeoutSeconds} -H 'Connection: close' \\`,
    `  -w '${format}' "$url?probe=[1-${count}]"`,
  ].join("\n");
}

/**
 * The probe pod for one zone: pinned to the zone by required node affinity, in the Bookinfo namespace
 * (so in the mesh the same way the clients are), a bare Pod rather than a Deployment so that a
 * namespace-wide rollout restart never replaces it mid-measurement.
 */
export function probePodManifest(spec: ProbeSpec): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: probePodName(spec.runId, spec.zone),
      namespace: spec.namespace,
      labels: {
        [POD_LABELS.app]: "switch-probe",
        [POD_LABELS.zone]: spec.zone,
        "app.kubernetes.io/managed-by": "istio-locality-switch",
        [PROBE_RUN_LABEL]: spec.runId,
      },
      // In sidecar mode the probe must not send before its own proxy runs; ignored in ambient mode.
      annotations: { "proxy.istio.io/config": "holdApplicationUntilProxyStarts: true" },
    },
    spec: {
      restartPolicy: "Never",
      terminationGracePeriodSeconds: 2,
      activeDeadlineSeconds: spec.maxSeconds + PROBE_WARMUP_SECONDS + 60,
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              {
                matchExpressions: [{ key: ZONE_LABEL, operator: "In", values: [spec.zone] }],
              },
            ],
          },
        },
      },
      containers: [
        {
          name: "probe",
          image: spec.image,
          command: ["sh", "-c", probeScript(spec)],
          resources: { requests: { cpu: "20m", memory: "16Mi" }, limits: { memory: "64Mi" } },
        },
      ],
    },
  };
}

/** One probe request. Times are milliseconds since the epoch, on the probe node's clock. */
export interface ProbeRecord {
  zone: string;
  /** When the request started (completion minus duration). */
  start: number;
  /** When the request finished. */
  end: number;
  /** The request's number within the probe's URL glob (1-based). */
  seq: number;
  httpCode: number;
  curlExit: number;
  /** curl's error message, empty on success. */
  error: string;
  /** An HTTP 200 with curl exit 0. */
  ok: boolean;
}

/** A probe's log, parsed. */
export interface ProbeLog {
  zone: string;
  /** The probe got its first answer and began measuring. */
  ready: boolean;
  /** The last failure the probe saw when it gave up waiting for its first answer. */
  notReady?: string;
  records: ProbeRecord[];
  /** Lines that looked like requests but could not be read (e.g. cut off mid-line). */
  malformed: number;
}

/** Reads `2025-11-25T19:20:01.123456Z` to milliseconds, keeping the microseconds as a fraction. */
export function parseProbeTime(text: string): number | undefined {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(text);
  if (!match) return undefined;
  const whole = Date.parse(`${match[1]}Z`);
  if (Number.isNaN(whole)) return undefined;
  const fraction = match[2] ? Number(`0.${match[2]}`) * 1000 : 0;
  return whole + fraction;
}

/** Parses one probe's log (as `kubectl logs` returns it). */
export function parseProbeLog(zone: string, log: string): ProbeLog {
  const result: ProbeLog = { zone, ready: false, records: [], malformed: 0 };
  for (const line of log.split(/\r?\n/)) {
    if (line === PROBE_MARKERS.ready) {
      result.ready = true;
    } else if (line.startsWith(PROBE_MARKERS.notReady)) {
      result.notReady = line.slice(PROBE_MARKERS.notReady.length).trim();
    } else if (line.startsWith(`${PROBE_MARKERS.line}\t`)) {
      const [, time, duration, url, http, exit, ...error] = line.split("\t");
      const end = parseProbeTime(time ?? "");
      const seconds = Number(duration);
      if (
        end === undefined ||
        !Number.isFinite(seconds) ||
        !/^\d{3}$/.test(http ?? "") ||
        !/^\d+$/.test(exit ?? "")
      ) {
        result.malformed += 1;
        continue;
      }
      const httpCode = Number(http);
      const curlExit = Number(exit);
      result.records.push({
        zone,
        start: end - seconds * 1000,
        end,
        seq: Number(/[?&]probe=(\d+)/.exec(url ?? "")?.[1] ?? 0),
        httpCode,
        curlExit,
        error: error.join("\t").trim(),
        ok: httpCode === 200 && curlExit === 0,
      });
    }
  }
  return result;
}

/** The failure kind of a probe request: curl's connection error, or the HTTP status. */
export function probeFailureKind(record: ProbeRecord): string {
  if (record.curlExit !== 0) return curlErrorKind(record.curlExit);
  return `http-${record.httpCode}`;
}

/** Whether a probe request failed without any component in the path answering. */
export function isConnectionFailure(record: ProbeRecord): boolean {
  return !record.ok && record.curlExit !== 0 && CONNECTION_ERRORS.has(curlErrorKind(record.curlExit));
}
