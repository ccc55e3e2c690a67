/** The cluster tier's checks of what istiod sends: each zone's endpoints for sidecars, ztunnel and the waypoint, and mTLS. */
import type * as k8s from "@kubernetes/client-node";
import * as path from "path";
import { podReady } from "../../readers/pods";
import { WAYPOINT } from "../../stacks/contract";
import { hasSidecar } from "./istiod";
import { clientPods, isWaypointPod } from "./cluster-tier-checks";
import {
  addressOf,
  cluster,
  hostOf,
  HOSTS,
  istioBin,
  NAMESPACE,
  profile,
  PROXY_VERSION,
  REGION,
  SERVICES,
  ZONES,
  ZTUNNEL_STRICT_POLICY,
} from "./cluster-tier-setting";
import {
  carriesTraffic,
  localityGroups,
  outboundCluster,
  readOnce,
  sidecarIdentity,
  waypointCluster,
  waypointIdentity,
  XdsFollower,
  ztunnelIdentity,
  ztunnelView,
} from "./xds";

export const reader = () => path.join(istioBin, "xds-reader");

/** What istiod sends each zone's client sidecar for every Bookinfo service, judged per intent. */
export async function expectSidecarEndpoints(intent: "strict" | "failover" | "off"): Promise<void> {
  const clients = await clientPods();
  expect(Object.keys(clients).sort()).toEqual(ZONES);
  for (const [zone, pod] of Object.entries(clients)) {
    const { snapshot } = await readOnce(reader(), sidecarIdentity(pod, PROXY_VERSION), HOSTS);
    for (const service of SERVICES) {
      const groups = localityGroups(snapshot[outboundCluster(hostOf(service), 9080)]).filter(
        (g) => g.endpoints.length > 0,
      );
      const label = `${zone} → ${service}`;
      expect([label, groups.every((g) => g.region === REGION)]).toEqual([label, true]);
      const own = groups.filter((g) => g.zone === zone);
      expect([label, own.some((g) => g.endpoints.some((e) => e.health === "HEALTHY"))]).toEqual([
        label,
        true,
      ]);
      if (intent === "strict") {
        const carrying = [...new Set(groups.filter(carriesTraffic).map((g) => g.zone))];
        expect([label, carrying]).toEqual([label, [zone]]);
      } else if (intent === "failover") {
        expect([label, own.map((g) => g.priority)]).toEqual([label, [0]]);
        const others = groups.filter((g) => g.zone !== zone);
        expect([label, others.length, others.every((g) => g.priority > 0)]).toEqual([label, 2, true]);
      } else {
        const zones = [...new Set(groups.map((g) => g.zone))].sort();
        expect([label, zones, groups.every((g) => g.priority === 0 && carriesTraffic(g))]).toEqual([
          label,
          ZONES,
          true,
        ]);
      }
    }
  }
}

/**
 * Under `mtls: strict` every Bookinfo sidecar accepts its service port over mTLS only: each
 * filter chain istiod sends its inbound listener for port 9080 matches TLS, none plaintext.
 */
export async function expectSidecarsAcceptOnlyMtls(): Promise<void> {
  const pods = (await cluster.pods(NAMESPACE)).filter(podReady).filter(hasSidecar);
  for (const service of SERVICES) {
    const pod = pods.find((p) => p.metadata!.labels?.app === service);
    expect([service, pod !== undefined]).toEqual([service, true]);
    const { listeners } = await readOnce(reader(), sidecarIdentity(pod!, PROXY_VERSION), HOSTS);
    const chains = (listeners?.virtualInbound?.filterChains ?? []).filter(
      (c: any) => c.filterChainMatch?.destinationPort === 9080,
    );
    const protocols = [...new Set(chains.map((c: any) => c.filterChainMatch?.transportProtocol))];
    expect([service, protocols]).toEqual([service, ["tls"]]);
  }
}

/**
 * What istiod sends each zone's waypoint replica for every Bookinfo service: under `strict`, only
 * endpoints of the replica's own zone carry traffic, and there is a healthy one.
 */
export async function expectWaypointEndpoints(pods: k8s.V1Pod[]): Promise<void> {
  const nodeZones = await cluster.nodeZones();
  for (const pod of pods) {
    const zone = nodeZones[pod.spec!.nodeName!]!;
    const { snapshot } = await readOnce(reader(), waypointIdentity(pod, PROXY_VERSION), HOSTS);
    for (const service of SERVICES) {
      const label = `waypoint ${zone} → ${service}`;
      const groups = localityGroups(snapshot[waypointCluster(hostOf(service), 9080)]).filter(
        (g) => g.endpoints.length > 0,
      );
      expect([label, groups.every((g) => g.region === REGION)]).toEqual([label, true]);
      const carrying = [...new Set(groups.filter(carriesTraffic).map((g) => g.zone))];
      expect([label, carrying]).toEqual([label, [zone]]);
      const own = groups.filter((g) => g.zone === zone);
      expect([label, own.some((g) => g.endpoints.some((e) => e.health === "HEALTHY"))]).toEqual([
        label,
        true,
      ]);
    }
  }
}

/**
 * What istiod sends ztunnel: zone-preferring Services, each pointing at the waypoint, whose own
 * Service prefers the client's zone too; zoned workloads, HBONE for captured pods only.
 */
