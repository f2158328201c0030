import type { BuildContract } from "../domain/build-contract.ts";
import { isBlocking, type GateDecision } from "./gate-decision.ts";
import { dropForbiddenFiles } from "./forbidden-files-rule.ts";
import { checkHtml } from "./html-rule.ts";
import { checkPathSafety } from "./path-safety-rule.ts";
import { fixRootAbsolutePaths } from "./root-absolute-paths-rule.ts";
import { scanSecrets } from "./secret-scan-rule.ts";
import { checkShrinkage } from "./shrinkage-rule.ts";
import { checkSizeCaps, DEFAULT_SIZE_LIMITS } from "./size-caps-rule.ts";

export interface SafetyGateInput {
  /** The candidate tree, complete (not only the changed files). */
  readonly files: ReadonlyMap<string, Buffer>;
  /** The tree as last deployed; absent in round 1. */
  readonly previous?: ReadonlyMap<string, Buffer>;
  readonly contract?: BuildContract;
  /** This round's brief: it may ask for a rewrite, which allows shrinkage. */
  readonly brief: string;
  readonly maxFileBytes?: number;
  readonly maxTotalBytes?: number;
  readonly maxFiles?: number;
  /** Values that must never be committed (configured tokens, the student secret). */
  readonly knownSecrets?: readonly string[];
}

export interface GateReport {
  /** False when any decision blocks; the candidate must then not be committed. */
  readonly passed: boolean;
  /** Every decision of every rule, in rule order; see GateDecision for the meaning of the fields. */
  readonly decisions: GateDecision[];
  /** The tree to commit when `passed`: the input, with `fixed` rewrites applied. */
  readonly files: Map<string, Buffer>;
}

/**
 * The last stop before a commit. Runs every rule and records every decision, so one pass tells
 * the model everything that is wrong at once instead of one problem per retry.
 *
 * Order matters in two places: files the contract forbids are dropped first, and root-absolute
 * paths are rewritten next, so the other rules judge the tree that would actually be committed.
 */
export async function runSafetyGate(input: SafetyGateInput): Promise<GateReport> {
  const limits = {
    maxFileBytes: input.maxFileBytes ?? DEFAULT_SIZE_LIMITS.maxFileBytes,
    maxTotalBytes: input.maxTotalBytes ?? DEFAULT_SIZE_LIMITS.maxTotalBytes,
    maxFiles: input.maxFiles ?? DEFAULT_SIZE_LIMITS.maxFiles,
  };
  // Files that must not be committed go first, so no rule judges (or blocks on) what is dropped.
  const allowed = dropForbiddenFiles(input.files, input.contract);
  const decisions: GateDecision[] = [...allowed.decisions, ...checkPathSafety(allowed.files, input.previous), ...checkSizeCaps(allowed.files, limits)];

  const fixed = fixRootAbsolutePaths(allowed.files);
  decisions.push(...fixed.decisions);
  decisions.push(...checkHtml(fixed.files, input.contract));
  decisions.push(...(await scanSecrets(fixed.files, { knownSecrets: input.knownSecrets, maxFileBytes: limits.maxFileBytes })));
  decisions.push(...checkShrinkage({ files: fixed.files, previous: input.previous, brief: input.brief }));

  return { passed: !decisions.some(isBlocking), decisions, files: fixed.files };
}
