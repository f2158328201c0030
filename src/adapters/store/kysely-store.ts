import { randomFillSync } from "node:crypto";
import { sql, type Kysely, type Selectable } from "kysely";
import { monotonicFactory } from "ulid";
import { BriefwrightError, NotFoundError, StoreError, ValidationError, describeError } from "../../domain/errors.ts";
import type { TaskRequest } from "../../domain/task.ts";
import type {
  AcceptRoundInput,
  AcceptRoundResult,
  EventRecord,
  ListTasksQuery,
  NewEvent,
  ReportAttemptRecord,
  RoundPatch,
  RoundRecord,
  StageRecord,
  Store,
  TaskPage,
  TaskRecord,
} from "../../ports/store.ts";
import type { DatabaseSchema, RoundsTable, TasksTable } from "./database-schema.ts";
import type { DialectCapabilities } from "./dialect-capabilities.ts";
import { migrateToLatest } from "./migrations.ts";
import { kyselyWriteTransactions, type WriteTransactions } from "./statement-runner.ts";
import { acceptRoundIn, appendEventsIn, mirrorTaskStatusQuery, prepareWriteStatements, type WriteStatements } from "./write-path.ts";

export { runRoundJobKey, runRoundJobName } from "./write-path.ts";

/** Bounds a page so one request cannot read the whole table. */
const maxPageSize = 1000;

/**
 * The Store port on Kysely, one implementation for SQLite and PostgreSQL; what differs lives in
 * `capabilities`. Also exposes `db`, so the embedded job queue works on the same connection(s)
 * and the same `jobs` table that acceptRound writes.
 */
export class KyselyStore implements Store {
  readonly dialect: "sqlite" | "postgres";
  readonly db: Kysely<DatabaseSchema>;
  readonly capabilities: DialectCapabilities;
  /** Monotonic within the process, so ids sort by creation even within one millisecond. */
  readonly #newId = monotonicFactory(pooledRandom());
  readonly #beforeClose: (() => Promise<void>) | undefined;
  /** The hot write path (acceptRound, appendEvents): statements prepared once, transactions from `#writes`. */
  readonly #statements: WriteStatements;
  readonly #writes: WriteTransactions;
  #closed = false;

  /**
   * `beforeClose` releases what the factory started beside the connection (a checkpoint worker);
   * `writes` supplies the write path's transactions (SQLite: group commit), by default one dialect
   * transaction per call.
   */
  constructor(
    db: Kysely<DatabaseSchema>,
    capabilities: DialectCapabilities,
    options: { beforeClose?: () => Promise<void>; writes?: WriteTransactions } = {},
  ) {
    this.db = db;
    this.capabilities = capabilities;
    this.dialect = capabilities.name;
    this.#beforeClose = options.beforeClose;
    this.#statements = prepareWriteStatements(db, capabilities);
    this.#writes = options.writes ?? kyselyWriteTransactions(db, capabilities);
  }

  /** A new sortable id (ULID). */
  newId(): string {
    return this.#newId();
  }

