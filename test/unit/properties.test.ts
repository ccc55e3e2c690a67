import fc from "fast-check";
import { localityLbSetting } from "../../components/locality";
import {
  ConfigError,
  defaultNodeZones,
  minikubeNodeNames,
  parseConfig,
  RawConfig,
} from "../../stacks/config";
import { localityProblems } from "../../stacks/localities";

/** Zone and region names as Kubernetes label values allow them (and as clouds name them). */
const labelValue = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,14}[a-z0-9])?$/);
const distinctZones = fc.uniqueArray(labelValue, { minLength: 1, maxLength: 12 });

describe("strict locality, for any zones", () => {
  it("has one rule per zone, which sends all of that zone's traffic to itself", () => {
    fc.assert(
      fc.property(distinctZones, labelValue, (zones, region) => {
        const { distribute } = localityLbSetting("strict", zones, region) as {
          distribute: { from: string; to: Record<string, number> }[];
        };
        expect(distribute.map((rule) => rule.from)).toEqual(zones.map((zone) => `${region}/${zone}/*`));
        for (const rule of distribute) expect(rule.to).toEqual({ [rule.from]: 100 });
      }),
    );
  });

  it("names only localities Istio's validation accepts", () => {
    fc.assert(
      fc.property(distinctZones, labelValue, (zones, region) => {
        const { distribute } = localityLbSetting("strict", zones, region) as {
          distribute: { from: string; to: Record<string, number> }[];
        };
        const localities = distribute.flatMap((rule) => [rule.from, ...Object.keys(rule.to)]);
        expect(localities.map(localityProblems).filter(Boolean)).toEqual([]);
      }),
    );
  });
});

describe("minikube's node → zone default", () => {
  it("gives every zone a node whenever there are at least as many nodes as zones", () => {
    fc.assert(
      fc.property(distinctZones, fc.nat({ max: 8 }), (zones, extra) => {
        const nodeZones = defaultNodeZones(minikubeNodeNames("p", zones.length + extra), zones);
        expect(new Set(Object.values(nodeZones))).toEqual(new Set(zones));
      }),
    );
  });
});

/** A valid configuration, one field of which a test corrupts. */
const VALID: Record<string, unknown> = {
  dataplaneMode: "ambient",
  locality: "failover",
  zones: ["zone-a", "zone-b"],
  "cluster.nodes": 3,
  "cluster.cpus": 4,
  "cluster.memoryMb": 8192,
  "cluster.driver": "docker",
  "cluster.containerRuntime": "containerd",
  "cluster.kubernetesVersion": "v1.33.1",
  "cluster.region": "eu-west",
  "cluster.profile": "lab",
  "istio.version": "1.26.6",
  "istio.hub": "docker.io/istio",
  "istio.ingressGateway": true,
  "istio.ingressServiceType": "ClusterIP",
  "bookinfo.namespace": "shop",
  "bookinfo.imageTag": "1.20.2",
  "bookinfo.replicasPerZone": 2,
};

/** Values no key accepts: wrong types, empty, out of range, or not a name Kubernetes allows. */
const corrupt = fc.oneof(
  fc.constant(""),
  fc.constant(-1),
  fc.constant(1e9),
  fc.constant(["x"]),
  fc.constant({ nested: true }),
  fc.constant("Not A Label!"),
  fc.constant(3.5),
);

function raw(flat: Record<string, unknown>): RawConfig {
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    const [head, tail] = key.split(".");
    const object = (config[head] ?? {}) as Record<string, unknown>;
    config[head] = tail === undefined ? value : { ...object, [tail]: value };
  }
  return config;
}

describe("any one corrupted field", () => {
  it("parses the valid configuration", () => {
    expect(() => parseConfig(raw(VALID), "s")).not.toThrow();
  });

  it("is named, with its value, in the error", () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(VALID)), corrupt, (key, value) => {
        fc.pre(JSON.stringify(value) !== JSON.stringify(VALID[key]));
        let error: unknown;
        try {
          parseConfig(raw({ ...VALID, [key]: value }), "s");
        } catch (thrown) {
          error = thrown;
        }
        // A string key accepts any non-empty string, so only some corruptions are errors there.
        const acceptsAnyString = ["istio.hub"].includes(key) && typeof value === "string" && value !== "";
        if (acceptsAnyString) return;
        expect(error).toBeInstanceOf(ConfigError);
        expect(
          (error as ConfigError).problems.some((problem) => problem.startsWith(`\`istio-locality:${key}\``)),
        ).toBe(true);
      }),
    );
  });
});
