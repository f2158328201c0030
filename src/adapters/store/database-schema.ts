import type { Generated } from "kysely";
import type { JobState } from "../../ports/queue.ts";
import type { StageStatus } from "../../ports/store.ts";
import type { RoundOutcome, RoundStatus } from "../../domain/task.ts";

/**
 * The tables as Kysely sees them, one interface per table with the SQL column names. Shared by
 * the SQLite and PostgreSQL adapters, so only types both dialects return identically appear here:
 * times are epoch milliseconds as JS numbers (PostgreSQL's BIGINT is parsed to a number on the
 * pool) and JSON is kept as text (SQLite has no JSON type, and text keeps reads byte-identical).
 */
export interface DatabaseSchema {
  tasks: TasksTable;
  rounds: RoundsTable;
  stages: StagesTable;
  round_events: RoundEventsTable;
  report_attempts: ReportAttemptsTable;
  repositories: RepositoriesTable;
  jobs: JobsTable;
  briefwright_migrations: MigrationsTable;
}

export interface TasksTable {
  id: string;
  /** The request's `task`; unique, it is how repeats of a task find each other. */
  name: string;
  email: string;
  repo_name: string;
  /** Mirrors the latest round (highest round number). */
  status: RoundStatus;
  created_at: number;
  updated_at: number;
}

export interface RoundsTable {
  id: string;
  task_id: string;
  round: number;
  nonce: string;
  request_json: string;
  status: RoundStatus;
  deadline_at: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
  result_json: string | null;
  reported_at: number | null;
  /** The repository this round commits to (see RoundRecord.repoName); null until known. */
  repo_name: string | null;
  /** RoundOutcome.kind, set when the round knows what it ships. */
  outcome: RoundOutcome["kind"] | null;
  outcome_reason: string | null;
}

/**
 * Every repository name briefwright has given out, one row each: the primary key is what keeps a
 * task's first repository and a repeated round 1's suffixed one from ever sharing a name.
 */
export interface RepositoriesTable {
  name: string;
  /** The task it belongs to (no foreign key: a name is claimed before its new task is inserted). */
  task_id: string;
  created_at: number;
}

export interface StagesTable {
  round_id: string;
  name: string;
  status: StageStatus;
  attempt: number;
  started_at: number;
  finished_at: number | null;
  output_json: string;
  error: string | null;
  /** 1, 2, 3 … in the order stages of a round were first saved; kept on later upserts. */
  position: number;
}

export interface RoundEventsTable {
  round_id: string;
  seq: number;
  name: string;
  at: number;
  payload_json: string;
}

export interface ReportAttemptsTable {
  /** Surrogate key: a resumed notifier may number its attempts from 1 again. */
  id: string;
  round_id: string;
  attempt: number;
  at: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

export interface JobsTable {
  id: string;
  name: string;
  /**
   * Deduplication key (`run-round:<roundId>`), unique when set: how a round finds its job, and
   * the same idea as pg-boss's singleton key and graphile-worker's job key.
   */
  job_key: string | null;
  payload_json: string;
  status: JobState;
  run_at: number;
  /** Incremented by every claim; 1 while the first attempt runs. */
  attempts: Generated<number>;
  /** Defaults to 5. */
  max_attempts: Generated<number>;
  locked_by: string | null;
  locked_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface MigrationsTable {
  name: string;
  applied_at: number;
}
