import { ForgeError } from "../domain/errors.ts";
import { loadFileTree, type StoredFileTree } from "../domain/files.ts";
import type { DeployResult, TaskRequest } from "../domain/task.ts";
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

/**
 * Commits the tree (idempotent on the round id, so a deploy retried after a crash finds its
 * commit instead of making a second one), turns Pages on and waits until Pages serves it.
 */
export async function deploy(input: DeployInput, deps: PipelineDeps): Promise<DeployResult> {
  const { forge, events, clock } = deps;
  const repo = await forge.ensureRepository(input.repoName);
  const files = loadFileTree(input.files);
  const { commitSha, created } = await forge.commitFiles(repo.name, {
    files,
    message: `Round ${input.request.round}: ${input.request.brief.split("\n")[0]!.slice(0, 60)}\n\nTask ${input.request.task}, nonce ${input.request.nonce}.`,
    idempotencyKey: input.roundId,
    author: deps.settings.gitAuthor,
  });
  events.emit("commit-create", input.roundId, { repo: repo.name, commitSha, created, files: files.size });
  await forge.enablePages(repo.name);

  const expected = files.get("index.html");
  let polls = 0;
  let live = false;
  let wait = 100;
  while (!live) {
    polls++;
    live = (await forge.pagesServes(repo.name, commitSha)) && (await servesContent(repo.pagesUrl, expected, deps.fetch));
    if (live) break;
    // Pages not live yet: keep polling while the report still fits after it.
    if (input.budget.allowanceMs(input.reportReserveMs) <= wait) break;
    await clock.sleep(wait);
    wait = Math.min(wait * 2, 5000);
  }
  events.emit("pages-wait", input.roundId, { pagesUrl: repo.pagesUrl, commitSha, polls, live });
  if (!commitSha) throw new ForgeError("the forge returned no commit");
  return { repoUrl: repo.repoUrl, commitSha, pagesUrl: repo.pagesUrl };
}

/** The live page answers 200 with this commit's index.html. */
async function servesContent(pagesUrl: string, expected: Buffer | undefined, fetchFn: typeof fetch): Promise<boolean> {
  try {
    const response = await fetchFn(pagesUrl, { signal: AbortSignal.timeout(5000), headers: { "cache-control": "no-cache" } });
    if (response.status !== 200) return false;
    const body = Buffer.from(await response.arrayBuffer());
    return expected === undefined || body.equals(expected);
  } catch {
    return false;
  }
}
