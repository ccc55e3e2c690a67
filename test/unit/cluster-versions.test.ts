import { clusterVersionProblems, newerRelease, newestBundle } from "../../readers/cluster-versions";
import { parseConfig } from "../../stacks/config";
import type { Manifest } from "../../stacks/charts";

const crd = (name: string, bundle?: string): Manifest => ({
  kind: "CustomResourceDefinition",
  metadata: {
    name,
    annotations: bundle ? { "gateway.networking.k8s.io/bundle-version": bundle } : undefined,
  },
});

describe("releases", () => {
  it.each([
    ["v1.6.0", "v1.5.1", true],
    ["v1.5.1", "v1.5.1", false],
    ["v1.5.1", "v1.10.0", false],
    ["v1.10.0", "v1.9.3", true],
    ["v1.6.0-rc.1", "v1.5.1", false],
  ])("%s newer than %s: %s", (a, b, newer) => {
    expect(newerRelease(a, b)).toBe(newer);
  });

  it("reads the newest Gateway API bundle of a cluster's CRDs, ignoring others'", () => {
    expect(
      newestBundle([
        crd("gateways.gateway.networking.k8s.io", "v1.5.1"),
        crd("httproutes.gateway.networking.k8s.io", "v1.6.0"),
        crd("virtualservices.networking.istio.io"),
        crd("widgets.example.com", "v9.0.0"),
      ]),
    ).toBe("v1.6.0");
    expect(newestBundle([crd("virtualservices.networking.istio.io")])).toBeUndefined();
  });
});

describe("what the cluster refuses of a run's versions", () => {
  const ambient = parseConfig({ dataplaneMode: "ambient" }, "s");
  const ours = [crd("gateways.gateway.networking.k8s.io", "v1.5.1")];

  it("accepts a cluster of the minor's range with the same or older Gateway API CRDs", () => {
    const none = { problems: [], warnings: [] };
    expect(clusterVersionProblems(ambient, { kubernetes: "v1.36.5", gatewayApi: "v1.5.1" }, ours)).toEqual(
      none,
    );
    expect(clusterVersionProblems(ambient, { kubernetes: "v1.32.1", gatewayApi: "v1.3.0" }, ours)).toEqual(
      none,
    );
  });

  it("refuses an API server outside the Istio minor's range, by the cluster's own word", () => {
    expect(clusterVersionProblems(ambient, { kubernetes: "v1.31.9" }, []).problems).toEqual([
      "`istio-locality:istio.version` is `1.30.5`; expected an Istio minor that supports the Kubernetes v1.31.9 " +
        "the cluster runs; Istio 1.30 supports v1.32 to v1.36",
    ]);
  });

  it("only warns about a version the stack already runs: a new check never stops a deployed stack", () => {
    const kept = parseConfig({}, "s", undefined, { istio: "1.26.6", kubernetes: "v1.32.0", recorded: false });
    expect(clusterVersionProblems(kept, { kubernetes: "v1.36.5" }, [])).toEqual({
      problems: [],
      warnings: [
        "Istio 1.26 supports v1.29 to v1.33, and the cluster runs Kubernetes v1.36.5: move `istio-locality:istio.version` to a minor that supports it",
      ],
    });
  });

  it("never installs Gateway API CRDs over newer ones", () => {
    expect(
      clusterVersionProblems(ambient, { kubernetes: "v1.36.5", gatewayApi: "v1.6.0" }, ours).problems,
    ).toEqual([
      "`istio-locality:istio.gatewayApiCrds` is `https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.1/standard-install.yaml`; " +
        "expected CRDs no older than the Gateway API v1.6.0 ones the cluster has (this run would install v1.5.1 over them); set it to `installed`",
    ]);
    // With `installed` (or without a waypoint) the run installs none, and the cluster's stay.
    expect(
      clusterVersionProblems(ambient, { kubernetes: "v1.36.5", gatewayApi: "v1.6.0" }, []).problems,
    ).toEqual([]);
  });
});
