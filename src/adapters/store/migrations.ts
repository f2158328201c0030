import { sql, type Kysely } from "kysely";
import type { DatabaseSchema } from "./database-schema.ts";
import type { DialectCapabilities } from "./dialect-capabilities.ts";

/**
 * One schema change, written once for both dialects; where they differ it asks the capability
 * object (never the dialect's name). Append new migrations; never edit one that has shipped.
 */
export interface Migration {
  /** Sortable and unique, e.g. `0001-initial`; recorded in `briefwright_migrations`. */
  readonly name: string;
  up(db: Kysely<unknown>, capabilities: DialectCapabilities): Promise<void>;
}

export const migrations: readonly Migration[] = [
  {
    name: "0001-initial",
    async up(db, capabilities) {
      const epochMs = capabilities.epochMsType;

      await db.schema
        .createTable("tasks")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull().unique())
        .addColumn("email", "text", (c) => c.notNull())
        .addColumn("repo_name", "text", (c) => c.notNull().unique())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("created_at", epochMs, (c) => c.notNull())
        .addColumn("updated_at", epochMs, (c) => c.notNull())
        .execute();
      // listTasks walks newest first, optionally within one status; the name filter uses the unique index.
      await db.schema.createIndex("tasks_created_at_id").on("tasks").columns(["created_at", "id"]).execute();
      await db.schema.createIndex("tasks_status_created_at_id").on("tasks").columns(["status", "created_at", "id"]).execute();

      await db.schema
        .createTable("rounds")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("task_id", "text", (c) => c.notNull().references("tasks.id").onDelete("cascade"))
        .addColumn("round", "integer", (c) => c.notNull())
        .addColumn("nonce", "text", (c) => c.notNull())
        .addColumn("request_json", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("deadline_at", epochMs, (c) => c.notNull())
        .addColumn("created_at", epochMs, (c) => c.notNull())
        .addColumn("started_at", epochMs)
        .addColumn("finished_at", epochMs)
        .addColumn("error", "text")
        .addColumn("result_json", "text")
        .addColumn("reported_at", epochMs)
        // The idempotency key of acceptRound; its index also serves "rounds of a task".
        .addUniqueConstraint("rounds_task_id_round_nonce", ["task_id", "round", "nonce"])
        .execute();

      await db.schema
        .createTable("stages")
        .addColumn("round_id", "text", (c) => c.notNull().references("rounds.id").onDelete("cascade"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("attempt", "integer", (c) => c.notNull())
        .addColumn("started_at", epochMs, (c) => c.notNull())
        .addColumn("finished_at", epochMs)
        .addColumn("output_json", "text", (c) => c.notNull())
        .addColumn("error", "text")
        .addColumn("position", "integer", (c) => c.notNull())
        .addPrimaryKeyConstraint("stages_pk", ["round_id", "name"])
        .execute();

      await db.schema
        .createTable("round_events")
        .addColumn("round_id", "text", (c) => c.notNull().references("rounds.id").onDelete("cascade"))
        .addColumn("seq", "integer", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("at", epochMs, (c) => c.notNull())
        .addColumn("payload_json", "text", (c) => c.notNull())
        // Also what makes two appenders that computed the same seq fail rather than interleave.
        .addPrimaryKeyConstraint("round_events_pk", ["round_id", "seq"])
        .execute();

      await db.schema
        .createTable("report_attempts")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("round_id", "text", (c) => c.notNull().references("rounds.id").onDelete("cascade"))
        .addColumn("attempt", "integer", (c) => c.notNull())
        .addColumn("at", epochMs, (c) => c.notNull())
        .addColumn("status_code", "integer")
        .addColumn("error", "text")
        .addColumn("duration_ms", "integer", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("report_attempts_round_id_at").on("report_attempts").columns(["round_id", "at"]).execute();

      await db.schema
        .createTable("jobs")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("job_key", "text", (c) => c.unique())
        .addColumn("payload_json", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("run_at", epochMs, (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("max_attempts", "integer", (c) => c.notNull().defaultTo(5))
        .addColumn("locked_by", "text")
        .addColumn("locked_until", epochMs)
        .addColumn("last_error", "text")
        .addColumn("created_at", epochMs, (c) => c.notNull())
        .addColumn("updated_at", epochMs, (c) => c.notNull())
        .execute();
      // Claiming looks for queued jobs by due time and running jobs by lease end; one index each.
      await db.schema.createIndex("jobs_status_run_at_id").on("jobs").columns(["status", "run_at", "id"]).execute();
      await db.schema.createIndex("jobs_status_locked_until").on("jobs").columns(["status", "locked_until"]).execute();
    },
  },
  {
    // A repeated round 1 builds in a fresh repository, so the repository becomes a round's, not
    // only a task's; and a round records what it shipped (docs/decisions/0014-never-silent.md).
    name: "0002-round-repositories-and-outcomes",
    async up(db, capabilities) {
      await db.schema
        .createTable("repositories")
        .addColumn("name", "text", (c) => c.primaryKey())
        .addColumn("task_id", "text", (c) => c.notNull())
        .addColumn("created_at", capabilities.epochMsType, (c) => c.notNull())
        .execute();
      await sql`insert into repositories (name, task_id, created_at) select repo_name, id, created_at from tasks`.execute(db);
      // One column per statement: SQLite's ALTER TABLE adds one at a time.
      await db.schema.alterTable("rounds").addColumn("repo_name", "text").execute();
      await db.schema.alterTable("rounds").addColumn("outcome", "text").execute();
      await db.schema.alterTable("rounds").addColumn("outcome_reason", "text").execute();
      await sql`update rounds set repo_name = (select t.repo_name from tasks t where t.id = rounds.task_id)`.execute(db);
    },
  },
];

/**
 * Applies the migrations not yet recorded, in order, in ONE transaction that first takes the
 * dialect's migration lock, so two processes starting together neither both apply a migration
 * nor see a half-made schema. Both dialects run DDL transactionally. Returns the names applied.
 */
export async function migrateToLatest(
  db: Kysely<DatabaseSchema>,
  capabilities: DialectCapabilities,
  list: readonly Migration[] = migrations,
): Promise<string[]> {
  return capabilities.transaction(db, async (trx) => {
    await capabilities.lockMigrations(trx);
    await trx.schema
      .createTable("briefwright_migrations")
      .ifNotExists()
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("applied_at", capabilities.epochMsType, (c) => c.notNull())
      .execute();
    const applied = new Set((await trx.selectFrom("briefwright_migrations").select("name").execute()).map((row) => row.name));
    const pending = [...list].sort((a, b) => a.name.localeCompare(b.name)).filter((m) => !applied.has(m.name));
    for (const migration of pending) {
      await migration.up(trx as unknown as Kysely<unknown>, capabilities);
      await trx.insertInto("briefwright_migrations").values({ name: migration.name, applied_at: Date.now() }).execute();
    }
    return pending.map((m) => m.name);
  });
}
