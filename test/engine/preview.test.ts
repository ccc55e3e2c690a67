import * as fs from "fs";
import * as path from "path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { previewSwitch } from "../../cli/preview-switch/preview";
import { summarisePlan } from "../../cli/preview-switch/plan";
import { WAYPOINT_STRICT_NOTE } from "../../stacks/modes";
import { kubeconfigFile } from "../helpers/api-server";
import { GATEWAY_API_CRD_PLURALS, PROJECT_DIR, shippedStackConfig } from "../helpers/stacks";
import { configPaths, createTestStack, inlineProgram } from "../helpers/workspace";

jest.setTimeout(15 * 60 * 1000);

const ZONES = ["zone-a", "zone-b", "zone-c"];
const charts = process.env.ISTIO_LOCALITY_CHARTS;
const gatewayApi = process.env.ISTIO_LOCALITY_GATEWAY_API;

/**
 * What this machine cannot reach, swapped for what it can, all else as shipped: Istio's Helm
 * repository for the chart folder of `scripts/charts.sh`, and minikube — whose `command:local:Command`
 * needs the command provider, which the Go module proxy does not serve — for an existing cluster of
 * the same node names that nobody answers at (previews of new resources do not need one).
 */
function offline(config: Record<string, unknown>, stack: string): Record<string, unknown> {
  // Port 9 (discard) on loopback: nothing listens there.
  const kubeconfig = kubeconfigFile("https://127.0.0.1:9");
  const profile = `istio-locality-${stack}`;
  return {
    ...config,
    cluster: {
      provider: "existing",
      kubeconfig,
      nodeZones: { [profile]: "zone-a", [`${profile}-m02`]: "zone-b", [`${profile}-m03`]: "zone-c" },
    },
    istio: { chartDirectory: charts, gatewayApiCrds: gatewayApi },
  };
}

/** Every resource a fresh stack of a mode declares, as `type name`. */
function expectedResources(mode: "sidecar" | "ambient", stack: string): string[] {
  const profile = `istio-locality-${stack}`;
  const k8s = (type: string, name: string) => `kubernetes:${type} ${name}`;
  const services = ["details", "ratings", "reviews", "productpage"];
  return [
    `pulumi:pulumi:Stack istio-locality-${stack}`,
    "pulumi:providers:pulumi default",
    "istio-locality:lab:Lab lab",
    "istio-locality:cluster:Cluster cluster",
    "pulumi:providers:kubernetes cluster-provider",
    ...[profile, `${profile}-m02`, `${profile}-m03`].map((node) =>
      k8s("core/v1:NodePatch", `cluster-zone-${node}`),
    ),
    "istio-locality:istio:Istio istio",
    k8s("core/v1:Namespace", "istio-system"),
    k8s("core/v1:Namespace", "istio-ingress"),
    ...(mode === "sidecar"
      ? ["base", "istiod", "gateway"]
      : ["base", "istiod", "cni", "ztunnel", "gateway"]
    ).map((chart) => k8s("helm.sh/v3:Release", `istio-${chart}`)),
    "istio-locality:bookinfo:Bookinfo bookinfo",
    k8s("core/v1:Namespace", "bookinfo-namespace"),
    k8s("core/v1:NamespacePatch", "bookinfo-ambient-label"),
    k8s("core/v1:NamespacePatch", "bookinfo-injection-label"),
    ...["bookinfo-details", "bookinfo-ratings", "bookinfo-productpage", "bookinfo-reviews", "client"].map(
      (sa) => k8s("core/v1:ServiceAccount", `bookinfo-${sa}`),
    ),
    ...ZONES.flatMap((zone) =>
      ["details", "ratings", "productpage", "client"].map((app) =>
        k8s("apps/v1:Deployment", `bookinfo-${app}-${zone}`),
      ),
    ),
    ...["v1", "v2", "v3"].map((v) => k8s("apps/v1:Deployment", `bookinfo-reviews-${v}`)),
    ...services.map((service) => k8s("core/v1:Service", `bookinfo-${service}`)),
    k8s("networking.istio.io/v1:Gateway", "bookinfo-gateway"),
    k8s("networking.istio.io/v1:VirtualService", "bookinfo-routes"),
    "istio-locality:locality:Locality locality",
    ...services.map((service) => k8s("core/v1:ServicePatch", `locality-${service}-distribution`)),
    ...services.map((service) => k8s("networking.istio.io/v1:DestinationRule", `locality-${service}-rule`)),
    ...(mode === "ambient"
      ? [
          ...GATEWAY_API_CRD_PLURALS.map((crd) =>
            k8s(
              "apiextensions.k8s.io/v1:CustomResourceDefinition",
              `istio-gateway-api-${crd}.gateway.networking.k8s.io`,
            ),
          ),
          k8s("core/v1:ConfigMap", "istio-node-agents"),
          "istio-locality:waypoint:Waypoint bookinfo-waypoint",
          k8s("core/v1:ConfigMap", "bookinfo-waypoint-parameters"),
          k8s("gateway.networking.k8s.io/v1:Gateway", "bookinfo-waypoint-gateway"),
          k8s("policy/v1:PodDisruptionBudget", "bookinfo-waypoint-zones"),
        ]
      : []),
  ].sort();
}

