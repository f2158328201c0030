import { Script } from "node:vm";
import type { RawCheck } from "./task.ts";

/**
 * A check in one shape, whichever of PROTOCOL §4's three it arrived in.
 * `js`: an expression to evaluate in the page. `text`: natural language (repository checks,
 * quality judgements, behaviour described in words).
 */
export type Check =
  | { readonly id: string; readonly kind: "js"; readonly expression: string; readonly source: RawCheck }
  | { readonly id: string; readonly kind: "text"; readonly text: string; readonly source: RawCheck };

// Bare strings count as JavaScript only if they parse AND touch the page; "Repo has MIT license"
// does not parse, but a lone identifier like "Responsive" would, so parsing alone is not enough.
const pageGlobals = /\b(document|window|location|navigator|localStorage|sessionStorage|getComputedStyle|fetch)\b/;

function parsesAsExpression(source: string): boolean {
  try {
    // Compiling never runs the code; the parentheses make it an expression, not a statement.
    new Script(`(${source}\n)`);
    return true;
  } catch {
    return false;
  }
}

/** Normalises one check; `index` gives it a stable id within its round (`c1`, `c2` …). */
export function normalizeCheck(raw: RawCheck, index: number): Check {
  const id = `c${index + 1}`;
  if (typeof raw === "object") return { id, kind: "js", expression: raw.js.trim(), source: raw };
  const text = raw.trim();
  const prefixed = /^js:\s*/i.exec(text);
  if (prefixed) return { id, kind: "js", expression: text.slice(prefixed[0].length).trim(), source: raw };
  if (pageGlobals.test(text) && parsesAsExpression(text)) return { id, kind: "js", expression: text, source: raw };
  return { id, kind: "text", text, source: raw };
}

export function normalizeChecks(raw: readonly RawCheck[]): Check[] {
  return raw.map(normalizeCheck);
}
