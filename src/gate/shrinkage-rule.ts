import type { GateDecision, GateFiles } from "./gate-decision.ts";
import { isTextFile } from "./text-file.ts";

const RULE = "shrinkage";
/** Shrinking by more than this fraction needs a brief that asks for it. */
export const MAX_SHRINK_FRACTION = 0.5;
// Below this a "50 % shrink" is a stub being filled differently, not lost work.
const MIN_MEASURED_BYTES = 256;

const rewriteWords = /\b(?:re-?writ(?:e|es|ten|ing)|re-?design(?:s|ed|ing)?|replac(?:e|es|ed|ing)|start(?:ing)?\s+over|from\s+scratch|start\s+fresh|re-?build(?:s|ing)?|overhaul(?:s|ed)?)\b/i;

/** The word that lets a brief shrink the app (rewrite, redesign, replace, start over …), if any. */
export function rewriteRequest(brief: string): string | undefined {
  return rewriteWords.exec(brief)?.[0];
}

function textBytes(files: GateFiles): number {
  let total = 0;
  for (const [path, content] of files) if (isTextFile(path, content)) total += content.length;
  return total;
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 100)} %`;
}

/**
 * The seed's regression guard: a revision that throws away most of the app (a model answering
 * "…rest unchanged" or only the new feature) is refused unless the brief asks for a rewrite.
 * index.html is measured on its own too, since unchanged data files can hide its loss in the total.
 */
export function checkShrinkage(input: { files: GateFiles; previous?: GateFiles; brief: string }): GateDecision[] {
  const { files, previous, brief } = input;
  if (!previous || previous.size === 0) {
    return [{ rule: RULE, passed: true, severity: "block", detail: "no previous version to compare with" }];
  }
  const measures: Array<{ what: string; before: number; after: number; path?: string }> = [
    { what: "the text files", before: textBytes(previous), after: textBytes(files) },
  ];
  const previousIndex = previous.get("index.html");
  if (previousIndex) measures.push({ what: "index.html", before: previousIndex.length, after: files.get("index.html")?.length ?? 0, path: "index.html" });

  const decisions: GateDecision[] = [];
  const permission = rewriteRequest(brief);
  for (const { what, before, after, path } of measures) {
    if (before < MIN_MEASURED_BYTES) continue;
    const shrink = (before - after) / before;
    if (shrink <= MAX_SHRINK_FRACTION) continue;
    const numbers = `${what} would shrink by ${percent(shrink)} (${before} → ${after} bytes)`;
    decisions.push(
      permission
        ? { rule: RULE, passed: false, severity: "warn", detail: `${numbers}; allowed because the brief asks for it ("${permission}")`, ...(path ? { path } : {}) }
        : {
            rule: RULE,
            passed: false,
            severity: "block",
            detail: `${numbers} and the brief does not ask for a rewrite; keep every existing feature and change only what the brief asks`,
            ...(path ? { path } : {}),
          },
    );
  }

  const removed = [...previous.keys()].filter((path) => !files.has(path));
  if (removed.length > 0) {
    decisions.push({ rule: RULE, passed: false, severity: "warn", detail: `files removed since the previous version: ${removed.join(", ")}` });
  }
  if (decisions.length === 0) {
    const [total] = measures;
    decisions.push({ rule: RULE, passed: true, severity: "block", detail: `text files ${total!.before} → ${total!.after} bytes` });
  }
  return decisions;
}
