/**
 * Every event briefwright emits, by noun-verb name. Observers (the per-round event log today;
 * live logs, metrics, traces and the dashboard later) subscribe to these and nothing else.
 * Payloads never carry secrets or file contents.
 */
export interface EventMap {
  "round-accept": { taskId: string; task: string; round: number; nonce: string };
  "round-start": { attempt: number; deadlineAt: number };
  "round-finish": { repoUrl: string; commitSha: string; pagesUrl: string; durationMs: number };
  "round-fail": { error: string; code: string };
  "stage-start": { stage: string; attempt: number; budgetLeftMs: number };
  "stage-skip": { stage: string; reason: string };
  "stage-finish": { stage: string; durationMs: number };
  "stage-fail": { stage: string; durationMs: number; error: string; code: string; retryable: boolean };
  "attachment-decode": { name: string; mimeType: string; bytes: number };
  "check-normalize": { total: number; js: number; text: number };
  "llm-request": { purpose: string; provider: string; model: string; stream: boolean };
  "llm-usage": {
    purpose: string;
    provider: string;
    model: string;
    inputTokens: number;
    outputTokens: number;
    latencyMs: number;
    finishReason: string;
  };
  "llm-fail": { purpose: string; provider: string; model: string; error: string; retryable: boolean };
  "files-generate": { files: string[]; bytes: number };
  "build-attempt": { attempt: number; outcome: "unusable" | "gate-blocked" | "accepted"; reason: string | null };
  "gate-decide": { attempt: number; rule: string; passed: boolean; severity: string; detail: string; path: string | null };
  "fetch-complete": { path: string; url: string; bytes: number };
  "fetch-refuse": { path: string; url: string; reason: string };
  "commit-create": { repo: string; commitSha: string; created: boolean; files: number };
  "pages-wait": { pagesUrl: string; commitSha: string; polls: number; live: boolean };
  "report-attempt": { attempt: number; statusCode: number | null; error: string | null; durationMs: number };
  "report-deliver": { attempts: number };
  "report-abandon": { attempts: number; reason: string };
  "job-claim": { jobId: string; workerId: string; attempt: number };
  "job-fail": { jobId: string; error: string; willRetry: boolean };
}

export type EventName = keyof EventMap;

/** An event as observers see it: the payload plus where and when it happened. */
export interface BriefwrightEvent<N extends EventName = EventName> {
  readonly name: N;
  readonly roundId: string | null;
  readonly at: number;
  readonly payload: EventMap[N];
}
