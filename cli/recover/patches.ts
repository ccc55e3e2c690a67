import { KubeConfig, KubernetesObject, KubernetesObjectApi, PatchUtils } from "@kubernetes/client-node";

/** A Patch resource as the stack's state records it: the object it applies and its field manager. */
export interface RecordedPatch {
  urn: string;
  fieldManager: string;
  body: {
    apiVersion: string;
    kind: string;
    metadata: {
      name: string;
      namespace?: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    };
  };
}

/** A label or annotation on a live object that its patch's field manager set but the state does not record. */
export interface StrayField {
  field: "labels" | "annotations";
  key: string;
  /** The live value. */
  value: string;
  /** The value the state records, if it records the key at all. */
  recorded?: string;
}

/** What {@link undoUnrecordedPatches} put back for one Patch resource. */
export interface UndonePatch {
  urn: string;
  stray: StrayField[];
}

const PATCH_TYPE = /^kubernetes:[^:]+:\w+Patch$/;
const METADATA_FIELDS = ["labels", "annotations"] as const;

/**
 * The Patch resources of a stack's exported state (`deployment` of `pulumi stack export`), with the
 * inputs the state records for each and the field manager the provider applied them under.
 * Provider-internal keys (`__…`) are left out of the body.
 */
export function recordedPatches(deployment: unknown): RecordedPatch[] {
  const resources = (deployment as { resources?: unknown[] } | undefined)?.resources ?? [];
  const patches: RecordedPatch[] = [];
  for (const resource of resources as {
    urn: string;
    type: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
  }[]) {
    const fieldManager = resource.outputs?.__fieldManager;
    const metadata = resource.inputs?.metadata as { name?: unknown } | undefined;
    if (
      !PATCH_TYPE.test(resource.type) ||
      typeof fieldManager !== "string" ||
      typeof metadata?.name !== "string"
    )
      continue;
    const body = Object.fromEntries(
      Object.entries(resource.inputs!).filter(([key]) => !key.startsWith("__")),
    );
    patches.push({ urn: resource.urn, fieldManager, body: body as unknown as RecordedPatch["body"] });
  }
  return patches;
}

/**
 * The labels and annotations of `live` that `patch`'s field manager owns (by the object's
 * managedFields) with a value the state does not record: what an update killed after the API
 * server applied it, but before the engine recorded it, left behind.
 */
export function strayFields(patch: RecordedPatch, live: KubernetesObject): StrayField[] {
  const owned = (live.metadata?.managedFields ?? [])
    .filter((entry) => entry.manager === patch.fieldManager && entry.operation === "Apply")
    .map(
      (entry) => (entry.fieldsV1 as Record<string, Record<string, Record<string, unknown>>>)?.["f:metadata"],
    );
  const stray: StrayField[] = [];
  for (const field of METADATA_FIELDS) {
    const keys = new Set(
      owned.flatMap((metadata) => Object.keys(metadata?.[`f:${field}`] ?? {})).map((key) => key.slice(2)),
    );
    const recorded = patch.body.metadata[field] ?? {};
    for (const key of keys) {
      const value = live.metadata?.[field]?.[key];
      if (value !== undefined && recorded[key] !== value)
        stray.push({ field, key, value, recorded: recorded[key] });
    }
  }
  return stray;
}

/**
 * Puts every Patch resource's object back to what the state records, where the live object holds
 * stray fields of its field manager ({@link strayFields}): it applies the recorded inputs again,
 * server-side, under the same manager, which drops the fields the manager no longer names. Without
 * this a rollback would keep them: its inputs equal the recorded ones, so the engine applies nothing.
 */
export async function undoUnrecordedPatches(
  kubeconfigText: string,
  patches: readonly RecordedPatch[],
): Promise<UndonePatch[]> {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromString(kubeconfigText);
  const client = KubernetesObjectApi.makeApiClient(kubeconfig);
  const undone: UndonePatch[] = [];
  for (const patch of patches) {
    const { apiVersion, kind, metadata } = patch.body;
    const { body: live } = await client.read<KubernetesObject>({
      apiVersion,
      kind,
      metadata: { name: metadata.name, namespace: metadata.namespace },
    });
    const stray = strayFields(patch, live);
    if (stray.length === 0) continue;
    await client.patch(patch.body, undefined, undefined, patch.fieldManager, true, {
      headers: { "Content-Type": PatchUtils.PATCH_FORMAT_APPLY_YAML },
    });
    undone.push({ urn: patch.urn, stray });
  }
  return undone;
}

/** One line per undone patch, for the user. */
export const describeUndone = (undone: UndonePatch): string =>
  `${undone.urn.split("::").pop()}: ${undone.stray
    .map(
      (s) =>
        `${s.field === "labels" ? "label" : "annotation"} ${s.key}=${s.value} ` +
        (s.recorded === undefined ? "removed" : `set back to ${s.recorded}`),
    )
    .join(", ")} (the killed update had applied it; the state did not record it)`;
