import type { GateDecision, GateFiles } from "./gate-decision.ts";

const RULE = "path-safety";
// Git and most file systems cap one name at 255 bytes; a whole path beyond this is a runaway.
const MAX_SEGMENT_BYTES = 255;
const MAX_PATH_BYTES = 1024;

/**
 * Why a repository path is unsafe to write, or `undefined` when it is fine. Paths must be
 * relative POSIX paths inside the repository that git and Pages treat as plain files.
 *
 * Symlinks cannot be expressed here: a tree is a Map of path → bytes, and whoever writes it to
 * disk writes regular files only, so a model cannot smuggle a link to outside the repository.
 */
export function pathProblem(path: string): string | undefined {
  if (path === "") return "empty path";
  if (/[\u0000-\u001f\u007f]/.test(path)) return "control character in path";
  if (path.includes("\\")) return "backslash in path (use / separators)";
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return "absolute path";
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) return `path longer than ${MAX_PATH_BYTES} bytes`;
  for (const segment of path.split("/")) {
    if (segment === "") return "empty path segment (// or a trailing /)";
    if (segment === "." || segment === "..") return `"${segment}" segment`;
    // .GIT and .git. resolve to .git on case-insensitive or Windows file systems.
    if (/^\.git\.?$/i.test(segment)) return ".git segment (git internals)";
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) return `path segment longer than ${MAX_SEGMENT_BYTES} bytes`;
  }
  return undefined;
}

export function checkPathSafety(files: GateFiles): GateDecision[] {
  const decisions: GateDecision[] = [];
  for (const path of files.keys()) {
    const problem = pathProblem(path);
    // JSON.stringify shows control characters escaped instead of printing them.
    if (problem) decisions.push({ rule: RULE, passed: false, severity: "block", detail: `unsafe path ${JSON.stringify(path)}: ${problem}`, path });
  }
  if (decisions.length === 0) decisions.push({ rule: RULE, passed: true, severity: "block", detail: `${files.size} paths are relative and inside the repository` });
  return decisions;
}
