import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseConfig } from "../../stacks/config";
import {
  checkNodeLocality,
  describeReadFailure,
  NODE_CHECK_TIMEOUT_MS,
  NodeLabels,
  readNodes,
  regionProblems,
} from "../../readers/nodes";
import { apiServer, json, kubeconfigFile, refusedUrl } from "../helpers/api-server";
import { runUnderMocks } from "../helpers/program";

const ZONES = ["zone-a", "zone-b", "zone-c"];
const node = (name: string, region: string | undefined, zone: string | undefined): NodeLabels => ({
  name,
  labels: {
    "kubernetes.io/hostname": name,
    ...(region === undefined ? {} : { "topology.kubernetes.io/region": region }),
    ...(zone === undefined ? {} : { "topology.kubernetes.io/zone": zone }),
  },
});
const labelled = (region: string) => ZONES.map((zone, i) => node(`node-${i + 1}`, region, zone));

describe("regionProblems", () => {
  it("finds nothing when every zone has a node and the nodes carry the region", () => {
    expect(regionProblems(labelled("region-1"), "region-1", ZONES)).toEqual([]);
  });

  it("names the region the nodes carry when it is another one", () => {
    expect(regionProblems(labelled("us-east1"), "region-1", ZONES)).toEqual([
      "`istio-locality:cluster.region` is `region-1`; expected the region the nodes carry " +
        "(`us-east1` on node-1, node-2, node-3)",
    ]);
  });

  it("names every region when the nodes of the zones do not share one", () => {
    const nodes = [
      node("node-1", "region-1", "zone-a"),
      node("node-2", "region-2", "zone-b"),
      node("node-3", undefined, "zone-c"),
    ];
    expect(regionProblems(nodes, "region-1", ZONES)).toEqual([
      "`istio-locality:cluster.region` is `region-1`; expected the one region every node of the zones " +
        "carries, since strict locality names a single region (`region-1` on node-1; `region-2` on node-2; " +
        "no `topology.kubernetes.io/region` label on node-3)",
    ]);
  });

  it("says when the nodes carry no region label at all", () => {
    const nodes = ZONES.map((zone, i) => node(`node-${i + 1}`, undefined, zone));
    expect(regionProblems(nodes, "region-1", ZONES)).toEqual([
      "`istio-locality:cluster.region` is `region-1`; expected the region the nodes carry " +
        "(no `topology.kubernetes.io/region` label on node-1, node-2, node-3)",
    ]);
  });

  it("judges the region on the nodes of the zones only", () => {
    const nodes = [
      ...labelled("region-1"),
      node("gpu-1", "region-9", "zone-x"),
      node("edge-1", undefined, undefined),
    ];
    expect(regionProblems(nodes, "region-1", ZONES)).toEqual([]);
  });

  it("names a zone no node carries, with the zones the nodes do carry", () => {
    const nodes = [node("node-1", "region-1", "zone-a"), node("node-2", "region-1", "zone-b")];
    expect(regionProblems(nodes, "region-1", ZONES)).toEqual([
      '`istio-locality:zones` is `["zone-a","zone-b","zone-c"]`; expected zones the nodes carry in ' +
        "`topology.kubernetes.io/zone`; no node carries `zone-c` (`zone-a` on node-1; `zone-b` on node-2)",
    ]);
  });

  it("names each missing zone and, with none of them carried, judges the region on every node", () => {
    const nodes = [node("n1", "us-east1", "us-east1-b"), node("n2", "us-east1", "us-east1-c")];
    const problems = regionProblems(nodes, "region-1", ["zone-a", "zone-b"]);
    expect(problems).toEqual([
      expect.stringContaining("no node carries `zone-a` (`us-east1-b` on n1; `us-east1-c` on n2)"),
      expect.stringContaining("no node carries `zone-b`"),
      "`istio-locality:cluster.region` is `region-1`; expected the region the nodes carry (`us-east1` on n1, n2)",
    ]);
    expect(problems[0]).toMatch(/^`istio-locality:zones` is `\["zone-a","zone-b"\]`; expected zones/);
  });

  it("says so when the cluster lists no nodes", () => {
    expect(regionProblems([], "region-1", ["zone-a"])).toEqual([
      '`istio-locality:zones` is `["zone-a"]`; expected zones the nodes carry in `topology.kubernetes.io/zone`; ' +
        "no node carries `zone-a` (the cluster lists no nodes)",
    ]);
  });

  it("shows a few node names per value and counts the rest", () => {
    const nodes = Array.from({ length: 8 }, (_, i) => node(`n${i + 1}`, "us-east1", "zone-a"));
    expect(regionProblems(nodes, "region-1", ["zone-a"])).toEqual([
      expect.stringContaining("(`us-east1` on n1, n2, n3, n4, n5 and 3 more)"),
    ]);
  });
});

