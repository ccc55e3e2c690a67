import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { V1Pod } from "@kubernetes/client-node";
import { parseConfig } from "../../stacks/config";
import { LiveMesh, meshPieces, orderingMode, readLiveMesh } from "../../readers/live-mesh";
import { apiServer, json, kubeconfigFile, refusedUrl } from "../helpers/api-server";
import { runUnderMocks } from "../helpers/program";

const pod = (name: string, containers: string[], labels: Record<string, string> = {}): V1Pod => ({
  metadata: { name, labels },
  spec: { containers: containers.map((c) => ({ name: c })) },
});
const nativeSidecarPod = (name: string): V1Pod => ({
  metadata: { name },
  spec: { initContainers: [{ name: "istio-proxy" }], containers: [{ name: "app" }] },
});

describe("meshPieces", () => {
  it("names ztunnel and the ambient label as ambient, the injection label and sidecar pods as sidecar", () => {
    expect(
      meshPieces(
        "bookinfo",
        { "istio.io/dataplane-mode": "ambient", "istio-injection": "enabled" },
        [nativeSidecarPod("details-1"), pod("ratings-1", ["app", "istio-proxy"]), pod("client-1", ["app"])],
        true,
      ),
    ).toEqual({
      ambient: [
        "DaemonSet istio-system/ztunnel",
        "namespace bookinfo labelled istio.io/dataplane-mode=ambient",
      ],
      sidecar: [
        "namespace bookinfo labelled istio-injection=enabled",
        "2 pod(s) in bookinfo with an istio-proxy sidecar",
      ],
    });
  });

  it("does not count the waypoint's pods, which are proxies, nor pods on their way out", () => {
    const waypoint = pod("waypoint-1", ["istio-proxy"], {
      "gateway.istio.io/managed": "istio.io-mesh-controller",
    });
    const leaving = {
      ...nativeSidecarPod("details-1"),
      metadata: { name: "details-1", deletionTimestamp: new Date() },
    };
    expect(meshPieces("bookinfo", {}, [waypoint, leaving], false)).toEqual({ ambient: [], sidecar: [] });
  });

  it("finds nothing in a namespace that does not exist yet", () => {
    expect(meshPieces("bookinfo", undefined, [], false)).toEqual({ ambient: [], sidecar: [] });
  });
});

const SIDECAR: LiveMesh = { ambient: [], sidecar: ["namespace bookinfo labelled istio-injection=enabled"] };
const AMBIENT: LiveMesh = { ambient: ["DaemonSet istio-system/ztunnel"], sidecar: [] };
const HALF: LiveMesh = {
  ambient: ["DaemonSet istio-system/ztunnel"],
  sidecar: ["3 pod(s) in bookinfo with an istio-proxy sidecar"],
};
const NOTHING: LiveMesh = { ambient: [], sidecar: [] };
const CLUSTERS = {
  "sidecar only": SIDECAR,
  "ambient only": AMBIENT,
  "half switched": HALF,
  "nothing yet": NOTHING,
};

describe("orderingMode", () => {
  it.each([
    // next, what the cluster runs, the last outputs → the mode the run switches from
    ["ambient", "sidecar only", "sidecar", "sidecar"],
    ["ambient", "ambient only", "ambient", "ambient"],
    ["sidecar", "ambient only", "ambient", "ambient"],
    ["sidecar", "sidecar only", "sidecar", "sidecar"],
    // A switch into ambient that stopped half way: resumed, or rolled back.
    ["ambient", "half switched", "ambient", "sidecar"],
    ["sidecar", "half switched", "ambient", "ambient"],
    ["ambient", "half switched", "sidecar", "sidecar"],
    ["sidecar", "half switched", "sidecar", "ambient"],
    // Nothing of the mesh yet: an install, whatever the outputs say.
    ["ambient", "nothing yet", "sidecar", undefined],
    ["sidecar", "nothing yet", undefined, undefined],
  ] as const)(
    "to %s with the cluster %s and the outputs saying %s: from %s",
    (next, live, last, expected) => {
      expect(orderingMode(next, CLUSTERS[live], last).previous).toBe(expected);
    },
  );

  it("follows the last outputs when there is no cluster to ask", () => {
    expect(orderingMode("sidecar", undefined, "ambient")).toEqual({ previous: "ambient" });
    expect(orderingMode("ambient", undefined, undefined)).toEqual({ previous: undefined });
  });

  it("says nothing when the cluster agrees with the last outputs", () => {
    expect(orderingMode("ambient", SIDECAR, "sidecar").note).toBeUndefined();
    expect(orderingMode("sidecar", HALF, "ambient").note).toBeUndefined();
  });

  it("says what the cluster runs and which way the run goes when they disagree", () => {
    expect(orderingMode("sidecar", HALF, "sidecar").note).toBe(
      "the last run's outputs say `sidecar`, but the cluster runs pieces of both modes " +
        "(DaemonSet istio-system/ztunnel; 3 pod(s) in bookinfo with an istio-proxy sidecar): this run " +
        "orders its steps as a switch from `ambient` to `sidecar`, completing or undoing a switch that " +
        "stopped half way",
    );
    expect(orderingMode("ambient", SIDECAR, "ambient").note).toBe(
      "the last run's outputs say `ambient`, but the cluster runs `sidecar` " +
        "(namespace bookinfo labelled istio-injection=enabled): this run orders its steps as a switch " +
        "from `sidecar` to `ambient`",
    );
  });
});