  /**
   * Runs `work`, turning driver errors into StoreError (with the driver error as `cause` and
   * `isRetryable` from the dialect); errors briefwright raised on purpose pass through.
   */
  async run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof BriefwrightError) throw error;
      throw new StoreError(`${operation}: ${describeError(error)}`, {
        cause: error,
        isRetryable: this.capabilities.isRetryable(error),
      });
    }
  }

  async migrate(): Promise<void> {
    await this.run("migrate", () => migrateToLatest(this.db, this.capabilities));
  }

  acceptRound(input: AcceptRoundInput): Promise<AcceptRoundResult> {
    return this.run("accept round", () => this.#writes.run((runner) => acceptRoundIn(runner, this.#statements, input, this.#newId)));
  }

  getTask(taskId: string): Promise<TaskRecord | undefined> {
    return this.run("get task", async () => {
      const task = await this.db.selectFrom("tasks").selectAll().where("id", "=", taskId).executeTakeFirst();
      if (!task) return undefined;
      const rounds = await this.db
        .selectFrom("rounds")
        .selectAll()
        .where("task_id", "=", taskId)
        .orderBy("round")
        .orderBy("created_at")
        .orderBy("id")
        .execute();
      return toTaskRecord(task, rounds.map(toRoundRecord));
    });
  }

  listTasks(query: ListTasksQuery): Promise<TaskPage> {
    return this.run("list tasks", async () => {
      if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > maxPageSize) {
        throw new ValidationError([{ path: "limit", message: `must be an integer from 1 to ${maxPageSize}` }]);
      }
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      const rows = await this.db
        .selectFrom("tasks")
        .selectAll()
        .$if(query.status !== undefined, (q) => q.where("status", "=", query.status!))
        .$if(query.task !== undefined, (q) => q.where("name", "=", query.task!))
        .$if(after !== undefined, (q) =>
          q.where((eb) =>
            eb.or([
              eb("created_at", "<", after!.createdAt),
              eb.and([eb("created_at", "=", after!.createdAt), eb("id", "<", after!.id)]),
            ]),
          ),
        )
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        // One more than asked tells whether another page exists without a count.
        .limit(query.limit + 1)
        .execute();
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const nextCursor = rows.length > query.limit && last ? encodeCursor(last.created_at, last.id) : null;

      // The rounds of the whole page in one query, not one per task.
      const roundsByTask = new Map<string, RoundRecord[]>();
      if (page.length > 0) {
        const rounds = await this.db
          .selectFrom("rounds")
          .selectAll()
          .where(
            "task_id",
            "in",
            page.map((t) => t.id),
          )
          .orderBy("task_id")
          .orderBy("round")
          .orderBy("created_at")
          .orderBy("id")
          .execute();
        for (const round of rounds) {
          const list = roundsByTask.get(round.task_id) ?? [];
          list.push(toRoundRecord(round));
          roundsByTask.set(round.task_id, list);
        }
      }
      return { items: page.map((t) => toTaskRecord(t, roundsByTask.get(t.id) ?? [])), nextCursor };
    });
  }

  getRound(roundId: string): Promise<RoundRecord | undefined> {
    return this.run("get round", async () => {
      const row = await this.db.selectFrom("rounds").selectAll().where("id", "=", roundId).executeTakeFirst();
      return row ? toRoundRecord(row) : undefined;
    });
  }

  listRoundsAwaitingLiveCheck(since: number): Promise<RoundRecord[]> {
    return this.run("list rounds awaiting a live check", async () => {
      const rows = await this.db
        .selectFrom("rounds")
        .selectAll()
        .where("status", "=", "succeeded")
        .where("finished_at", ">=", since)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom("stages")
                .select("stages.name")
                .whereRef("stages.round_id", "=", "rounds.id")
                .where("stages.name", "=", "live-check")
                .where("stages.status", "in", ["succeeded", "failed"]),
            ),
          ),
        )
        .orderBy("finished_at")
        .orderBy("id")
        .execute();
      return rows.map(toRoundRecord);
    });
  }

  listPriorRounds(taskId: string, beforeRound: number): Promise<RoundRecord[]> {
    return this.run("list prior rounds", async () => {
      const rows = await this.db
        .selectFrom("rounds")
        .selectAll()
        .where("task_id", "=", taskId)
        .where("round", "<", beforeRound)
        .where("status", "=", "succeeded")
        .orderBy("round")
        .orderBy("created_at")
        .orderBy("id")
        .execute();
      return rows.map(toRoundRecord);
    });
  }

  updateRound(roundId: string, patch: RoundPatch): Promise<void> {
    const changes = {
      ...(patch.status !== undefined && { status: patch.status }),
      ...(patch.startedAt !== undefined && { started_at: patch.startedAt }),
      ...(patch.finishedAt !== undefined && { finished_at: patch.finishedAt }),
      ...(patch.error !== undefined && { error: patch.error }),
      ...(patch.result !== undefined && { result_json: JSON.stringify(patch.result) }),
      ...(patch.reportedAt !== undefined && { reported_at: patch.reportedAt }),
      ...(patch.repoName !== undefined && { repo_name: patch.repoName }),
      ...(patch.outcome !== undefined && { outcome: patch.outcome.kind, outcome_reason: patch.outcome.reason }),
    };
    return this.run("update round", () =>
      this.capabilities.transaction(this.db, async (trx) => {
        const row =
          Object.keys(changes).length > 0
            ? await trx.updateTable("rounds").set(changes).where("id", "=", roundId).returning("task_id").executeTakeFirst()
            : await trx.selectFrom("rounds").select("task_id").where("id", "=", roundId).executeTakeFirst();
        if (!row) throw new NotFoundError(`round ${roundId}`);
        // A name the forge chose (not the one asked for) is given out too: no later task may get it.
        if (patch.repoName !== undefined) {
          await trx
            .insertInto("repositories")
            .values({ name: patch.repoName, task_id: row.task_id, created_at: patch.now })
            .onConflict((oc) => oc.doNothing())
            .execute();
        }
        await mirrorTaskStatusQuery(trx, row.task_id, patch.now).execute();
      }),
    );
  }

  saveStage(roundId: string, stage: StageRecord): Promise<void> {
    return this.run("save stage", async () => {
      await this.db
        .insertInto("stages")
        .values({
          round_id: roundId,
          name: stage.name,
          status: stage.status,
          attempt: stage.attempt,
          started_at: stage.startedAt,
          finished_at: stage.finishedAt,
          output_json: JSON.stringify(stage.output ?? null),
          error: stage.error,
          // Position is fixed by the first save and kept by the upsert below. Two first saves of
          // one round racing may share a position; the pipeline runs a round's stages one at a
          // time, and listStages breaks such ties by start time.
          position: sql<number>`(select coalesce(max(s.position), 0) + 1 from stages s where s.round_id = ${roundId})`,
        })
        .onConflict((oc) =>
          oc.columns(["round_id", "name"]).doUpdateSet((eb) => ({
            status: eb.ref("excluded.status"),
            attempt: eb.ref("excluded.attempt"),
            started_at: eb.ref("excluded.started_at"),
            finished_at: eb.ref("excluded.finished_at"),
            output_json: eb.ref("excluded.output_json"),
            error: eb.ref("excluded.error"),
          })),
        )
        .execute();
    });
  }

  listStages(roundId: string): Promise<StageRecord[]> {
    return this.run("list stages", async () => {
      const rows = await this.db
        .selectFrom("stages")
        .selectAll()
        .where("round_id", "=", roundId)
        .orderBy("position")
        .orderBy("started_at")
        .orderBy("name")
        .execute();
      return rows.map((row) => ({
        name: row.name,
        status: row.status,
        attempt: row.attempt,
        startedAt: row.started_at,
        finishedAt: row.finished_at,
        output: JSON.parse(row.output_json) as unknown,
        error: row.error,
      }));
    });
  }

  appendEvents(roundId: string, events: readonly NewEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return this.run("append events", () => this.#writes.run((runner) => appendEventsIn(runner, this.#statements, roundId, events)));
  }

  listEvents(roundId: string, options: { afterSeq?: number; limit?: number } = {}): Promise<EventRecord[]> {
    return this.run("list events", async () => {
      const rows = await this.db
        .selectFrom("round_events")
        .selectAll()
        .where("round_id", "=", roundId)
        .$if(options.afterSeq !== undefined, (q) => q.where("seq", ">", options.afterSeq!))
        .orderBy("seq")
        .$if(options.limit !== undefined, (q) => q.limit(options.limit!))
        .execute();
      return rows.map((row) => ({ seq: row.seq, name: row.name, at: row.at, payload: JSON.parse(row.payload_json) as unknown }));
    });
  }

  addReportAttempt(roundId: string, attempt: ReportAttemptRecord): Promise<void> {
    return this.run("add report attempt", async () => {
      await this.db
        .insertInto("report_attempts")
        .values({
          id: this.newId(),
          round_id: roundId,
          attempt: attempt.attempt,
          at: attempt.at,
          status_code: attempt.statusCode,
          error: attempt.error,
          duration_ms: Math.round(attempt.durationMs),
        })
        .execute();
    });
  }

  listReportAttempts(roundId: string): Promise<ReportAttemptRecord[]> {
    return this.run("list report attempts", async () => {
      const rows = await this.db
        .selectFrom("report_attempts")
        .selectAll()
        .where("round_id", "=", roundId)
        .orderBy("at")
        .orderBy("id")
        .execute();
      return rows.map((row) => ({
        attempt: row.attempt,
        at: row.at,
        statusCode: row.status_code,
        error: row.error,
        durationMs: row.duration_ms,
      }));
    });
  }

  counts(): Promise<{ tasks: number; rounds: number; jobs: number }> {
    return this.run("count rows", async () => {
      const row = await this.db
        .selectNoFrom((eb) => [
          eb.selectFrom("tasks").select(eb.fn.countAll().as("n")).as("tasks"),
          eb.selectFrom("rounds").select(eb.fn.countAll().as("n")).as("rounds"),
          eb.selectFrom("jobs").select(eb.fn.countAll().as("n")).as("jobs"),
        ])
        .executeTakeFirstOrThrow();
      return { tasks: Number(row.tasks), rounds: Number(row.rounds), jobs: Number(row.jobs) };
    });
  }

  ping(): Promise<void> {
    return this.run("ping", async () => {
      await sql`select 1`.execute(this.db);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.run("close", async () => {
      await this.#writes.close();
      await this.#beforeClose?.();
      await this.db.destroy();
    });
  }
}

/**
 * ulid's default generator asks `crypto.getRandomValues` for one byte per character, sixteen
 * calls per new millisecond; the same bytes drawn from a refilled pool cost a fraction of that.
 */
function pooledRandom(): () => number {
  const pool = new Uint8Array(4096);
  let next = pool.length;
  return () => {
    if (next === pool.length) {
      randomFillSync(pool);
      next = 0;
    }
    return pool[next++]! / 256;
  };
}

interface Cursor {
  readonly createdAt: number;
  readonly id: string;
}

function encodeCursor(createdAt: number, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString("base64url");
}

function decodeCursor(cursor: string): Cursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === "string") {
      return { createdAt: value[0] as number, id: value[1] };
    }
  } catch {
    // Reported below like any other malformed cursor.
  }
  throw new ValidationError([{ path: "cursor", message: "is not a cursor this API returned" }]);
}

function toTaskRecord(row: Selectable<TasksTable>, rounds: RoundRecord[]): TaskRecord {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    repoName: row.repo_name,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    rounds,
  };
}

function toRoundRecord(row: Selectable<RoundsTable>): RoundRecord {
  return {
    id: row.id,
    taskId: row.task_id,
    round: row.round,
    nonce: row.nonce,
    request: JSON.parse(row.request_json) as TaskRequest,
    status: row.status,
    createdAt: row.created_at,
    deadlineAt: row.deadline_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    error: row.error,
    result: row.result_json === null ? null : (JSON.parse(row.result_json) as RoundRecord["result"]),
    reportedAt: row.reported_at,
    repoName: row.repo_name,
    outcome: row.outcome === null ? null : { kind: row.outcome, reason: row.outcome_reason },
  };
}