describe("describeReadFailure", () => {
  it("reads the Status of an API error", () => {
    const forbidden = Object.assign(new Error("HTTP request failed"), {
      statusCode: 403,
      body: { kind: "Status", message: 'nodes is forbidden: User "lab" cannot list resource "nodes"' },
    });
    expect(describeReadFailure(forbidden, 10_000)).toBe(
      'HTTP 403: nodes is forbidden: User "lab" cannot list resource "nodes"',
    );
  });

  it("says how long it waited on a timeout", () => {
    const timeout = Object.assign(new Error("ESOCKETTIMEDOUT"), { code: "ESOCKETTIMEDOUT" });
    expect(describeReadFailure(timeout, 10_000)).toBe("no answer within 10 s (ESOCKETTIMEDOUT)");
  });

  it("passes other messages on", () => {
    expect(describeReadFailure(new Error("connect ECONNREFUSED 127.0.0.1:9"), 10_000)).toBe(
      "connect ECONNREFUSED 127.0.0.1:9",
    );
    expect(describeReadFailure("odd", 10_000)).toBe("odd");
  });
});

const nodeList = (nodes: NodeLabels[]) =>
  json(200, {
    kind: "NodeList",
    apiVersion: "v1",
    items: nodes.map((n) => ({ metadata: { name: n.name, labels: n.labels } })),
  });

/** An existing cluster whose nodes came labelled. */
const existing = (cluster: Record<string, unknown> = {}) =>
  parseConfig({ cluster: { provider: "existing", kubeconfig: __filename, ...cluster } }, "sidecar");

describe("readNodes", () => {
  it("lists the nodes with their labels through the kubeconfig's current context", async () => {
    const server = await apiServer(nodeList(labelled("region-1")));
    try {
      const nodes = await readNodes(existing({ kubeconfig: kubeconfigFile(server.url) }), 2_000);
      expect(nodes).toEqual(labelled("region-1"));
      expect(server.requests).toEqual(["GET /api/v1/nodes Bearer current-token"]);
    } finally {
      await server.close();
    }
  });

  it("uses the given context, not the current one", async () => {
    const server = await apiServer(nodeList(labelled("region-1")));
    try {
      await readNodes(
        existing({ kubeconfig: kubeconfigFile(await refusedUrl(), server.url), context: "lab" }),
        2_000,
      );
      expect(server.requests).toEqual(["GET /api/v1/nodes Bearer lab-token"]);
    } finally {
      await server.close();
    }
  });

  it("rejects with the API server's Status when listing nodes is forbidden", async () => {
    const message = 'nodes is forbidden: User "lab" cannot list resource "nodes" at the cluster scope';
    const server = await apiServer(json(403, { kind: "Status", status: "Failure", message, code: 403 }));
    try {
      const failure = await readNodes(existing({ kubeconfig: kubeconfigFile(server.url) }), 2_000).catch(
        (e: unknown) => e,
      );
      expect(describeReadFailure(failure, 2_000)).toBe(`HTTP 403: ${message}`);
    } finally {
      await server.close();
    }
  });

  it("gives up on a server that never answers after its timeout", async () => {
    const server = await apiServer();
    try {
      const started = Date.now();
      const failure = await readNodes(existing({ kubeconfig: kubeconfigFile(server.url) }), 300).catch(
        (e: unknown) => e,
      );
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(describeReadFailure(failure, 300)).toBe("no answer within 0.3 s (ESOCKETTIMEDOUT)");
    } finally {
      await server.close();
    }
  });
});