export async function expectZtunnelConfig(): Promise<void> {
  const [ztunnel] = (await cluster.pods("istio-system", "app=ztunnel")).filter(podReady);
  expect(ztunnel).toBeDefined();
  const read = await readOnce(reader(), ztunnelIdentity(ztunnel, PROXY_VERSION));
  const { workloads, services } = ztunnelView(read.snapshot);
  // mtls: strict reaches ztunnel as a deny-without-identity policy that every Bookinfo workload names.
  expect(read.authorizations?.[ZTUNNEL_STRICT_POLICY]?.action).toBe("DENY");
  const waypointService = await cluster.core.readNamespacedService(WAYPOINT.name, NAMESPACE);
  const waypointAddress = waypointService.body.spec!.clusterIP!;
  for (const host of [...HOSTS, hostOf(WAYPOINT.name)]) {
    const found = services.find((s) => s.hostname === host);
    expect([host, found?.loadBalancing?.mode, found?.loadBalancing?.routingPreference]).toEqual([
      host,
      "FAILOVER",
      expect.arrayContaining(["ZONE"]),
    ]);
  }
  // istiod names a Service's waypoint by address or by hostname (the workload API allows either).
  const namesWaypoint = (waypoint: any): boolean =>
    addressOf(waypoint?.address?.address) === waypointAddress ||
    waypoint?.hostname?.hostname === hostOf(WAYPOINT.name);
  for (const host of HOSTS) {
    const found = services.find((s) => s.hostname === host);
    expect([host, found?.waypoint, namesWaypoint(found?.waypoint)]).toEqual([host, found?.waypoint, true]);
  }
  const nodeZones = await cluster.nodeZones();
  for (const pod of (await cluster.pods(NAMESPACE)).filter(podReady)) {
    const workload = workloads.find((w) => w.name === pod.metadata!.name && w.namespace === NAMESPACE);
    expect([pod.metadata!.name, workload?.locality?.zone]).toEqual([
      pod.metadata!.name,
      nodeZones[pod.spec!.nodeName!],
    ]);
    expect([pod.metadata!.name, workload?.authorizationPolicies]).toEqual([
      pod.metadata!.name,
      expect.arrayContaining([ZTUNNEL_STRICT_POLICY]),
    ]);
    // The waypoint's pods are not captured: they take HBONE themselves.
    if (!isWaypointPod(pod))
      expect([pod.metadata!.name, workload?.tunnelProtocol]).toEqual([pod.metadata!.name, "HBONE"]);
  }
  for (const pod of (await cluster.pods("istio-ingress")).filter(podReady)) {
    const workload = workloads.find((w) => w.name === pod.metadata!.name);
    // A pod with a sidecar is reached the way its proxy listens, not through ztunnel's tunnel.
    expect([pod.metadata!.name, workload?.tunnelProtocol]).toEqual([pod.metadata!.name, undefined]);
  }
}

/** Readers that follow what istiod sends each zone's client sidecar and ztunnel while a switch runs. */
export async function followSwitch(): Promise<{
  sidecars: Record<string, XdsFollower>;
  ztunnel: XdsFollower;
}> {
  const clients = await clientPods();
  const sidecars = Object.fromEntries(
    Object.entries(clients).map(([zone, pod]) => [
      zone,
      new XdsFollower(reader(), sidecarIdentity(pod, PROXY_VERSION, `${REGION}/${zone}`), HOSTS, "30m"),
    ]),
  );
  // ztunnel may not run yet when the switch starts: a ztunnel identity on the first node stands in.
  const standIn = {
    metadata: { name: "ztunnel-lab-reader", namespace: "istio-system" },
    spec: { serviceAccountName: "ztunnel", nodeName: profile },
    status: { podIP: "10.244.0.250" },
  } as k8s.V1Pod;
  return {
    sidecars,
    ztunnel: new XdsFollower(reader(), ztunnelIdentity(standIn, PROXY_VERSION), [], "30m"),
  };
}

/**
 * Every push a follower received during the switch keeps, for each zone and each service, a
 * healthy in-zone endpoint that carries traffic: the configuration a client holds never leaves its
 * zone without a ready local backend. Returns the breaches.
 */
export function inZoneGaps(followers: {
  sidecars: Record<string, XdsFollower>;
  ztunnel: XdsFollower;
}): string[] {
  const gaps: string[] = [];
  for (const [zone, follower] of Object.entries(followers.sidecars)) {
    const snapshots = follower.snapshots();
    if (snapshots.length === 0) gaps.push(`${zone}: the sidecar reader got no configuration`);
    for (const { at, snapshot } of snapshots) {
      for (const service of SERVICES) {
        const own = localityGroups(snapshot[outboundCluster(hostOf(service), 9080)]).filter(
          (g) => g.zone === zone && carriesTraffic(g),
        );
        if (!own.some((g) => g.endpoints.some((e) => e.health === "HEALTHY")))
          gaps.push(`sidecar ${zone} → ${service} at ${new Date(at).toISOString()}`);
      }
    }
  }
  for (const { at, snapshot } of followers.ztunnel.snapshots()) {
    const { workloads, services } = ztunnelView(snapshot);
    if (!services.some((s) => HOSTS.includes(s.hostname))) continue;
    for (const service of SERVICES) {
      for (const zone of ZONES) {
        const serving = workloads.filter(
          (w) =>
            w.locality?.zone === zone &&
            w.status !== "UNHEALTHY" &&
            Object.keys(w.services ?? {}).some((key) => key.endsWith(`/${hostOf(service)}`)),
        );
        if (serving.length === 0) gaps.push(`ztunnel ${zone} → ${service} at ${new Date(at).toISOString()}`);
      }
    }
  }
  return gaps;
}
