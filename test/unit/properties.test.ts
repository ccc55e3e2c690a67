import fc from "fast-check";
import { localityLbSetting } from "../../stacks/destination-rules";
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
  waypoint: "always",
  mtls: "strict",
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
  "istio.gatewayApiCrds": "https://mirror.example/gateway-api/v1.3.0/standard-install.yaml",
  "bookinfo.namespace": "shop",
  "bookinfo.imageTag": "1.20.2",
  "bookinfo.replicasPerZone": 2,
  "bookinfo.minReadySeconds": 30,
};

/** Values no key accepts: wrong types, empty, out of range, or not a name Kubernetes allows. */
const CORRUPTIONS: unknown[] = ["", -1, 1e9, [""], { nested: true }, "Not A Label!", 3.5];

/** Keys with a closed set of values, and that set. */
const CHOICES: Record<string, readonly unknown[]> = {
  dataplaneMode: ["sidecar", "ambient"],
  locality: ["strict", "failover", "off"],
  waypoint: ["auto", "always", "never"],
  mtls: ["permissive", "strict"],
  "cluster.driver": ["podman", "docker"],
  "cluster.containerRuntime": ["cri-o", "containerd", "docker"],
  "istio.ingressServiceType": ["NodePort", "ClusterIP", "LoadBalancer"],
};

/** The problems parsing gives, or none. */
function problemsOf(flat: Record<string, unknown>): string[] {
  try {
    parseConfig(raw(flat), "s");
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
}

const names = (key: string) => (problem: string) => problem.startsWith(`\`istio-locality:${key}\``);

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
    expect(problemsOf(VALID)).toEqual([]);
  });

  it.each(Object.keys(VALID))("%s is named in the error, whatever the corruption", (key) => {
    // `istio.hub` is any non-empty string, so a string is no corruption there.
    const corruptions = CORRUPTIONS.filter(
      (value) => !(key === "istio.hub" && typeof value === "string" && value),
    );
    for (const value of corruptions) {
      expect({ value, named: problemsOf({ ...VALID, [key]: value }).some(names(key)) }).toEqual({
        value,
        named: true,
      });
    }
  });

  it("a key with a closed set rejects, and names, any value outside it", () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(CHOICES)), fc.jsonValue(), (key, value) => {
        fc.pre(value !== null && !CHOICES[key].includes(value));
        expect(problemsOf({ ...VALID, [key]: value }).some(names(key))).toBe(true);
      }),
    );
  });
});
