/**
 * Actions runs for pushed commits that hold workflows. The double does not execute steps: a run
 * goes queued → in_progress → completed after the configured delay with the configured outcome.
 * A workflow that calls `actions/deploy-pages` publishes, on success, the directory it gave
 * `actions/upload-pages-artifact` (`path:`, default `_site` as in the action) of the pushed commit
 * — provided the site's build_type is `workflow`, else the run fails as the real deploy step does.
 */
import { runGit } from "../../../src/adapters/forge/run-git.ts";
import type { ActionsOutcome, DoubleContext } from "./double-context.ts";
import { isoTime } from "./double-context.ts";
import type { DoubleRepository, DoubleWorkflowRun } from "./double-state.ts";
import { fullName } from "./double-state.ts";

export interface WorkflowFacts {
  readonly name: string | undefined;
  /** Whether `on:` names `push` (branch and path filters are not modelled). */
  readonly runsOnPush: boolean;
  readonly deploysPages: boolean;
  /** Relative to the tree root, "" for the whole tree. */
  readonly uploadPath: string;
}

/** Reads what the double needs from a workflow file with a few patterns rather than a YAML parser. */
export function workflowFacts(text: string): WorkflowFacts {
  const name = /^name:\s*["']?([^"'\n#]+?)["']?\s*(?:#.*)?$/m.exec(text)?.[1];
  const deploysPages = /uses:\s*["']?actions\/deploy-pages@/.test(text);
  let uploadPath = "";
  const upload = /uses:\s*["']?actions\/upload-pages-artifact@[^\n]*\n/.exec(text);
  if (upload) {
    uploadPath = "_site";
    const after = text.slice(upload.index + upload[0].length).split("\n");
    for (const line of after) {
      if (/^\s*-\s/.test(line)) break; // the next step
      const path = /^\s*path:\s*["']?([^"'\n#]+?)["']?\s*(?:#.*)?$/.exec(line)?.[1];
      if (path) {
        uploadPath = path;
        break;
      }
    }
  }
  uploadPath = uploadPath.replace(/^\.\/?/, "").replace(/\/+$/, "");
  return { name: name?.trim(), runsOnPush: triggersOnPush(text), deploysPages, uploadPath };
}

/** The top-level `on:` value (inline, or its indented block) mentions `push`. */
function triggersOnPush(text: string): boolean {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => /^["']?(?:on|true)["']?\s*:/.test(line));
  if (start < 0) return false;
  const block = [lines[start]?.replace(/^[^:]*:/, "") ?? ""];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line) && !line.startsWith("#")) break;
    block.push(line);
  }
  return /(^|[\s,[{-])push\b/.test(block.join("\n").replace(/#.*$/gm, ""));
}

function defaultLog(run: DoubleWorkflowRun, conclusion: "success" | "failure"): string {
  return [
    `${isoTime(Date.parse(run.createdAt))} Requested labels: ubuntu-latest`,
    `Run ${run.name} for ${run.headSha}`,
    conclusion === "success" ? "Job succeeded" : "Error: Process completed with exit code 1.",
    "",
  ].join("\n");
}

export function startWorkflowRun(
  context: DoubleContext,
  repository: DoubleRepository,
  path: string,
  text: string,
  headSha: string,
  headBranch: string,
): DoubleWorkflowRun {
  const { state, settings } = context;
  const facts = workflowFacts(text);
  const created = context.now();
  const name = fullName(repository);
  const run: DoubleWorkflowRun = {
    id: context.nextId(),
    repository: name,
    name: facts.name ?? path,
    path,
    headSha,
    headBranch,
    event: "push",
    status: "queued",
    conclusion: null,
    deploysPages: facts.deploysPages,
    uploadPath: facts.uploadPath,
    log: "",
    createdAt: isoTime(created),
    updatedAt: isoTime(created),
    runNumber: state.workflowRuns.filter((other) => other.repository === name).length + 1,
  };
  state.workflowRuns.push(run);
  const outcome: ActionsOutcome = settings.actionsOutcomes.shift() ?? settings.actionsDefaultOutcome;
  const delay = settings.actionsDelayMs;
  context.changed();

  context.later(Math.min(20, delay), () => {
    run.status = "in_progress";
    run.updatedAt = isoTime(context.now());
    context.changed();
  });
  context.later(delay, () => {
    complete(context, repository, run, outcome)
      .catch((error: unknown) => {
        // Only when the double is torn down mid-run (its repositories gone); never left dangling.
        run.status = "completed";
        run.conclusion = "failure";
        run.log += `The double could not finish this run: ${String(error)}\n`;
      })
      .finally(() => context.changed());
  });
  return run;
}

async function complete(
  context: DoubleContext,
  repository: DoubleRepository,
  run: DoubleWorkflowRun,
  outcome: ActionsOutcome,
): Promise<void> {
  let conclusion = outcome.conclusion;
  let log = outcome.log ?? defaultLog(run, conclusion);
  if (conclusion === "success" && run.deploysPages) {
    const site = repository.pages;
    const uploaded = await pathExists(context, repository, run.headSha, run.uploadPath);
    if (!site || site.buildType !== "workflow") {
      conclusion = "failure";
      log +=
        "Error: Get Pages site failed. Please verify that the repository has Pages enabled and configured to build using GitHub Actions\n";
    } else if (!uploaded) {
      conclusion = "failure";
      log += `tar: ${run.uploadPath}: Cannot open: No such file or directory\nError: Process completed with exit code 2.\n`;
    } else {
      site.status = "built";
      site.publishedSha = run.headSha;
      site.publishedRoot = run.uploadPath;
      log += `Reported success!\n`;
    }
  }
  run.conclusion = conclusion;
  run.log = log;
  run.status = "completed";
  run.updatedAt = isoTime(context.now());
}

async function pathExists(context: DoubleContext, repository: DoubleRepository, commit: string, path: string): Promise<boolean> {
  if (path === "") return true;
  const result = await runGit(["cat-file", "-t", `${commit}:${path}`], {
    gitDir: repository.directory,
    home: context.dataDir,
    okExitCodes: [0, 128],
  });
  return result.exitCode === 0 && result.stdout.toString("utf8").trim() === "tree";
}
