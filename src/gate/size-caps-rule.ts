import type { GateDecision, GateFiles } from "./gate-decision.ts";

const RULE = "size-caps";

export interface SizeLimits {
  readonly maxFileBytes: number;
  readonly maxTotalBytes: number;
  readonly maxFiles: number;
}

// A generated static app is a few files of a few KiB; attachments may be larger. These stop a
// runaway answer, not a legitimate site; callers pass their own configured limits.
export const DEFAULT_SIZE_LIMITS: SizeLimits = Object.freeze({
  maxFileBytes: 10 * 1024 * 1024,
  maxTotalBytes: 50 * 1024 * 1024,
  maxFiles: 200,
});

export function checkSizeCaps(files: GateFiles, limits: SizeLimits = DEFAULT_SIZE_LIMITS): GateDecision[] {
  const decisions: GateDecision[] = [];
  let total = 0;
  for (const [path, content] of files) {
    total += content.length;
    if (content.length > limits.maxFileBytes) {
      decisions.push({ rule: RULE, passed: false, severity: "block", detail: `${path} is ${content.length} bytes, over the ${limits.maxFileBytes}-byte limit per file`, path });
    }
  }
  if (total > limits.maxTotalBytes) {
    decisions.push({ rule: RULE, passed: false, severity: "block", detail: `the files total ${total} bytes, over the ${limits.maxTotalBytes}-byte limit` });
  }
  if (files.size > limits.maxFiles) {
    decisions.push({ rule: RULE, passed: false, severity: "block", detail: `${files.size} files, over the limit of ${limits.maxFiles}` });
  }
  if (decisions.length === 0) {
    decisions.push({ rule: RULE, passed: true, severity: "block", detail: `${files.size} files, ${total} bytes: within limits` });
  }
  return decisions;
}
