import * as os from "os";
import { ProgramRun, runUnderMocks } from "../helpers/program";
import { shippedStackConfig } from "../helpers/stacks";

/**
 * Every resource a run declares, by URN, with what it waits for and how it is deleted: a deployed
 * stack's next `up` touches nothing when this stays the same, so a change to the program's layout
 * that moves a resource (a new parent, a new type token, a new name) shows here before it reaches a
 * user. A deliberate change updates the snapshot (`npx jest --selectProjects unit -u`) in the same
 * commit, with the aliases that keep deployed stacks' resources.
 */
function declaredGraph(run: ProgramRun): string[] {
  const short = (urn: string) => urn.replace(/^urn:pulumi:[^:]*::[^:]*::/, "");
  return run.resources
    .map((resource) =>
      [
        // A read (the stack's own StackReference) has no URN of its own here.
        resource.urn ? short(resource.urn) : `read ${resource.type}::${resource.name}`,
        ...[...new Set(resource.dependencies)].map((urn) => `  after ${short(urn)}`).sort(),
        ...(resource.retainOnDelete ? ["  retained on delete"] : []),
        ...(resource.deletedWith ? [`  deleted with ${short(resource.deletedWith)}`] : []),
      ].join("\n"),
    )
    .sort();
}

/** Keys in order, so only a changed value shows, not the order a spread wrote them in. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortedKeys((value as Record<string, unknown>)[key])]),
  );
}

/** What each resource sends to the cluster, by URN; a restart's timestamp is the run's own, the home folder the machine's. */
function declaredInputs(run: ProgramRun): Record<string, unknown> {
  return Object.fromEntries(
    run.resources
      .filter((resource) => resource.urn)
      .map((resource) => [
        resource.urn,
        JSON.parse(
          JSON.stringify(sortedKeys(resource.inputs))
            .replace(
              /"kubectl\.kubernetes\.io\/restartedAt":"[^"]*"/g,
              '"kubectl.kubernetes.io/restartedAt":"<run>"',
            )
            .split(os.homedir())
            .join("~"),
        ),
      ]),
  );
}

describe("the resources a run declares and the order between them", () => {
  it.each([
    ["a sidecar install", "sidecar", undefined],
    ["an ambient install", "ambient", undefined],
    ["a switch into ambient", "ambient", "sidecar"],
    ["a switch back to sidecar", "sidecar", "ambient"],
  ] as const)("%s", async (_run, mode, previousMode) => {
    const run = await runUnderMocks(shippedStackConfig(mode), { stack: mode, previousMode });
    expect(declaredGraph(run)).toMatchSnapshot("graph");
    expect(declaredInputs(run)).toMatchSnapshot("inputs");
  });
});
