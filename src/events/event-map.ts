import type { RoundOutcome } from "../domain/task.ts";

/**
 * Every event briefwright emits, by noun-verb name. Observers (the per-round event log today;
 * live logs, metrics, traces and the dashboard later) subscribe to these and nothing else.
 * Payloads never carry secrets or file contents (`llm-delta`'s short excerpt of the answer being
 * generated is the one exception, and it is never stored: see `ephemeralEvents`).
 */
export interface EventMap {
  "round-accept": { taskId: string; task: string; round: number; nonce: string };
  "round-start": { attempt: number; deadlineAt: number };
  "round-finish": { repoUrl: string; commitSha: string; pagesUrl: string; durationMs: number };
  "round-fail": { error: string; code: string };
  /** What the round ships: a full build, the best candidate that still fails checks, or the fallback. */
  "round-outcome": RoundOutcome;
  /** The build produced no candidate; the fallback tree ships instead. `withheld`: files the secret scan kept out. */
  "build-fallback": { code: string; reason: string; withheld: string[] };
  "stage-start": { stage: string; attempt: number; budgetLeftMs: number };
  "stage-skip": { stage: string; reason: string };
  "stage-finish": { stage: string; durationMs: number };
  "stage-fail": { stage: string; durationMs: number; error: string; code: string; retryable: boolean };
  "attachment-decode": { name: string; mimeType: string; bytes: number };
  "check-normalize": { total: number; js: number; text: number };
  /** `stream` null: the model's configured default decides. */
  "llm-request": { purpose: string; provider: string; model: string; stream: boolean | null };
  /** A call answered: who answered, tokens as the provider reported them, cost from the price table. */
  "llm-usage": {
    purpose: string;
    provider: string;
    model: string;
    inputTokens: number;
    outputTokens: number;
    /** The answering attempt. */
    latencyMs: number;
    finishReason: string;
    costUsd: number;
    /** False when the price table has no entry for this model (cost 0). */
    priced: boolean;
    /** Attempts across providers, the answering one included. */
    attempts: number;
    /** The whole call, retries, waits and fallbacks included. */
    durationMs: number;
  };
  /** A call failed for good (every provider, or the caller gave up). */
  "llm-fail": { purpose: string; provider: string; model: string; error: string; code: string; retryable: boolean };
  /** One attempt of a call failed; a retry or the next provider may follow. */
  "llm-attempt-fail": {
    purpose: string;
    provider: string;
    model: string;
    attempt: number;
    error: string;
    code: string;
    statusCode: number | null;
    retryable: boolean;
    latencyMs: number;
  };
  "llm-retry": { purpose: string; provider: string; model: string; attempt: number; delayMs: number; delaySource: "retry-after" | "backoff"; reason: string };
  "llm-fallback": { purpose: string; from: string; to: string; reason: string };
  /** Batched streaming progress: at most every ~250 ms or ~2 KB. */
  "llm-delta": { purpose: string; chars: number; totalChars: number; text: string };
  "breaker-open": { provider: string; cooldownMs: number; reason: string };
  "breaker-half-open": { provider: string };
  "breaker-close": { provider: string };
  /** The model called a tool during a call and it ran; `arguments` is shortened and masked. */
  "tool-call": { purpose: string; provider: string; model: string; tool: string; arguments: string; outcome: "ok" | "refused" | "error"; detail: string | null; durationMs: number };
  "files-generate": { files: string[]; bytes: number };
  "build-attempt": { attempt: number; outcome: "unusable" | "gate-blocked" | "checks-failed" | "accepted"; reason: string | null };
  "checks-derive": { derived: number; problems: string[] };
  "check-result": { attempt: number; id: string; kind: string; origin: string; passed: boolean; blocking: boolean; detail: string | null };
  "verify-finish": { attempt: number; passed: boolean; score: number; total: number; durationMs: number };
  "verify-skip": { attempt: number; reason: string };
  "repair-stop": { reason: string; bestAttempt: number };
  "live-check": { passed: boolean; score: number; total: number; agrees: boolean; differences: string[] };
  "gate-decide": { attempt: number; rule: string; passed: boolean; severity: string; detail: string; path: string | null };
  /** A build-time fetch: `via` the build contract's prefetch or the model's `fetch_url` tool; `path` null when not saved. */
  "fetch-complete": { path: string | null; url: string; bytes: number; via: "contract" | "tool" };
  "fetch-refuse": { path: string | null; url: string; reason: string; via: "contract" | "tool" };
  /** A build tool other than a fetch ran (`run_js`, `convert_file`), or the contract's conversion was made (`via: "contract"`). */
  "build-tool-run": { tool: string; outcome: "saved" | "answered" | "refused"; path: string | null; from: string; bytes: number; detail: string | null; via: "contract" | "tool" };
  "readme-write": { source: "model" | "template"; reason: string | null };
  "commit-create": { repo: string; commitSha: string; created: boolean; files: number };
  "pages-wait": {
    pagesUrl: string;
    commitSha: string;
    polls: number;
    live: boolean;
    /** See PagesOutcome: live, propagating (reported before the site caught up) or failed. */
    state: string;
    detail: string;
    buildType: string;
    workflowRun: { id: number; conclusion: string | null; htmlUrl: string; logsUrl: string } | null;
  };
  /** The repository name the forge gave differs from the one asked for (taken by something not ours). */
  "repository-rename": { asked: string; given: string };
  "report-attempt": { attempt: number; statusCode: number | null; error: string | null; durationMs: number };
  "report-deliver": { attempts: number };
  "report-abandon": { attempts: number; reason: string };
  "job-claim": { jobId: string; workerId: string; attempt: number };
  "job-fail": { jobId: string; error: string; willRetry: boolean };
}

export type EventName = keyof EventMap;

/** Events for live views only: not kept in the round's record, logged at debug level. */
export const ephemeralEvents: ReadonlySet<EventName> = new Set<EventName>(["llm-delta"]);

/** An event as observers see it: the payload plus where and when it happened. */
export interface BriefwrightEvent<N extends EventName = EventName> {
  readonly name: N;
  readonly roundId: string | null;
  readonly at: number;
  readonly payload: EventMap[N];
}
