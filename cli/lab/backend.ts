import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** The Pulumi environment a lab runs with, and what to tell the user about it. */
export interface LabEnvironment {
  /** Added to the environment of the Pulumi CLI. */
  envVars: Record<string, string>;
  /** Where the state and the passphrase come from, one line each. */
  notes: string[];
}

/** The local file backend, as `pulumi login --local` names it. */
export const LOCAL_BACKEND = "file://~";

/** The passphrase file this command creates when the user has none: in Pulumi's home, readable by the user only. */
export function passphraseFile(env: NodeJS.ProcessEnv, home: string): string {
  return path.join(env.PULUMI_HOME ?? path.join(home, ".pulumi"), "istio-locality.passphrase");
}

/**
 * The backend and secrets provider a lab uses: what the user's environment sets, else the local file
 * backend with a passphrase kept in a file (created once). Only a file backend needs a passphrase;
 * Pulumi Cloud and other service backends encrypt with their own keys.
 */
export function labEnvironment(env: NodeJS.ProcessEnv, home: string): LabEnvironment {
  const backend = env.PULUMI_BACKEND_URL;
  const envVars: Record<string, string> = backend ? {} : { PULUMI_BACKEND_URL: LOCAL_BACKEND };
  const notes = [
    backend
      ? `state: ${backend} (PULUMI_BACKEND_URL)`
      : `state: the local file backend ${LOCAL_BACKEND} (the one \`pulumi login --local\` uses)`,
  ];
  if (backend && !backend.startsWith("file://")) return { envVars, notes };

  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) {
    notes.push("secrets: encrypted with $PULUMI_CONFIG_PASSPHRASE");
  } else if (env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    notes.push(`secrets: encrypted with the passphrase in ${env.PULUMI_CONFIG_PASSPHRASE_FILE}`);
  } else {
    const file = passphraseFile(env, home);
    const created = ensurePassphraseFile(file);
    envVars.PULUMI_CONFIG_PASSPHRASE_FILE = file;
    notes.push(
      `secrets: encrypted with the passphrase in ${file} (${created ? "created now" : "kept from before"}); ` +
        // Plain pulumi commands go to the backend the user logged in to, not the one this command chose.
        `for plain pulumi commands on this stack: ${backend ? "" : "pulumi login --local && "}export PULUMI_CONFIG_PASSPHRASE_FILE=${file}`,
    );
  }
  return { envVars, notes };
}

/** Writes a random passphrase to `file` (mode 600) unless it exists; whether it wrote one. */
function ensurePassphraseFile(file: string): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    fs.writeFileSync(file, crypto.randomBytes(24).toString("base64url"), { flag: "wx", mode: 0o600 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}