describe.each(["sidecar", "ambient"] as const)(
  "preview of the shipped %s stack on the real engine",
  (mode) => {
    it("succeeds and plans exactly the resources of the mode", async () => {
      const test = await createTestStack(mode, {});
      await test.stack.setAllConfig(configPaths(offline(shippedStackConfig(mode), test.name)), true);
      try {
        const events: EngineEvent[] = [];
        const result = await test.stack.preview({ onEvent: (e) => events.push(e) });
        const planned = summarisePlan(events).map((step) => `${step.type} ${step.name}`);
        expect(planned.sort()).toEqual(expectedResources(mode, test.name));
        expect(summarisePlan(events).every((step) => step.op === "create")).toBe(true);
        // The engine does not count default providers as changes.
        expect(result.changeSummary.create).toBe(planned.filter((p) => !p.endsWith(" default")).length);
      } finally {
        await test.remove();
      }
    });
  },
);

describe("previews of invalid configuration fail with the program's own message", () => {
  it.each([
    [
      { dataplaneMode: "ambiant" },
      "`istio-locality:dataplaneMode` is `ambiant`; expected `sidecar` or `ambient`",
    ],
    [
      { locality: "nearest" },
      "`istio-locality:locality` is `nearest`; expected one of `strict`, `failover`, `off`",
    ],
    [{ zones: ["zone-a", "zone-a"] }, "expected distinct zone names; `zone-a` appears twice"],
    [
      { dataplaneMode: "ambient", cluster: { kubernetesVersion: "v1.30.2" } },
      "`istio-locality:cluster.kubernetesVersion` is `v1.30.2`; expected v1.31 or newer",
    ],
    [
      { istio: { version: "1.25.3" } },
      "`istio-locality:istio.version` is `1.25.3`; expected a version of an Istio minor this program knows (1.26, 1.27, 1.28, 1.29, 1.30, 1.31, 1.32)",
    ],
    [
      { cluster: { kubernetesVersion: "v1.37.2" } },
      "`istio-locality:cluster.kubernetesVersion` is `v1.37.2`; expected a Kubernetes version Istio 1.30 supports, v1.32 to v1.36",
    ],
  ])("%j", async (config, message) => {
    const test = await createTestStack("invalid", config);
    try {
      await expect(test.stack.preview()).rejects.toThrow(message);
    } finally {
      await test.remove();
    }
  });
});

describe("the original post's versions", () => {
  it("Istio 1.26.6 on Kubernetes v1.32.0 previews, saying what 1.26 lacks and that the tests do not judge it", async () => {
    const test = await createTestStack("post", {});
    const config = offline(shippedStackConfig("sidecar"), test.name);
    const cluster = config.cluster as Record<string, unknown>;
    const istio = config.istio as Record<string, unknown>;
    await test.stack.setAllConfig(
      configPaths({
        ...config,
        cluster: { ...cluster, kubernetesVersion: "v1.32.0" },
        istio: { ...istio, version: "1.26.6" },
      }),
      true,
    );
    try {
      const events: EngineEvent[] = [];
      await test.stack.preview({ onEvent: (e) => events.push(e) });
      const warnings = events.flatMap((e) =>
        e.diagnosticEvent?.severity === "warning" ? [e.diagnosticEvent.message] : [],
      );
      const said = warnings.join("\n");
      expect(said).toContain("Istio 1.26 reached its end of life on 2025-12-22");
      expect(said).toContain("Kubernetes v1.32 reached its upstream end of life on 2026-02-28");
      expect(said).toContain(
        "this project's tests judge Istio 1.30 by its own istiod; 1.26's webhook, injection and proxy configuration are not judged by them",
      );
      const releases = summarisePlan(events).filter((step) => step.type === "kubernetes:helm.sh/v3:Release");
      expect(releases.map((step) => step.name).sort()).toEqual([
        "istio-base",
        "istio-gateway",
        "istio-istiod",
      ]);
    } finally {
      await test.remove();
    }
  });
});

describe("preview-switch", () => {
  it("previews the other mode without writing it into the stack file", async () => {
    const test = await createTestStack("switch", {});
    await test.stack.setAllConfig(configPaths(offline(shippedStackConfig("sidecar"), test.name)), true);
    const stackFile = path.join(PROJECT_DIR, `Pulumi.${test.name}.yaml`);
    try {
      const before = fs.readFileSync(stackFile, "utf8");
      const plan = await previewSwitch({
        workDir: PROJECT_DIR,
        stackName: test.name,
        envVars: test.envVars,
        program: inlineProgram,
      });
      expect([plan.from, plan.to]).toEqual(["sidecar", "ambient"]);
      const names = plan.steps.map((step) => step.name);
      expect(names).toEqual(
        expect.arrayContaining([
          "istio-cni",
          "istio-ztunnel",
          "bookinfo-waypoint-gateway",
          "locality-reviews-rule",
        ]),
      );
      expect(plan.replacements).toEqual([]);
      // Nobody answers at the stack's cluster, so the switch order follows the last outputs, and says so.
      // The cluster is asked its versions and its mesh at once: their warnings come in either order.
      expect([...plan.warnings].sort()).toEqual(
        [
          "could not read the cluster's Kubernetes version and Gateway API CRDs (connect ECONNREFUSED 127.0.0.1:9); " +
            "the versions are judged by the config alone",
          "could not read which dataplane the cluster runs (connect ECONNREFUSED 127.0.0.1:9); " +
            "the switch order follows the last run's outputs (`no run`)",
          WAYPOINT_STRICT_NOTE,
        ].sort(),
      );
      expect(fs.readFileSync(stackFile, "utf8")).toBe(before);
    } finally {
      await test.remove();
    }
  });
});
