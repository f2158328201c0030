import { describe, expect, it } from "vitest";
import { retryDecision } from "./github-retry-delay.ts";

const policy = { backoffBaseMs: 1000, backoffMaxMs: 16_000, maxWaitMs: 60_000 };
const now = 1_700_000_000_000;

/** A failure shaped like Octokit's RequestError. */
function failure(status: number, headers: Record<string, string> = {}, message = "x") {
  return Object.assign(new Error(message), { status, response: { headers, data: { message } } });
}

describe("retryDecision (GitHub's rules for being retried)", () => {
  it("waits Retry-After on a secondary rate limit (403) and on 429", () => {
    expect(retryDecision(failure(403, { "retry-after": "3" }, "You have exceeded a secondary rate limit"), 1, now, policy)).toEqual({ retry: true, delayMs: 3000, source: "retry-after" });
    expect(retryDecision(failure(429, { "retry-after": "0" }), 1, now, policy)).toEqual({ retry: true, delayMs: 0, source: "retry-after" });
  });

  it("waits until x-ratelimit-reset when the primary limit is spent", () => {
    const reset = String(Math.floor(now / 1000) + 10);
    expect(retryDecision(failure(403, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset }), 1, now, policy)).toEqual({ retry: true, delayMs: 11_000, source: "ratelimit-reset" });
  });

  it("gives up at once when GitHub asks for longer than we may wait", () => {
    expect(retryDecision(failure(429, { "retry-after": "3600" }), 1, now, policy)).toEqual({ retry: false, reason: "wait-too-long", askedMs: 3_600_000 });
  });

  it("backs off exponentially on 5xx and network failures, capped", () => {
    expect(retryDecision(failure(502), 1, now, policy)).toEqual({ retry: true, delayMs: 1000, source: "backoff" });
    expect(retryDecision(failure(503), 3, now, policy)).toEqual({ retry: true, delayMs: 4000, source: "backoff" });
    expect(retryDecision(new Error("fetch failed"), 9, now, policy)).toEqual({ retry: true, delayMs: 16_000, source: "backoff" });
  });

  it("treats other statuses as answers, not faults", () => {
    for (const status of [400, 401, 404, 409, 422]) expect(retryDecision(failure(status), 1, now, policy)).toEqual({ retry: false, reason: "not-retryable" });
    // A 403 that is a missing permission, not a limit.
    expect(retryDecision(failure(403, { "x-ratelimit-remaining": "4999" }, "Resource not accessible by integration"), 1, now, policy).retry).toBe(false);
  });
});