describe("readLiveMesh", () => {
  const existing = (kubeconfig: string) =>
    parseConfig({ cluster: { provider: "existing", kubeconfig } }, "sidecar");

  it("reads the namespace's labels, its pods and ztunnel's DaemonSet; a 404 is an absence", async () => {
    const server = await apiServer((response, request) => {
      if (request.url === "/api/v1/namespaces/bookinfo") {
        json(200, { metadata: { name: "bookinfo", labels: { "istio.io/dataplane-mode": "ambient" } } })(
          response,
        );
      } else if (request.url === "/api/v1/namespaces/bookinfo/pods") {
        json(200, { items: [nativeSidecarPod("details-1")] })(response);
      } else {
        json(404, { kind: "Status", code: 404, reason: "NotFound" })(response);
      }
    });
    try {
      expect(await readLiveMesh(existing(kubeconfigFile(server.url)), 2_000)).toEqual({
        ambient: ["namespace bookinfo labelled istio.io/dataplane-mode=ambient"],
        sidecar: ["1 pod(s) in bookinfo with an istio-proxy sidecar"],
      });
      expect(server.requests.map((r) => r.split(" ")[1]).sort()).toEqual([
        "/api/v1/namespaces/bookinfo",
        "/api/v1/namespaces/bookinfo/pods",
        "/apis/apps/v1/namespaces/istio-system/daemonsets/ztunnel",
      ]);
    } finally {
      await server.close();
    }
  });

  it("throws when the cluster refuses or does not answer in time, rather than guessing", async () => {
    await expect(readLiveMesh(existing(kubeconfigFile(await refusedUrl())), 2_000)).rejects.toThrow(
      /ECONNREFUSED/,
    );
    const silent = await apiServer();
    try {
      await expect(readLiveMesh(existing(kubeconfigFile(silent.url)), 200)).rejects.toBeDefined();
    } finally {
      await silent.close();
    }
  });

  it("has no cluster to ask before a minikube profile has written its kubeconfig", async () => {
    const profile = `never-started-${process.pid}`;
    expect(fs.existsSync(path.join(os.homedir(), ".kube", `${profile}.yaml`))).toBe(false);
    expect(await readLiveMesh(parseConfig({ cluster: { profile } }, "sidecar"))).toBeUndefined();
  });
});

describe("the program orders a run by what the cluster runs", () => {
  it("rolls a half-done switch back in the order out of ambient, whatever the last outputs say", async () => {
    const run = await runUnderMocks(
      { dataplaneMode: "sidecar" },
      { previousMode: "sidecar", liveMesh: HALF },
    );
    expect(run.outputs.migration).toBe("ambient → sidecar");
    expect(run.warnings).toContainEqual(
      expect.stringContaining("completing or undoing a switch that stopped half way"),
    );
  });

  it("resumes a half-done switch into ambient in the order into ambient", async () => {
    const run = await runUnderMocks(
      { dataplaneMode: "ambient" },
      { previousMode: "ambient", liveMesh: HALF },
    );
    expect(run.outputs.migration).toBe("sidecar → ambient");
  });

  it("goes by the last outputs, and says so, when the cluster does not answer", async () => {
    const run = await runUnderMocks(
      { dataplaneMode: "sidecar" },
      { previousMode: "ambient", liveMesh: new Error("connect ECONNREFUSED 127.0.0.1:6443") },
    );
    expect(run.outputs.migration).toBe("ambient → sidecar");
    expect(run.warnings).toContain(
      "could not read which dataplane the cluster runs (connect ECONNREFUSED 127.0.0.1:6443); " +
        "the switch order follows the last run's outputs (`ambient`)",
    );
  });
});