describe("checkNodeLocality", () => {
  let warnings: string[];
  beforeEach(() => {
    warnings = [];
    jest.spyOn(pulumi.log, "warn").mockImplementation((message: string) => {
      warnings.push(message);
      return Promise.resolve();
    });
  });
  afterEach(() => jest.restoreAllMocks());

  it("reads the nodes of an existing cluster whose nodes came labelled, within the timeout", async () => {
    const read = jest.fn(() => Promise.resolve(labelled("region-1")));
    const config = existing({ context: "lab" });
    await checkNodeLocality(config, read);
    expect(read).toHaveBeenCalledWith(config, NODE_CHECK_TIMEOUT_MS);
    expect(NODE_CHECK_TIMEOUT_MS).toBeLessThanOrEqual(10_000);
    expect(warnings).toEqual([]);
  });

  it("throws a ConfigError with every problem when the nodes disagree", async () => {
    const read = () => Promise.resolve(labelled("us-east1").slice(0, 2));
    const error = (await checkNodeLocality(existing(), read).catch((e: unknown) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems).toEqual([
      expect.stringContaining("`istio-locality:zones` is"),
      expect.stringContaining(
        "`istio-locality:cluster.region` is `region-1`; expected the region the nodes carry",
      ),
    ]);
  });

  it("warns and goes on when the nodes cannot be read", async () => {
    const read = () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:9"));
    await expect(checkNodeLocality(existing({ region: "us-east1" }), read)).resolves.toBeUndefined();
    expect(warnings).toEqual([
      "could not check `istio-locality:cluster.region` (`us-east1`) against the nodes: connect ECONNREFUSED " +
        "127.0.0.1:9. Strict DestinationRules name `us-east1/<zone>/*`; if the nodes carry another " +
        "`topology.kubernetes.io/region`, no strict rule matches a client and requests spread over every zone",
    ]);
  });

  it.each<[string, Record<string, unknown>]>([
    ["minikube", { cluster: {} }],
    [
      "an existing cluster the program labels",
      { cluster: { provider: "existing", kubeconfig: __filename, nodeZones: { n: "zone-a" } } },
    ],
  ])("leaves %s alone", async (_, raw) => {
    const read = jest.fn(() => Promise.resolve([]));
    await checkNodeLocality(parseConfig(raw, "sidecar"), read);
    expect(read).not.toHaveBeenCalled();
  });
});

describe("the program on an existing cluster whose nodes came labelled", () => {
  const config = (kubeconfig: string, cluster: Record<string, unknown> = {}) => ({
    cluster: { provider: "existing", kubeconfig, ...cluster },
  });

  it("declares the lab when the nodes carry the region and zones", async () => {
    const server = await apiServer(nodeList(labelled("us-east1")));
    try {
      const run = await runUnderMocks(config(kubeconfigFile(server.url), { region: "us-east1" }));
      expect(server.requests).toHaveLength(1);
      expect(run.warnings).toEqual([]);
      expect(
        run.get("locality-reviews-rule").inputs.spec.trafficPolicy.loadBalancer.localityLbSetting
          .distribute[0],
      ).toEqual({ from: "us-east1/zone-a/*", to: { "us-east1/zone-a/*": 100 } });
    } finally {
      await server.close();
    }
  });

  it("fails before declaring anything when the nodes carry another region", async () => {
    const server = await apiServer(nodeList(labelled("us-east1")));
    try {
      await expect(runUnderMocks(config(kubeconfigFile(server.url)))).rejects.toThrow(
        "`istio-locality:cluster.region` is `region-1`; expected the region the nodes carry " +
          "(`us-east1` on node-1, node-2, node-3)",
      );
    } finally {
      await server.close();
    }
  });

  it("warns and declares the lab when nobody answers at the cluster's address", async () => {
    const started = Date.now();
    const run = await runUnderMocks(config(kubeconfigFile(await refusedUrl())));
    expect(Date.now() - started).toBeLessThan(NODE_CHECK_TIMEOUT_MS);
    expect(run.warnings).toEqual([
      expect.stringMatching(
        /^could not check `istio-locality:cluster\.region` \(`region-1`\) against the nodes: .*ECONNREFUSED/,
      ),
    ]);
    expect(run.byType("kubernetes:networking.istio.io/v1:DestinationRule")).toHaveLength(4);
  });
});
