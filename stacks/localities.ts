/**
 * What Istio's validating webhook says of a DestinationRule locality (`<region>/<zone>/<subzone>`,
 * as in `distribute[].from` and the keys of `distribute[].to`), or undefined when it accepts it.
 * Mirrors `validateLocalities` in istio `pkg/config/validation/agent/validation.go`, with its
 * messages, for the checks the program relies on: a `*` at most once and only at the end, and no
 * empty part. One check is stricter than Istio's: Istio splits into at most three parts and keeps
 * `c/d` of `a/b/c/d` as the subzone, which no node label can carry, so the rule would match nothing.
 */
export function localityProblems(locality: string): string | undefined {
  const wildcards = locality.split("*").length - 1;
  if (wildcards > 1 || (wildcards === 1 && !locality.endsWith("*"))) {
    return `locality ${locality} wildcard '*' number can not exceed 1 and must be in the end`;
  }
  if (splitN(locality, "/", 3).some((part) => part === "")) {
    return `locality ${locality} must not contain empty region/zone/subzone info`;
  }
  const parts = locality.split("/");
  if (parts.length > 3) {
    return `locality ${locality} has ${parts.length} parts; expected at most 3 (region/zone/subzone)`;
  }
  return undefined;
}

/** Go's `strings.SplitN`: at most `n` parts, the last one holding the rest. */
function splitN(value: string, separator: string, n: number): string[] {
  const parts = value.split(separator);
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(separator)];
}
