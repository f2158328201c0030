import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A configured secret, or one kept in `<dataDir>/<fileName>`, generated on first start (the
 * student secret, the API key). `generated` tells the caller to show it once (and only then).
 */
export function resolveKeptSecret(configured: string | undefined, dataDir: string, fileName: string): { secret: string; generated: boolean; path?: string } {
  if (configured) return { secret: configured, generated: false };
  const path = join(dataDir, fileName);
  try {
    const stored = readFileSync(path, "utf8").trim();
    if (stored.length >= 8) return { secret: stored, generated: false, path };
  } catch {
    // Not there yet: generate below.
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(24).toString("base64url");
  // `wx` never overwrites a secret another process wrote a moment ago.
  try {
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: "wx" });
  } catch {
    return { secret: readFileSync(path, "utf8").trim(), generated: false, path };
  }
  return { secret, generated: true, path };
}
