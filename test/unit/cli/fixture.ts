import * as fs from "node:fs";
import * as path from "node:path";

const DIR = path.resolve(__dirname, "..", "..", "fixtures", "cli");

/** A recorded fixture's text. */
export function fixtureText(name: string): string {
  return fs.readFileSync(path.join(DIR, name), "utf8");
}

/** A recorded JSON fixture. */
export function fixtureJson<T>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}
