import { deployedVersions } from "../../stacks/history";
import {
  chooseVersions,
  DEFAULT_ISTIO_VERSION,
  DEFAULT_KUBERNETES_VERSION,
  ISTIO_MINORS,
  istioMinor,
  testedMinor,
  minorPath,
  versionNotes,
} from "../../stacks/versions";

const DECEMBER_2026 = new Date("2026-12-07T12:00:00Z");
const recorded = (istio: string, kubernetes: string) => ({ istio, kubernetes, recorded: true });

describe("the version table", () => {
  it("has one row per minor from the post's 1.26 to 1.32, in order", () => {
    expect(ISTIO_MINORS.map((row) => row.minor)).toEqual([
      "1.26",
      "1.27",
      "1.28",
      "1.29",
      "1.30",
      "1.31",
      "1.32",
    ]);
  });

  it("installs by default the newest patch of the one minor the tests judge, on Kubernetes it supports", () => {
    expect(testedMinor().minor).toBe("1.30");
    expect(DEFAULT_ISTIO_VERSION).toBe(testedMinor().newestPatch);
    const range = testedMinor().kubernetes;
    expect(range).toEqual({ min: 32, max: 36 });
    expect(DEFAULT_KUBERNETES_VERSION).toMatch(new RegExp(`^v1\\.${range?.max}\\.\\d+$`));
  });

  it("gives each minor the Gateway API bundle of its go.mod, and leaves 1.32's unknown", () => {
    expect(Object.fromEntries(ISTIO_MINORS.map((row) => [row.minor, row.gatewayApi]))).toEqual({
      "1.26": "v1.3.0",
      "1.27": "v1.3.0",
      "1.28": "v1.4.1",
      "1.29": "v1.4.1",
      "1.30": "v1.5.1",
      "1.31": "v1.6.0",
      "1.32": undefined,
    });
  });

  it("names the 1.26 behaviours the tests' 1.30 does not show", () => {
    const differences = istioMinor("1.26.6")?.differences.join("\n") ?? "";
    expect(differences).toContain("`terminationGracePeriodSeconds: 2`");
    expect(differences).toContain("`publishNotReadyAddresses: true`");
    expect(differences).toContain("`failurePolicy: Ignore`");
    expect(differences).toContain("hard-code their tolerations");
  });

  it.each([
    ["1.26.6", "1.30.5", ["1.26", "1.27", "1.28", "1.29", "1.30"]],
    ["1.30.5", "1.28.10", ["1.30", "1.29", "1.28"]],
    ["1.30.4", "1.30.5", ["1.30"]],
    ["1.25.0", "1.30.5", []],
  ])("the upgrade path from %s to %s", (from, to, path) => {
    expect(minorPath(from, to)).toEqual(path);
  });
});

describe("which versions a run installs", () => {
  it.each([
    [
      "a new stack gets the defaults",
      {},
      undefined,
      DEFAULT_ISTIO_VERSION,
      "default",
      DEFAULT_KUBERNETES_VERSION,
      "default",
    ],
    [
      "a deployed stack keeps what it runs",
      {},
      recorded("1.29.8", "v1.33.1"),
      "1.29.8",
      "deployed",
      "v1.33.1",
      "deployed",
    ],
    [
      "a stack deployed before versions were recorded keeps the post's",
      {},
      { istio: "1.26.6", kubernetes: "v1.32.0", recorded: false },
      "1.26.6",
      "deployed",
      "v1.32.0",
      "deployed",
    ],
    [
      "what the config names wins",
      { istio: "1.30.4", kubernetes: "v1.34.2" },
      recorded("1.29.8", "v1.33.1"),
      "1.30.4",
      "config",
      "v1.34.2",
      "config",
    ],
  ] as const)("%s", (_, named, deployed, istio, istioSource, kubernetes, kubernetesSource) => {
    const { choice, problems } = chooseVersions(named, deployed);
    expect(problems).toEqual([]);
    expect(choice).toEqual({
      istio: { version: istio, source: istioSource },
      kubernetes: { version: kubernetes, source: kubernetesSource },
    });
  });

  it("refuses a minor the table does not know, naming the ones it does", () => {
    expect(chooseVersions({ istio: "1.25.3" }, undefined).problems).toEqual([
      {
        key: "istio.version",
        value: "1.25.3",
        expected:
          "a version of an Istio minor this program knows (1.26, 1.27, 1.28, 1.29, 1.30, 1.31, 1.32), such as `1.30.5`",
      },
    ]);
  });

  it("refuses Kubernetes outside the Istio minor's range", () => {
    expect(chooseVersions({ kubernetes: "v1.31.4" }, undefined).problems).toEqual([
      {
        key: "cluster.kubernetesVersion",
        value: "v1.31.4",
        expected: "a Kubernetes version Istio 1.30 supports, v1.32 to v1.36",
      },
    ]);
    expect(chooseVersions({ istio: "1.26.6", kubernetes: "v1.36.5" }, undefined).problems[0]?.expected).toBe(
      "a Kubernetes version Istio 1.26 supports, v1.29 to v1.33",
    );
    expect(chooseVersions({ istio: "1.26.6", kubernetes: "v1.32.0" }, undefined).problems).toEqual([]);
  });

  it("refuses more than one minor from what a deployed stack runs, naming the path", () => {
    expect(chooseVersions({ istio: "1.30.5" }, recorded("1.26.6", "v1.32.0")).problems).toEqual([
      {
        key: "istio.version",
        value: "1.30.5",
        expected:
          "at most one minor from the Istio 1.26.6 this stack runs; move one minor per `up`: 1.26 → 1.27 → 1.28 → 1.29 → 1.30",
      },
    ]);
    expect(chooseVersions({ istio: "1.27.9" }, recorded("1.26.6", "v1.32.0")).problems).toEqual([]);
    expect(chooseVersions({ istio: "1.30.5" }, recorded("1.30.4", "v1.36.5")).problems).toEqual([]);
  });

  it("does not judge a named version against versions no run recorded", () => {
    // The previous commits' stacks that named 1.30.x run it; nothing tells them from those on 1.26.6.
    expect(
      chooseVersions({ istio: "1.30.5" }, { istio: "1.26.6", kubernetes: "v1.32.0", recorded: false })
        .problems,
    ).toEqual([]);
  });
});

