import * as path from "path";
import deepmerge from "deepmerge";
import { IstioConfig } from "./config";
import { DataplaneMode, IstioChart, MODE_ANNOTATION } from "./contract";
import { OCI_SCHEME } from "./charts";

export const ISTIO_NAMESPACE = "istio-system";
export const INGRESS_NAMESPACE = "istio-ingress";

/** Helm release names, as in Istio's Helm guide. */
export const RELEASE_NAMES: Record<IstioChart, string> = {
  base: "istio-base",
  istiod: "istiod",
  cni: "istio-cni",
  ztunnel: "ztunnel",
  gateway: "istio-ingress",
};

/** The namespace each chart's release goes to. */
export const RELEASE_NAMESPACES: Record<IstioChart, string> = {
  base: ISTIO_NAMESPACE,
  istiod: ISTIO_NAMESPACE,
  cni: ISTIO_NAMESPACE,
  ztunnel: ISTIO_NAMESPACE,
  gateway: INGRESS_NAMESPACE,
};

/** istiod's requests in a laptop lab: those of Istio's demo profile. */
export const LAB_ISTIOD_REQUESTS = { cpu: "10m", memory: "100Mi" };

/**
 * Annotations of every Istio custom resource the program creates. Deleted in the foreground (Pulumi's
 * default), an object waits for a finalizer whose removal is an UPDATE that istiod's validating
 * webhook must admit; once istiod is gone (a destroy after a switch back deletes it first) that
 * webhook fails closed and the object never goes. Nothing depends on these objects, so deleting them
 * in the background loses nothing.
 */
export const ISTIO_RESOURCE_ANNOTATIONS = { "pulumi.com/deletionPropagationPolicy": "background" };

/** The ConfigMap recording the zones and the agents' release revisions ambient's node-agent check passed for. */
export const NODE_AGENTS_RECORD = "istio-locality-node-agents";

/** Where the charts come from: Istio's repository, or a local folder holding one folder per chart. */
export type ChartSource = { repository: string } | { directory: string };

/** The chart source a config names: its chart folder when set, else its repository. */
export function chartSource(istio: Pick<IstioConfig, "chartRepository" | "chartDirectory">): ChartSource {
  return istio.chartDirectory ? { directory: istio.chartDirectory } : { repository: istio.chartRepository };
}

/** What the program's own Helm values depend on. */
export interface ReleaseSettings extends Pick<IstioConfig, "version" | "hub" | "ingressServiceType"> {
  mode: DataplaneMode;
  /** `minikube` where the node runtime is Docker (its netns live under /var/run/docker/netns). */
  cniPlatform?: "minikube";
  /**
   * Size istiod for a laptop lab (minikube): the requests of Istio's demo profile instead of the
   * production 500m CPU / 2 GiB, which on a 4 GB node leave no room for a rollout's surge pods next
   * to istiod once the waypoint runs there too.
   */
  labSizedIstiod?: boolean;
}

/** The program's own Helm values of one chart for a mode. */
export function istioValues(chart: IstioChart, settings: ReleaseSettings): Record<string, unknown> {
  // Charts from the git tag carry development images; the published charts set these same values.
  const global = { hub: settings.hub, tag: settings.version };
  const ambientProfile = settings.mode === "ambient" ? { profile: "ambient" } : {};
  switch (chart) {
    case "base":
      return {};
    case "istiod":
      return {
        ...ambientProfile,
        global,
        ...(settings.labSizedIstiod ? { pilot: { resources: { requests: LAB_ISTIOD_REQUESTS } } } : {}),
      };
    case "cni":
      return {
        profile: "ambient",
        global: { ...global, ...(settings.cniPlatform ? { platform: settings.cniPlatform } : {}) },
      };
    case "ztunnel":
      return { hub: settings.hub, tag: settings.version, global };
    case "gateway":
      return {
        service: { type: settings.ingressServiceType },
        // istiod configures a running gateway to send HBONE to ambient pods; a new pod is what makes
        // its proxy start with the mode's settings, such as accepting HBONE under the ambient profile.
        podAnnotations: { [MODE_ANNOTATION]: settings.mode },
      };
  }
}

/**
 * The user's values over the program's, as Helm merges a values file over the ones before it: maps
 * merge key by key, anything else the user sets (a scalar, a list, `null`) replaces the program's.
 */
export function mergeHelmValues(
  program: Record<string, unknown>,
  user: Record<string, unknown> | undefined,
): Record<string, unknown> {
  return deepmerge(program, user ?? {}, {
    arrayMerge: (_program: unknown[], userArray: unknown[]) => userArray,
  });
}

/** Where a Helm release takes its chart from. */
export interface ChartReference {
  chart: string;
  version?: string;
  repositoryOpts?: { repo: string };
}

/**
 * Where a release's chart comes from. A repository chart is pinned to the Istio version, as is an
 * OCI one (`oci://<registry path>/<chart>`, which Helm pulls without a repository); a chart folder
 * is the version it holds.
 */
export function chartReference(chart: IstioChart, source: ChartSource, version: string): ChartReference {
  if ("directory" in source) return { chart: path.join(source.directory, chart) };
  if (source.repository.startsWith(OCI_SCHEME)) {
    return { chart: `${source.repository.replace(/\/+$/, "")}/${chart}`, version };
  }
  return { chart, version, repositoryOpts: { repo: source.repository } };
}
