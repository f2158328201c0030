/**
 * Faults a test injects for a route and a count: GitHub's secondary rate limit (403 with
 * Retry-After), its primary rate limit (403 with x-ratelimit-remaining 0 and x-ratelimit-reset),
 * 429, and 5xx — answered before authentication, as GitHub's edge does.
 */
import type { DoubleContext, FaultRule } from "./double-context.ts";
import { DOCS } from "./api-shapes.ts";

export type FaultKind = "secondary-rate-limit" | "primary-rate-limit" | "too-many-requests" | "server-error";

export interface FaultSpec {
  readonly kind: FaultKind;
  /** Exact path (no query), e.g. `/user/repos`, or a pattern. */
  readonly path: string | RegExp;
  readonly method?: string;
  /** How many matching requests fail (default 1). */
  readonly times?: number;
  /** Retry-After (secondary, 429) or seconds until x-ratelimit-reset (primary). Default 1. */
  readonly retryAfterSeconds?: number;
  /** For server-error: the status (default 502). */
  readonly status?: number;
}

export function faultRule(spec: FaultSpec): FaultRule {
  const wait = spec.retryAfterSeconds ?? 1;
  const base = { path: spec.path, remaining: spec.times ?? 1, hits: 0, ...(spec.method ? { method: spec.method.toUpperCase() } : {}) };
  switch (spec.kind) {
    case "secondary-rate-limit":
    case "too-many-requests":
      return {
        ...base,
        status: spec.kind === "secondary-rate-limit" ? 403 : 429,
        headers: () => ({ "retry-after": String(wait) }),
        body: {
          message:
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
          documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
        },
      };
    case "primary-rate-limit":
      return {
        ...base,
        status: 403,
        headers: (nowMs) => ({
          "x-ratelimit-limit": "5000",
          "x-ratelimit-remaining": "0",
          "x-ratelimit-used": "5000",
          "x-ratelimit-reset": String(Math.ceil(nowMs / 1000) + wait),
          "x-ratelimit-resource": "core",
        }),
        body: {
          message: "API rate limit exceeded for user.",
          documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api`,
        },
      };
    case "server-error":
      return {
        ...base,
        status: spec.status ?? 502,
        headers: () => ({}),
        body: { message: "Server Error" },
      };
  }
}

/** The first live rule matching this request, consuming one of its counts. */
export function takeFault(context: DoubleContext, method: string, path: string): FaultRule | undefined {
  for (const rule of context.settings.faults) {
    if (rule.remaining <= 0) continue;
    if (rule.method && rule.method !== method) continue;
    const matches = typeof rule.path === "string" ? rule.path === path : rule.path.test(path);
    if (!matches) continue;
    rule.remaining -= 1;
    rule.hits += 1;
    return rule;
  }
  return undefined;
}
