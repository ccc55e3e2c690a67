import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import {
  clientPodsByZone,
  reviewsDeploymentsInZone,
  rolloutPending,
  rolloutsPending,
} from "../../../cli/shared/workloads";

function pod(name: string, zone: string, ready: boolean, created: string, deleting = false): V1Pod {
  return {
    metadata: {
      name,
      labels: { app: "client", zone },
      creationTimestamp: created as unknown as Date,
      deletionTimestamp: deleting ? (created as unknown as Date) : undefined,
    },
    status: { phase: "Running", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  };
}

function deployment(
  name: string,
  labels: Record<string, string>,
  status: V1Deployment["status"],
  generation = 2,
  replicas = 1,
): V1Deployment {
  return {
    metadata: { name, generation },
    spec: { replicas, selector: {}, template: { metadata: { labels } } },
    status,
  };
}

describe("clientPodsByZone", () => {
  it("picks the oldest ready, not terminating client per zone and leaves out zones without one", () => {
    const pods = [
      pod("client-zone-a-new", "zone-a", true, "2025-12-18T05:10:00Z"),
      pod("client-zone-a-old", "zone-a", true, "2025-12-18T05:00:00Z"),
      pod("client-zone-b-unready", "zone-b", false, "2025-12-18T05:00:00Z"),
      pod("client-zone-c-going", "zone-c", true, "2025-12-18T05:00:00Z", true),
    ];
    const byZone = clientPodsByZone(pods, ["zone-a", "zone-b", "zone-c"]);
    expect(Object.keys(byZone)).toEqual(["zone-a"]);
    expect(byZone["zone-a"].metadata?.name).toBe("client-zone-a-old");
  });

  it("orders by time when client-node hands over Date objects", () => {
    // As strings these sort the other way round ("Mon …" < "Tue …").
    const older = pod("client-zone-a-tuesday", "zone-a", true, "2025-12-16T05:00:00Z");
    const newer = pod("client-zone-a-monday", "zone-a", true, "2025-12-22T05:00:00Z");
    older.metadata!.creationTimestamp = new Date("2025-12-16T05:00:00Z");
    newer.metadata!.creationTimestamp = new Date("2025-12-22T05:00:00Z");
    expect(clientPodsByZone([newer, older], ["zone-a"])["zone-a"].metadata?.name).toBe(
      "client-zone-a-tuesday",
    );
  });
});

describe("reviewsDeploymentsInZone", () => {
  it("finds reviews Deployments by their pod template's zone label", () => {
    const deployments = [
      deployment("reviews-v1", { app: "reviews", version: "v1", zone: "zone-a" }, {}),
      deployment("reviews-v2", { app: "reviews", version: "v2", zone: "zone-b" }, {}),
      deployment("productpage-zone-a", { app: "productpage", zone: "zone-a" }, {}),
    ];
    expect(reviewsDeploymentsInZone(deployments, "zone-a").map((d) => d.metadata?.name)).toEqual([
      "reviews-v1",
    ]);
    expect(reviewsDeploymentsInZone(deployments, "zone-c")).toEqual([]);
  });
});

describe("rolloutPending", () => {
  const done = {
    observedGeneration: 2,
    replicas: 1,
    updatedReplicas: 1,
    readyReplicas: 1,
    availableReplicas: 1,
  };

  it("is done when the generation is observed and updated, ready and total replicas match", () => {
    expect(rolloutPending(deployment("reviews-v1", {}, done))).toBeUndefined();
  });

  it.each([
    [{ ...done, observedGeneration: 1 }, "reviews-v1: generation 2 not yet observed"],
    [
      { ...done, replicas: 2, updatedReplicas: 1, readyReplicas: 2 },
      "reviews-v1: 1 updated, 2 ready, 2 in total of 1",
    ],
    [{ ...done, readyReplicas: 0 }, "reviews-v1: 1 updated, 0 ready, 1 in total of 1"],
  ])("is pending on %j", (status, reason) => {
    expect(rolloutPending(deployment("reviews-v1", {}, status))).toBe(reason);
  });

  it("lists only what is still pending", () => {
    expect(
      rolloutsPending([deployment("a", {}, done), deployment("b", {}, { ...done, observedGeneration: 1 })]),
    ).toEqual(["b: generation 2 not yet observed"]);
  });
});
