import type { PagesOutcome } from "../domain/task.ts";
import type { Forge, PagesBuildType, RepositoryRef, WorkflowRun } from "../ports/forge.ts";

/** One look at a commit's Pages site. `propagating`: the forge built it, the host still serves something else. */
export type PagesPollState = "building" | "propagating" | "live" | "failed";

export interface PagesPoll {
  readonly state: PagesPollState;
  readonly detail: string;
  /** When to look again, while `building` or `propagating`. */
  readonly retryAfterMs: number;
  readonly workflowRun?: WorkflowRun;
}

export interface PagesPollInput {
  readonly forge: Forge;
  readonly repo: RepositoryRef;
  readonly commitSha: string;
  readonly buildType: PagesBuildType;
  /** The commit's `index.html`: the host serves this commit when it answers these bytes. */
  readonly expectedIndex: Buffer | undefined;
  /** Which poll this is (1, 2 …), for the cache-busting query. */
  readonly poll: number;
}

/** How soon to look at the host again once the forge says built (CDNs catch up in seconds). */
const propagationRetryMs = 1000;
/** One request to the host; a hung CDN must not stretch a poll step. */
const hostTimeoutMs = 5000;

/**
 * One poll step of the wait for Pages: asks the forge where the build of `commitSha` stands and,
 * once built, asks the host itself (with a cache-busting query) whether it serves this commit.
 * Quick and repeatable by design — the caller decides whether to sleep and call again, or (a later
 * scheduler) to re-queue the step as a timer that holds no worker.
 */
export async function pollPagesOnce(input: PagesPollInput, fetchFn: typeof fetch): Promise<PagesPoll> {
  const status = await input.forge.pagesStatus(input.repo.name, input.commitSha);
  const run = status.workflowRun ? { workflowRun: status.workflowRun } : {};
  if (status.state === "building") return { state: "building", detail: status.detail, retryAfterMs: status.retryAfterMs, ...run };
  if (status.state === "failed") return { state: "failed", detail: status.reason, retryAfterMs: 0, ...run };
  const served = await hostServes(input, fetchFn);
  if (served === true) return { state: "live", detail: "the Pages URL serves this commit", retryAfterMs: 0, ...run };
  return { state: "propagating", detail: `built; the Pages URL ${served}`, retryAfterMs: propagationRetryMs, ...run };
}

/** True when the host serves this commit, else why not. */
async function hostServes(input: PagesPollInput, fetchFn: typeof fetch): Promise<true | string> {
  const url = new URL(input.repo.pagesUrl);
  // A query the CDN has never seen, so a cached copy of the old page cannot answer.
  url.searchParams.set("briefwright-poll", `${input.commitSha.slice(0, 12)}-${input.poll}`);
  try {
    const response = await fetchFn(url, { signal: AbortSignal.timeout(hostTimeoutMs), headers: { "cache-control": "no-cache" } });
    const body = Buffer.from(await response.arrayBuffer());
    if (response.status !== 200) return `answered HTTP ${response.status}`;
    // A workflow publishes what it builds, which need not be the committed index.html; its run
    // for this very commit having succeeded is what ties the site to the commit.
    if (input.buildType === "workflow" || input.expectedIndex === undefined) return true;
    return body.equals(input.expectedIndex) ? true : "still serves another version of index.html";
  } catch (error) {
    return `did not answer (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** The record of a finished wait, for the round's result. */
export function pagesOutcome(last: PagesPoll, buildType: PagesBuildType, polls: number): PagesOutcome {
  const run = last.workflowRun;
  return {
    buildType,
    state: last.state === "live" || last.state === "failed" ? last.state : "propagating",
    detail: last.detail,
    polls,
    ...(run ? { workflowRun: { id: run.id, conclusion: run.conclusion, htmlUrl: run.htmlUrl, logsUrl: run.logsUrl } } : {}),
  };
}
