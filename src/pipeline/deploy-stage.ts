import { ForgeError } from "../domain/errors.ts";
import { loadFileTree, type StoredFileTree } from "../domain/files.ts";
import { pagesDeployWorkflows } from "../domain/pages-workflow.ts";
import { repositoryDescription } from "../domain/repository-description.ts";
import type { DeployResult, TaskRequest } from "../domain/task.ts";
import type { PagesBuildType } from "../ports/forge.ts";
import { pagesOutcome, pollPagesOnce, type PagesPoll } from "./pages-poll-step.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";
import type { RoundBudget } from "./round-budget.ts";

export interface DeployInput {
  readonly roundId: string;
  readonly repoName: string;
  readonly request: TaskRequest;
  readonly files: StoredFileTree;
  readonly budget: RoundBudget;
  /** Kept back for the report after Pages is live. */
  readonly reportReserveMs: number;
}

/** What the deploy stage touches of the pipeline's dependencies. */
export type DeployDeps = Pick<PipelineDeps, "forge" | "events" | "clock" | "fetch"> & {
  readonly settings: Pick<PipelineDeps["settings"], "gitAuthor">;
};

/** Longest pause between two poll steps, whatever the forge suggests. */
const maxPollIntervalMs = 5000;

/**
 * Commits the tree (idempotent on the round id, so a deploy retried after a crash finds its
 * commit instead of making a second one), turns Pages on — built by workflow when the commit
 * carries one that deploys Pages and the forge can — and polls until the site serves it, the
 * build fails, or the budget says report now (recorded as still propagating).
 */
export async function deploy(input: DeployInput, deps: DeployDeps): Promise<DeployResult> {
  const { forge, events, clock } = deps;
  const repo = await forge.ensureRepository(input.repoName, { description: repositoryDescription(input.request.brief) });
  const files = loadFileTree(input.files);
  const buildType: PagesBuildType =
    forge.capabilities.pagesBuildTypes.includes("workflow") && pagesDeployWorkflows(files).length > 0 ? "workflow" : "legacy";
  // A workflow site must be one before the push: the run the push starts deploys only to a site
  // already set to workflow builds. A branch site needs the branch, so it comes after.
  if (buildType === "workflow") await forge.enablePages(repo.name, { buildType });
  const { commitSha, created } = await forge.commitFiles(repo.name, {
    files,
    message: `Round ${input.request.round}: ${input.request.brief.split("\n")[0]!.slice(0, 60)}\n\nTask ${input.request.task}, nonce ${input.request.nonce}.`,
    idempotencyKey: input.roundId,
    author: deps.settings.gitAuthor,
  });
  if (!commitSha) throw new ForgeError("the forge returned no commit");
  events.emit("commit-create", input.roundId, { repo: repo.name, commitSha, created, files: files.size });
  if (buildType === "legacy") await forge.enablePages(repo.name, { buildType });

  // Poll steps until a final state or the budget; each step is short, the waiting is ours.
  const expectedIndex = files.get("index.html");
  let polls = 0;
  let last: PagesPoll;
  let pause = 100;
  for (;;) {
    polls++;
    last = await pollPagesOnce({ forge, repo, commitSha, buildType, expectedIndex, poll: polls }, deps.fetch);
    if (last.state === "live" || last.state === "failed") break;
    const wait = Math.min(maxPollIntervalMs, Math.max(pause, Math.min(last.retryAfterMs, maxPollIntervalMs)));
    if (input.budget.allowanceMs(input.reportReserveMs) <= wait) break;
    await clock.sleep(wait);
    pause = Math.min(pause * 2, maxPollIntervalMs);
  }
  const pages = pagesOutcome(last, buildType, polls);
  events.emit("pages-wait", input.roundId, {
    pagesUrl: repo.pagesUrl,
    commitSha,
    polls,
    live: pages.state === "live",
    state: pages.state,
    detail: pages.detail,
    buildType,
    workflowRun: pages.workflowRun ?? null,
  });
  return { repoUrl: repo.repoUrl, commitSha, pagesUrl: repo.pagesUrl, repoName: repo.name, pages };
}
