import type { FileTree } from "./files.ts";

const WORKFLOW_PATH = /^\.github\/workflows\/[^/]+\.ya?ml$/;

/** Whether a tree holds GitHub Actions workflow files (pushing them needs the workflows permission). */
export function hasWorkflowFiles(files: FileTree): boolean {
  return [...files.keys()].some((path) => WORKFLOW_PATH.test(path));
}

/**
 * The workflow files of a tree that publish Pages themselves (a step `uses: actions/deploy-pages`),
 * so the site must be built by workflow rather than from the branch. A text match on the `uses:`
 * line, comments aside: enough to tell, without parsing YAML.
 */
export function pagesDeployWorkflows(files: FileTree): string[] {
  const found: string[] = [];
  for (const [path, content] of files) {
    if (!WORKFLOW_PATH.test(path)) continue;
    const uses = content
      .toString("utf8")
      .split("\n")
      .map((line) => line.replace(/(^|\s)#.*$/, ""))
      .some((line) => /\buses:\s*["']?actions\/deploy-pages@/.test(line));
    if (uses) found.push(path);
  }
  return found;
}
