import type { DataplaneMode, LocalityIntent } from "../../stacks/contract";
import { effectiveIntent } from "../../stacks/modes";
import { Via } from "../shared/answers";
import { HealthSnapshot, ZoneHealth } from "../shared/workloads";
import { ZoneTally } from "./tally";

/**
 * The intent the measurements are judged by: the one the stack says its data plane carries out.
 * Without a zonal waypoint ambient mode cannot pin traffic strictly (ztunnel knows only
 * `trafficDistribution: PreferClose`, which fails over; the program says so at preview), so `strict`
 * there is judged as `failover` rather than failing by design. A stack deployed before waypoints
 * does not say; it carried no waypoint.
 */
export function judgingIntent(
  mode: DataplaneMode,
  intent: LocalityIntent,
  carried: LocalityIntent = effectiveIntent(mode, intent, false),
): { intent: LocalityIntent; note?: string } {
  if (carried !== intent) {
    return {
      intent: carried,
      note:
        "locality `strict` in ambient mode without a waypoint works as `failover` (ztunnel reads only " +
        "trafficDistribution: PreferClose); judged as failover",
    };
  }
  return { intent };
}

/** How bad a finding is: violations and failures fail the check; the others are said and pass. */
export type Severity = "violation" | "failure" | "expected" | "note";

/** One statement about one zone and path. */
export interface Finding {
  zone: string;
  via: Via;
  severity: Severity;
  message: string;
}

/** The judgement of one round of requests. */
export interface RoundVerdict {
  /** False when any finding is a violation or a failure. */
  ok: boolean;
  /** The intent the round was judged by. */
  intent: LocalityIntent;
  findings: Finding[];
}

function healthyFor(via: Via, health: ZoneHealth | undefined): boolean {
  if (!health) return false;
  return via === "reviews" ? health.reviews > 0 : health.reviews > 0 && health.productpage > 0;
}

/**
 * Whether the client's own zone could serve the path, judged on snapshots taken before and after the
 * requests; `changed` when they disagree, since then no single answer can be called right or wrong.
 */
export function ownZoneHealth(
  via: Via,
  zone: string,
  before: HealthSnapshot,
  after: HealthSnapshot,
): boolean | "changed" {
  const a = healthyFor(via, before[zone]);
  const b = healthyFor(via, after[zone]);
  return a === b ? a : "changed";
}

/** Whether any zone could serve the path at all (reviews anywhere, and for productpage also productpage). */
export function pathServable(via: Via, snapshot: HealthSnapshot): boolean {
  const zones = Object.values(snapshot);
  const reviews = zones.some((health) => health.reviews > 0);
  return via === "reviews" ? reviews : reviews && zones.some((health) => health.productpage > 0);
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/**
 * Judges one zone's answers on one path against the intent:
 * - strict: any cross-zone answer is a violation; errors are expected only while the own zone has no
 *   ready endpoint (strict does not fail over, by design);
 * - failover: a cross-zone answer is a violation while the own zone is healthy, expected otherwise;
 *   errors fail while any zone could have answered;
 * - off: cross-zone answers are only reported; errors fail while any zone could have answered.
 */
export function judgeTally(
  intent: LocalityIntent,
  tally: ZoneTally,
  own: boolean | "changed",
  servable: boolean,
): Finding[] {
  const findings: Finding[] = [];
  const say = (severity: Severity, message: string): void => {
    findings.push({ zone: tally.zone, via: tally.via, severity, message });
  };
  const where = `${tally.zone} has ${own === true ? "ready" : "no ready"} ${tally.via === "reviews" ? "reviews" : "reviews/productpage"} endpoints`;
  if (own === "changed") {
    say("note", `endpoints in ${tally.zone} changed during the requests; answers not judged`);
    return findings;
  }
  if (tally.crossZone > 0) {
    const answers = plural(tally.crossZone, "answer");
    if (intent === "strict")
      say("violation", `${answers} from other zones; strict keeps ${tally.zone}'s traffic in ${tally.zone}`);
    else if (intent === "failover" && own) say("violation", `${answers} from other zones while ${where}`);
    else if (intent === "failover")
      say("expected", `${answers} from other zones: ${where}, so it fails over`);
    else say("note", `${answers} from other zones (locality off)`);
  }
  if (tally.failed > 0) {
    const errors = plural(tally.failed, "error");
    if (intent === "strict" && own) say("failure", `${errors} while ${where}`);
    else if (intent === "strict")
      say("expected", `${errors}: ${where} and strict locality does not fail over (by design)`);
    else if (servable) say("failure", `${errors} while other zones could answer`);
    else say("expected", `${errors}: no zone has ready endpoints`);
  }
  if (tally.unknownZone > 0) {
    say(
      "note",
      `${plural(tally.unknownZone, "answer")} without a zone (no CLUSTER_NAME and an unknown version)`,
    );
  }
  return findings;
}

/**
 * Judges a round of tallies. `drainedZone` names a zone whose reviews were just scaled to 0: an answer
 * still coming from there means the drill did not take effect, which fails the round.
 */
export function judgeRound(
  intent: LocalityIntent,
  tallies: readonly ZoneTally[],
  before: HealthSnapshot,
  after: HealthSnapshot,
  drainedZone?: string,
): RoundVerdict {
  const findings = tallies.flatMap((tally) => {
    const own = ownZoneHealth(tally.via, tally.zone, before, after);
    const servable = pathServable(tally.via, before) && pathServable(tally.via, after);
    const found = judgeTally(intent, tally, own, servable);
    if (drainedZone === tally.zone && tally.ownZone > 0) {
      found.push({
        zone: tally.zone,
        via: tally.via,
        severity: "failure",
        message: `${plural(tally.ownZone, "answer")} still came from ${tally.zone} after its reviews were scaled to 0`,
      });
    }
    return found;
  });
  return {
    ok: !findings.some((finding) => finding.severity === "violation" || finding.severity === "failure"),
    intent,
    findings,
  };
}

const SEVERITY_ORDER: Severity[] = ["violation", "failure", "expected", "note"];

/** The one-cell verdict for a zone and path: its worst finding, or `ok`. */
export function verdictCell(findings: readonly Finding[], zone: string, via: Via): string {
  const mine = findings.filter((finding) => finding.zone === zone && finding.via === via);
  const worst = SEVERITY_ORDER.find((severity) => mine.some((finding) => finding.severity === severity));
  if (!worst) return "ok";
  return worst === "violation" ? "VIOLATION" : worst === "failure" ? "FAILED" : worst;
}
