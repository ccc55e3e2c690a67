import * as pulumi from "@pulumi/pulumi";
import { DataplaneMode, isDataplaneMode } from "./contract";
import { DeployedVersions, UNRECORDED_VERSIONS } from "./versions";

/** What this stack's last run recorded in its outputs; nothing on a new stack. */
export interface PreviousRun {
  dataplaneMode?: DataplaneMode;
  versions?: DeployedVersions;
}

/**
 * The versions a stack runs, from its last outputs: none on a stack that never ran; the post's
 * versions on one deployed before the program recorded them, since every commit until then
 * installed those by default.
 */
export function deployedVersions(
  dataplaneMode: unknown,
  istioVersion: unknown,
  kubernetesVersion: unknown,
): DeployedVersions | undefined {
  if (!isDataplaneMode(dataplaneMode)) return undefined;
  if (typeof istioVersion === "string" && typeof kubernetesVersion === "string") {
    return { istio: istioVersion, kubernetes: kubernetesVersion, recorded: true };
  }
  return { ...UNRECORDED_VERSIONS, recorded: false };
}

/**
 * This stack's last run, read from its own outputs. A switch back from ambient must order its steps
 * differently from a fresh install, and a deployed stack keeps the versions it runs; only the
 * stack's history tells these apart. It is read as a plain value, before any resource is declared,
 * because it decides which resources a run declares.
 */
export async function previousRun(): Promise<PreviousRun> {
  const self = new pulumi.StackReference("previous-run", {
    name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
  });
  const [mode, istio, kubernetes] = await Promise.all(
    ["dataplaneMode", "istioVersion", "kubernetesVersion"].map(
      async (name): Promise<unknown> => (await self.getOutputDetails(name)).value,
    ),
  );
  return {
    dataplaneMode: isDataplaneMode(mode) ? mode : undefined,
    versions: deployedVersions(mode, istio, kubernetes),
  };
}
