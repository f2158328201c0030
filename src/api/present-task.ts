import type { RoundRecord, Store, TaskRecord } from "../ports/store.ts";
import { addUsage, llmCalls, totalUsage } from "./llm-usage.ts";

/** The list view: what a dashboard row needs, no per-round detail. */
export function presentTaskSummary(task: TaskRecord) {
  const latest = task.rounds.at(-1);
  return {
    id: task.id,
    task: task.name,
    email: task.email,
    repo: task.repoName,
    status: task.status,
    created_at: new Date(task.createdAt).toISOString(),
    updated_at: new Date(task.updatedAt).toISOString(),
    rounds: task.rounds.length,
    latest_round: latest
      ? { id: latest.id, round: latest.round, status: latest.status, repo: latest.repoName, outcome: latest.outcome?.kind ?? null, result: latest.result }
      : null,
  };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

async function presentRound(round: RoundRecord, store: Store) {
  const [stages, events, reportAttempts] = await Promise.all([
    store.listStages(round.id),
    store.listEvents(round.id),
    store.listReportAttempts(round.id),
  ]);
  const calls = llmCalls(events);
  const built = stages.find((s) => s.name === "build" && s.status === "succeeded")?.output as
    | { files?: Record<string, string>; attempts?: unknown[]; fetched?: unknown[]; chosenAttempt?: number; derived?: unknown[]; editableAttachments?: string[]; fallback?: unknown }
    | undefined;
  return {
    id: round.id,
    round: round.round,
    nonce: round.nonce,
    status: round.status,
    brief: round.request.brief,
    checks: round.request.checks,
    evaluation_url: round.request.evaluationUrl,
    attachments: round.request.attachments.map((a) => a.name),
    created_at: iso(round.createdAt),
    started_at: iso(round.startedAt),
    finished_at: iso(round.finishedAt),
    deadline_at: iso(round.deadlineAt),
    reported_at: iso(round.reportedAt),
    duration_ms: round.finishedAt !== null ? round.finishedAt - round.createdAt : null,
    error: round.error,
    // The repository this round commits to (a round 1 sent again builds in a fresh one).
    repo: round.repoName,
    // What was (or is being) shipped: `built`, `best-effort` (the best candidate fails checks) or
    // `fallback` (no app: attachments, LICENSE and a README saying why); null before deploy.
    outcome: round.outcome?.kind ?? null,
    degraded: round.outcome ? round.outcome.kind !== "built" : null,
    outcome_reason: round.outcome?.reason ?? null,
    result: round.result && {
      repo_url: round.result.repoUrl,
      commit_sha: round.result.commitSha,
      pages_url: round.result.pagesUrl,
      // The forge's name (suffixed when the task's was taken) and how the Pages wait ended.
      repo_name: round.result.repoName ?? null,
      pages: round.result.pages ?? null,
    },
    files: built?.files ? Object.keys(built.files).sort() : [],
    build: built
      ? {
          attempts: built.attempts ?? [],
          chosen_attempt: built.chosenAttempt ?? null,
          derived_checks: built.derived ?? [],
          fetched: built.fetched ?? [],
          editable_attachments: built.editableAttachments ?? [],
          fallback: built.fallback ?? null,
        }
      : null,
    live_check: stages.find((s) => s.name === "live-check")?.output ?? null,
    budget: {
      total_ms: round.deadlineAt - round.createdAt,
      spent_ms: (round.finishedAt ?? Date.now()) - round.createdAt,
      by_stage_ms: Object.fromEntries(stages.map((s) => [s.name, s.finishedAt !== null ? s.finishedAt - s.startedAt : null])),
    },
    stages: stages.map((s) => ({
      name: s.name,
      status: s.status,
      attempt: s.attempt,
      started_at: iso(s.startedAt),
      finished_at: iso(s.finishedAt),
      duration_ms: s.finishedAt !== null ? s.finishedAt - s.startedAt : null,
      error: s.error,
    })),
    report_attempts: reportAttempts.map((a) => ({
      attempt: a.attempt,
      at: iso(a.at),
      status_code: a.statusCode,
      error: a.error,
      duration_ms: a.durationMs,
    })),
    // Every model attempt (answered or failed, fallbacks included) and their totals.
    usage: totalUsage(calls),
    llm_calls: calls,
    events: events.map((e) => ({ seq: e.seq, name: e.name, at: iso(e.at), data: e.payload })),
  };
}

/** The detail view: the task and each round with its stages, timings, errors, files and reports. */
export async function presentTask(task: TaskRecord, store: Store) {
  const rounds = await Promise.all(task.rounds.map((r) => presentRound(r, store)));
  return { ...presentTaskSummary(task), usage: addUsage(rounds.map((r) => r.usage)), rounds };
}
