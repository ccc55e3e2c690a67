import * as readline from "node:readline/promises";

/** Asks a yes/no question on the terminal; anything but y/yes (or Ctrl-C) is no. */
export async function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  const cancel = new AbortController();
  // While readline owns the terminal, Ctrl-C reaches it rather than the process.
  rl.on("SIGINT", () => cancel.abort());
  try {
    const answer = await rl.question(`${question} [y/N] `, { signal: cancel.signal });
    return /^y(es)?$/i.test(answer.trim());
  } catch {
    return false;
  } finally {
    rl.close();
  }
}
