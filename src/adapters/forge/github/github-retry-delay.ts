import { gitHubMessage, isGitHubHttpError } from "./github-http-error.ts";

/** What to do after a failed GitHub call: retry after `delayMs`, or not (and why). */
export type RetryDecision =
  | { readonly retry: true; readonly delayMs: number; readonly source: "retry-after" | "ratelimit-reset" | "backoff" }
  | { readonly retry: false; readonly reason: "not-retryable" | "wait-too-long"; readonly askedMs?: number };

export interface RetryDelayPolicy {
  /** First backoff when GitHub named no time (doubles per attempt). */
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Longest wait GitHub may ask for before we give up at once (the round's deadline is near anyway). */
  readonly maxWaitMs: number;
}

/**
 * GitHub's rules for being retried (docs: "Rate limits for the REST API"): a 429, or a 403 that
 * is a rate limit (primary: `x-ratelimit-remaining: 0`; secondary: a `retry-after` header or the
 * "secondary rate limit" message), waits `retry-after` seconds if given, else until
 * `x-ratelimit-reset` (epoch seconds), else backs off exponentially; 5xx and network failures
 * back off. Every other status is an answer, not a fault. `attempt` counts from 1.
 */
export function retryDecision(error: unknown, attempt: number, nowMs: number, policy: RetryDelayPolicy): RetryDecision {
  const backoff = (): RetryDecision => ({
    retry: true,
    delayMs: Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.max(0, attempt - 1)),
    source: "backoff",
  });
  if (!isGitHubHttpError(error)) return backoff();
  const status = error.status;
  const headers = error.response?.headers ?? {};
  const retryAfter = secondsHeader(headers["retry-after"]);
  const remaining = headers["x-ratelimit-remaining"];
  const reset = secondsHeader(headers["x-ratelimit-reset"]);
  const rateLimited =
    status === 429 ||
    (status === 403 && (retryAfter !== undefined || String(remaining) === "0" || /rate limit/i.test(gitHubMessage(error))));
  if (rateLimited) {
    let asked: { delayMs: number; source: "retry-after" | "ratelimit-reset" } | undefined;
    if (retryAfter !== undefined) asked = { delayMs: retryAfter * 1000, source: "retry-after" };
    else if (reset !== undefined && String(remaining) === "0") asked = { delayMs: Math.max(0, reset * 1000 - nowMs) + 1000, source: "ratelimit-reset" };
    if (!asked) {
      // A secondary limit without a time: GitHub asks for at least a minute between tries; we can
      // only back off within our own limit.
      return { retry: true, delayMs: Math.min(policy.maxWaitMs, Math.max(policy.backoffBaseMs, 60_000)), source: "backoff" };
    }
    if (asked.delayMs > policy.maxWaitMs) return { retry: false, reason: "wait-too-long", askedMs: asked.delayMs };
    return { retry: true, ...asked };
  }
  // Octokit reports a failed fetch (connection refused, reset) as status 500 without a response.
  if (status >= 500) return backoff();
  return { retry: false, reason: "not-retryable" };
}

function secondsHeader(value: string | number | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}
