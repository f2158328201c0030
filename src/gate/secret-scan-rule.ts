import { lintSource } from "@secretlint/core";
import { creator as recommendedPreset } from "@secretlint/secretlint-rule-preset-recommend";
import type { GateDecision, GateFiles } from "./gate-decision.ts";
import { extensionOf, isTextFile } from "./text-file.ts";

const RULE = "secret-scan";
// Shorter "secrets" (test values, empty strings) would match ordinary text everywhere.
const MIN_KNOWN_SECRET_LENGTH = 8;

// The core API, not the CLI or @secretlint/node's formatters: their JSON output carries the
// scanned source (`sourceContent`), and anything that prints it would print the secret.
const config = { rules: [{ id: recommendedPreset.meta.id, rule: recommendedPreset }] };

function lineAndColumn(text: string, index: number): { line: number; column: number } {
  const before = text.slice(0, index);
  const line = before.split("\n").length;
  return { line, column: index - before.lastIndexOf("\n") };
}

// The model writes these files, so it must not be able to silence the scan with a
// `secretlint-disable` comment. Same length, so reported positions still hold.
function neutralizeDirectives(text: string): string {
  return text.replace(/secretlint-(disable|enable)/gi, "secretlint_$1");
}

/**
 * The spellings of a configured secret a generated file might carry: as is, base64 (standard and
 * URL alphabets, at each of the three byte alignments it can sit at inside a longer encoding),
 * hex, percent-encoded and reversed. `caseless` forms are searched in lower-cased text.
 */
export function secretSpellings(secret: string): { encoding: string; text: string; caseless: boolean }[] {
  const bytes = Buffer.from(secret, "utf8");
  const forms: { encoding: string; text: string; caseless: boolean }[] = [{ encoding: "verbatim", text: secret, caseless: false }];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]);
    // Only the characters made wholly of the secret's bits, whatever surrounds it.
    const from = Math.ceil((offset * 8) / 6);
    const to = Math.floor(((offset + bytes.length) * 8) / 6);
    for (const alphabet of ["base64", "base64url"] as const) forms.push({ encoding: "base64", text: encoded.toString(alphabet).slice(from, to), caseless: false });
  }
  forms.push({ encoding: "hex", text: bytes.toString("hex"), caseless: true });
  forms.push({ encoding: "URL-encoded", text: encodeURIComponent(secret).toLowerCase(), caseless: true });
  forms.push({ encoding: "URL-encoded", text: [...bytes].map((b) => `%${b.toString(16).padStart(2, "0")}`).join(""), caseless: true });
  forms.push({ encoding: "reversed", text: [...secret].reverse().join(""), caseless: false });
  const seen = new Set<string>();
  return forms.filter((form) => {
    const key = `${form.caseless}:${form.text}`;
    if (form.text.length < MIN_KNOWN_SECRET_LENGTH || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export interface SecretScanOptions {
  /** Values that must never be committed (configured tokens, the student secret). */
  readonly knownSecrets?: readonly string[];
  /** Files over this size are not scanned (the size rule already blocks them). */
  readonly maxFileBytes?: number;
}

/**
 * Scans every text file with secretlint's recommended preset, and every file for the known
 * secrets. A finding blocks. Decisions name the rule, file and position — never the matched
 * text, and never secretlint's own message (which quotes it unless masked).
 */
export async function scanSecrets(files: GateFiles, options: SecretScanOptions = {}): Promise<GateDecision[]> {
  const decisions: GateDecision[] = [];
  const known = (options.knownSecrets ?? []).filter((secret) => secret.length >= MIN_KNOWN_SECRET_LENGTH).map(secretSpellings);
  let scanned = 0;

  for (const [path, content] of files) {
    if (options.maxFileBytes !== undefined && content.length > options.maxFileBytes) continue;
    const text = isTextFile(path, content) ? content.toString("utf8") : undefined;

    // latin1 keeps one character per byte, so an index is a byte offset in binary files too.
    const raw = content.toString("latin1");
    const lower = raw.toLowerCase();
    known.forEach((spellings, index) => {
      for (const spelling of spellings) {
        const at = (spelling.caseless ? lower : raw).indexOf(spelling.caseless ? spelling.text.toLowerCase() : spelling.text);
        if (at === -1) continue;
        const where = text === undefined ? `byte ${at}` : `line ${lineAndColumn(raw, at).line}`;
        const how = spelling.encoding === "verbatim" ? "" : ` ${spelling.encoding}`;
        decisions.push({ rule: RULE, passed: false, severity: "block", detail: `configured secret #${index + 1} appears${how} in ${path} at ${where}; remove it`, path });
        return;
      }
    });

    if (text === undefined) continue;
    scanned += 1;
    try {
      const result = await lintSource({
        source: { filePath: path, content: neutralizeDirectives(text), ext: extensionOf(path) ? `.${extensionOf(path)}` : "", contentType: "text" },
        options: { config, maskSecrets: true, noPhysicFilePath: true },
      });
      for (const message of result.messages) {
        const { line, column } = message.loc.start;
        decisions.push({
          rule: RULE,
          passed: false,
          severity: "block",
          detail: `secretlint ${message.ruleId} (${message.messageId}) found a secret in ${path} at line ${line}, column ${column + 1}; remove it and read such values at run time instead`,
          path,
        });
      }
    } catch (error) {
      // Fail closed: a file that could not be scanned is not known to be clean. Only the error's
      // class is named: a rule's message could quote the text it was looking at.
      const kind = error instanceof Error ? error.name : typeof error;
      decisions.push({ rule: RULE, passed: false, severity: "block", detail: `could not scan ${path} for secrets (${kind})`, path });
    }
  }
  if (decisions.length === 0) {
    decisions.push({ rule: RULE, passed: true, severity: "block", detail: `${scanned} text files scanned with secretlint's recommended rules: no findings` });
  }
  return decisions;
}