describe("what a run's outputs say it runs", () => {
  it.each([
    ["a new stack", undefined, undefined, undefined, undefined],
    ["a recorded stack", "ambient", "1.30.5", "v1.36.5", recorded("1.30.5", "v1.36.5")],
    [
      "a stack of the commits before the record",
      "sidecar",
      undefined,
      undefined,
      { istio: "1.26.6", kubernetes: "v1.32.0", recorded: false },
    ],
  ])("%s", (_, mode, istio, kubernetes, expected) => {
    expect(deployedVersions(mode, istio, kubernetes)).toEqual(expected);
  });
});

describe("what preview says about versions", () => {
  it("says nothing on a new stack of the defaults", () => {
    const { choice } = chooseVersions({}, undefined);
    expect(versionNotes(choice, "minikube", DECEMBER_2026)).toEqual([]);
  });

  it("on a stack of the post's versions: the defaults it kept and how to move, both ends of life, and the unjudged 1.26", () => {
    const { choice } = chooseVersions({}, { istio: "1.26.6", kubernetes: "v1.32.0", recorded: false });
    const notes = versionNotes(choice, "minikube", DECEMBER_2026);
    expect(notes[0]).toBe(
      "this stack keeps the Istio 1.26.6 it runs; new stacks get 1.30.5. To move, set `istio-locality:istio.version`: " +
        "one minor per `up`, 1.26 → 1.27 → 1.28 → 1.29 → 1.30 (next: `1.27.9`)",
    );
    expect(notes[1]).toBe(
      "this stack keeps the Kubernetes v1.32.0 it runs; new stacks get v1.36.5. Setting " +
        "`istio-locality:cluster.kubernetesVersion` on a minikube stack deletes and recreates its cluster",
    );
    expect(notes[2]).toBe(
      "Kubernetes v1.32 reached its upstream end of life on 2026-02-28; new stacks get v1.36.5",
    );
    expect(notes[3]).toBe(
      "Istio 1.26 reached its end of life on 2025-12-22: it gets no security fixes. The newest supported release this project's tests judge is 1.30.5",
    );
    expect(notes[4]).toMatch(
      /^this project's tests judge Istio 1\.30 by its own istiod; 1\.26's webhook, injection and proxy configuration are not judged by them\. Where 1\.26 differs: /,
    );
    expect(notes).toHaveLength(5);
  });

  it("on a stack that runs a newer minor than the default, the way to it leads back, one minor", () => {
    const { choice } = chooseVersions({}, recorded("1.31.1", "v1.36.5"));
    expect(versionNotes(choice, "existing", DECEMBER_2026)[0]).toBe(
      "this stack keeps the Istio 1.31.1 it runs; new stacks get 1.30.5. To move, set `istio-locality:istio.version`: " +
        "one minor per `up`, 1.31 → 1.30 (next: `1.30.5`)",
    );
  });

  it("names the newer patch of a supported minor", () => {
    const { choice } = chooseVersions({ istio: "1.30.4" }, undefined);
    expect(versionNotes(choice, "existing", DECEMBER_2026)).toEqual([
      "Istio 1.30.4 is not the newest 1.30 patch: 1.30.5 carries its fixes",
    ]);
  });
});
