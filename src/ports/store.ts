import type { DeployResult, RoundOutcome, RoundStatus, TaskRequest } from "../domain/task.ts";

/**
 * The store port, version 2 (v2: a round's own repository name and outcome; a repeated round 1
 * gets a fresh repository name): tasks, rounds, stage checkpoints, events, report attempts and the
 * rows of the embedded job queue. Adapters: SQLite (embedded default) and PostgreSQL.
 * Every method is safe to call concurrently from many workers of one process.
 * Timestamps are epoch milliseconds. No method ever receives the student secret.
 */
export interface Store {
  /** Which dialect backs this store (for health output and capability decisions). */
  readonly dialect: "sqlite" | "postgres";

  /** Applies pending migrations. Idempotent; safe to call on every start. */
  migrate(): Promise<void>;

  /**
   * Accepts a round in ONE transaction: creates the task if it is new (choosing a unique repository
   * name from `repoNameCandidate`), inserts the round and inserts its job into the `jobs` table.
   * A repeat of the same (task, round, nonce) writes nothing and returns the existing ids with
   * `created: false`, and `storedRequestDiffers` when the stored request is not this one. A new round's `firstEvents` are stored in the same transaction.
   *
   * The round's repository (`RoundRecord.repoName`): a round 1 of a new task gets the task's
   * repository name; a round 1 with a new nonce for a task that already has a round 1 gets a fresh
   * name no task or round ever held (`<task repo>-2`, `-3` …); a later round gets none here (the
   * pipeline picks the newest round 1's repository when it runs and records it with updateRound).
   */
  acceptRound(input: AcceptRoundInput): Promise<AcceptRoundResult>;

  /** One task with all its rounds (oldest round first), or undefined. */
  getTask(taskId: string): Promise<TaskRecord | undefined>;

  /** Tasks, newest first (by creation), optionally filtered; cursor-paginated. */
  listTasks(query: ListTasksQuery): Promise<TaskPage>;

  /** One round, or undefined. */
  getRound(roundId: string): Promise<RoundRecord | undefined>;

  /** Earlier rounds of the same task that succeeded, oldest first (for regression and revision). */
  listPriorRounds(taskId: string, beforeRound: number): Promise<RoundRecord[]>;

  /**
   * Rounds that succeeded at or after `since` (finish time) with no finished `live-check` stage:
   * the live checks a stop or crash cut off. Oldest first. Read once at start, so not indexed.
   */
  listRoundsAwaitingLiveCheck(since: number): Promise<RoundRecord[]>;

  /**
   * Moves a round (and its task's status) along. A `repoName` (what the forge answered) is also
   * taken for good: acceptRound never gives it to another task or round.
   */
  updateRound(roundId: string, patch: RoundPatch): Promise<void>;

  /** Inserts or replaces the checkpoint of one stage of one round. */
  saveStage(roundId: string, stage: StageRecord): Promise<void>;

  /** All stage checkpoints of a round, in the order they were first started. */
  listStages(roundId: string): Promise<StageRecord[]>;

  /** Appends events of a round; `seq` is assigned by the store and increases per round. */
  appendEvents(roundId: string, events: readonly NewEvent[]): Promise<void>;

  /** Events of a round in order. */
  listEvents(roundId: string, options?: { afterSeq?: number; limit?: number }): Promise<EventRecord[]>;

  /** Records one attempt to deliver the report. */
  addReportAttempt(roundId: string, attempt: ReportAttemptRecord): Promise<void>;

  /** Report attempts of a round, oldest first. */
  listReportAttempts(roundId: string): Promise<ReportAttemptRecord[]>;

  /** Counts rows, for tests, benchmarks and health: tasks, rounds, jobs. */
  counts(): Promise<{ tasks: number; rounds: number; jobs: number }>;

  /** Cheap liveness probe. */
  ping(): Promise<void>;

  /** Releases connections. */
  close(): Promise<void>;
}

export interface AcceptRoundInput {
  /** The validated request without the secret. Stored as JSON. */
  readonly request: TaskRequest;
  /** Sanitised repository name; the store appends `-2`, `-3` … if another task or round holds it. */
  readonly repoNameCandidate: string;
  /** When the round must be reported by (epoch ms). */
  readonly deadlineAt: number;
  readonly now: number;
  /**
   * Events to keep as a NEW round's first events (seq 1, 2 …), written in the same transaction as
   * the round, built from the ids the store chose. Not called for a repeat (`created: false`).
   */
  readonly firstEvents?: (accepted: AcceptRoundResult) => readonly NewEvent[];
}

export interface AcceptRoundResult {
  readonly created: boolean;
  /** True only for a repeat whose stored request differs from this one (a reused nonce, not a retry). */
  readonly storedRequestDiffers: boolean;
  readonly taskId: string;
  readonly roundId: string;
  readonly jobId: string;
}

export interface TaskRecord {
  readonly id: string;
  /** The `task` field of the request. */
  readonly name: string;
  readonly email: string;
  readonly repoName: string;
  /** Status of the latest round. */
  readonly status: RoundStatus;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly rounds: RoundRecord[];
}

export interface RoundRecord {
  readonly id: string;
  readonly taskId: string;
  readonly round: number;
  readonly nonce: string;
  readonly request: TaskRequest;
  readonly status: RoundStatus;
  readonly createdAt: number;
  readonly deadlineAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly error: string | null;
  readonly result: DeployResult | null;
  /** When the report was acknowledged with HTTP 200, or null. */
  readonly reportedAt: number | null;
  /**
   * The repository this round commits to, or null while not yet known (a round N > 1 before it
   * runs). What the forge answered replaces what was asked for (updateRound), so this is the name
   * the commit really went to.
   */
  readonly repoName: string | null;
  /** What the round ships (a full build, a best-effort candidate, a fallback), once known. */
  readonly outcome: RoundOutcome | null;
}

export interface RoundPatch {
  readonly status?: RoundStatus;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly error?: string | null;
  readonly result?: DeployResult;
  readonly reportedAt?: number;
  readonly repoName?: string;
  readonly outcome?: RoundOutcome;
  readonly now: number;
}

export interface ListTasksQuery {
  readonly status?: RoundStatus;
  /** Exact `task` name. */
  readonly task?: string;
  readonly limit: number;
  /** Opaque cursor from a previous page. */
  readonly cursor?: string;
}

export interface TaskPage {
  /** Tasks without their rounds' detail beyond status; use getTask for that. */
  readonly items: TaskRecord[];
  readonly nextCursor: string | null;
}

export type StageStatus = "running" | "succeeded" | "failed";

export interface StageRecord {
  readonly name: string;
  readonly status: StageStatus;
  /** How many times the stage has been started for this round. */
  readonly attempt: number;
  readonly startedAt: number;
  readonly finishedAt: number | null;
  /** JSON-serialisable result; what a resumed round reads instead of redoing the stage. */
  readonly output: unknown;
  readonly error: string | null;
}

export interface NewEvent {
  readonly name: string;
  readonly at: number;
  readonly payload: unknown;
}

export interface EventRecord extends NewEvent {
  readonly seq: number;
}

export interface ReportAttemptRecord {
  readonly attempt: number;
  readonly at: number;
  readonly statusCode: number | null;
  readonly error: string | null;
  readonly durationMs: number;
}
