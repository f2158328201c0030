import { repositoryPathProblem, unsafePathProblem } from "../domain/repository-path.ts";
import type { GateDecision, GateFiles } from "./gate-decision.ts";

const RULE = "path-safety";

/**
 * Blocks every path the repository path policy (domain/repository-path.ts) refuses. A path the
 * repository already holds (`previous`) is judged only by the unsafe layer: a hidden file someone
 * added by hand must not make every later round undeployable.
 *
 * Symlinks cannot be expressed here: a tree is a Map of path → bytes, and whoever writes it to
 * disk writes regular files only, so a model cannot smuggle a link to outside the repository.
 */
export function checkPathSafety(files: GateFiles, previous?: GateFiles): GateDecision[] {
  const decisions: GateDecision[] = [];
  for (const path of files.keys()) {
    const problem = previous?.has(path) ? unsafePathProblem(path) : repositoryPathProblem(path);
    // JSON.stringify shows control characters escaped instead of printing them.
    if (problem) decisions.push({ rule: RULE, passed: false, severity: "block", detail: `unsafe path ${JSON.stringify(path)}: ${problem}`, path });
  }
  if (decisions.length === 0) decisions.push({ rule: RULE, passed: true, severity: "block", detail: `${files.size} paths are relative and inside the repository` });
  return decisions;
}
