/**
 * The variables `scripts/test-tier.sh` sets for a tier or the benchmark (the tools it built), by name;
 * throws naming the first one missing and how to run with them (`runWith`).
 */
export function toolEnv<K extends string>(names: readonly K[], runWith: string): Record<K, string> {
  const values = {} as Record<K, string>;
  for (const name of names) {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: run ${runWith}`);
    values[name] = value;
  }
  return values;
}
