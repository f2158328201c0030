import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase } from "kysely";
import pg from "pg";
import { ConfigError, StoreError, describeError } from "../../domain/errors.ts";
import type { DatabaseSchema } from "./database-schema.ts";
import { postgresCapabilities, sqliteCapabilities } from "./dialect-capabilities.ts";
import { KyselyStore } from "./kysely-store.ts";
import { createSqliteGroupCommit, type SqliteGroupCommit } from "./sqlite-group-commit.ts";
import { startWalCheckpointer, type WalCheckpointer } from "./sqlite-wal-checkpointer.ts";

export interface StoreSettings {
  /** Undefined → SQLite in `dataDir`; `sqlite:<path>` (or `sqlite::memory:`, `file:<path>`); `postgres://…`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
}

/** Where a database URL points, before anything is opened. */
export type DatabaseTarget = { readonly kind: "sqlite"; readonly path: string } | { readonly kind: "postgres"; readonly url: string };

/** The SQLite file used when no DATABASE_URL is set. */
export const defaultSqliteFileName = "briefwright.sqlite";

/** Statements kept prepared per SQLite connection; Kysely asks for a fresh one on every query. */
const statementCacheSize = 256;
/** How long a SQLite writer waits for another process's write lock before failing with SQLITE_BUSY. */
const sqliteBusyTimeoutMs = 5000;
/** SQLite's own automatic checkpoint threshold (pages), restored if the checkpoint worker dies. */
const sqliteDefaultAutoCheckpointPages = 1000;
/**
 * While the worker checkpoints, the inline automatic checkpoint stays as a backstop far above
 * the worker's rewind threshold, so it only fires if the worker stalls.
 */
const sqliteBackstopAutoCheckpointPages = 65_536;
const checkpointIntervalMs = 100;
/**
 * 16384 frames of 4 KiB: the WAL is rewound at about 64 MiB. Each rewind holds writes back for
 * one checkpoint pass (its fsyncs: 1–10 ms here, more under I/O load); at 16 MiB that happened
 * every half second at 500 accepts/s (a single accept is ~19 frames), often enough to show in
 * the p99; at 64 MiB every two seconds.
 */
const checkpointRewindAfterFrames = 16_384;
/** A checkpoint pass that takes longer than this while writes are held back no longer holds them. */
const checkpointQuiesceLimitMs = 250;
/** PostgreSQL type OID of BIGINT (int8), the type of our epoch-ms columns and of count(*). */
const int8Oid = 20;

/**
 * Opens the store a database URL names and checks it answers. Does not migrate: call
 * `migrate()` (the composition root does, on every start). The result also exposes `db`, for
 * the embedded job queue.
 */
export async function createStore(settings: StoreSettings): Promise<KyselyStore> {
  const target = parseDatabaseUrl(settings);
  const store = target.kind === "postgres" ? openPostgres(target.url) : openSqlite(target.path);
  try {
    await store.ping();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return store;
}

/** Reads a DATABASE_URL; a value that names no supported database is a ConfigError naming the variable. */
export function parseDatabaseUrl(settings: StoreSettings): DatabaseTarget {
  const url = settings.databaseUrl;
  if (url === undefined) return { kind: "sqlite", path: join(settings.dataDir, defaultSqliteFileName) };
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: "postgres", url };
  if (url.startsWith("file://")) return { kind: "sqlite", path: fileURLToPath(url) };
  const sqlitePath = /^(sqlite|file):(.*)$/s.exec(url)?.[2];
  if (sqlitePath === undefined) throw new ConfigError("DATABASE_URL", "must be postgres://… or sqlite:<path>");
  // `sqlite:///abs/path` and `sqlite://rel/path` are common spellings of `sqlite:<path>`.
  const path = sqlitePath.startsWith("//") ? sqlitePath.slice(2) : sqlitePath;
  if (path === "") throw new ConfigError("DATABASE_URL", "sqlite: needs a file path or :memory:");
  return { kind: "sqlite", path: path === ":memory:" ? path : resolve(path) };
}

function openSqlite(path: string): KyselyStore {
  let database: Database.Database;
  try {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    database = new Database(path);
    // Wait for other processes' locks first, switching to WAL included. WAL lets readers run
    // beside the writer; NORMAL skips the fsync per commit (a power cut may lose the last commits
    // but never corrupts); foreign keys are off by default in SQLite.
    database.pragma(`busy_timeout = ${sqliteBusyTimeoutMs}`);
    database.pragma("journal_mode = WAL");
    database.pragma("synchronous = NORMAL");
    database.pragma("foreign_keys = ON");
    // Each group-committed call runs in a savepoint, whose undo journal would otherwise be a
    // temporary FILE: a write syscall per page touched (measured: 76 vs 53 µs per accept).
    database.pragma("temp_store = MEMORY");
  } catch (error) {
    throw new StoreError(`open SQLite database ${path}: ${describeError(error)}`, { cause: error });
  }
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  const writes = createSqliteGroupCommit(database, db);
  const checkpointer = path === ":memory:" ? undefined : moveCheckpointsOffTheEventLoop(database, path, writes);
  return new KyselyStore(db, sqliteCapabilities, { beforeClose: checkpointer && (() => checkpointer.stop()), writes });
}

/** See sqlite-wal-checkpointer.ts for why. */
function moveCheckpointsOffTheEventLoop(database: Database.Database, path: string, writes: SqliteGroupCommit): WalCheckpointer {
  database.pragma(`wal_autocheckpoint = ${sqliteBackstopAutoCheckpointPages}`);
  return startWalCheckpointer(path, {
    intervalMs: checkpointIntervalMs,
    rewindAfterFrames: checkpointRewindAfterFrames,
    quiesce: () => writes.pause(),
    quiesceLimitMs: checkpointQuiesceLimitMs,
    onFailure: () => {
      // Slower commits now and then beat a WAL that grows without bound.
      if (database.open) database.pragma(`wal_autocheckpoint = ${sqliteDefaultAutoCheckpointPages}`);
    },
  });
}

/**
 * Keeps prepared statements for reuse. Kysely's SQLite driver prepares every query afresh, and
 * preparing costs about as much as running one of our small statements; the accept path runs
 * the same handful of SQL texts over and over. Safe because the driver serialises all use of
 * the single connection and never streams (a statement mid-iteration cannot be reused).
 */
function withStatementCache(database: Database.Database): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => database.close(),
    prepare(sqlText: string) {
      const cached = cache.get(sqlText);
      if (cached) {
        // Re-inserting moves it to the back of the Map, which makes the eviction below LRU.
        cache.delete(sqlText);
        cache.set(sqlText, cached);
        return cached;
      }
      const statement = database.prepare(sqlText);
      cache.set(sqlText, statement);
      if (cache.size > statementCacheSize) cache.delete(cache.keys().next().value!);
      return statement;
    },
  };
}

function openPostgres(url: string): KyselyStore {
  const pool = new pg.Pool({
    connectionString: url,
    // Epoch-ms columns are BIGINT, which pg returns as strings by default (it may exceed 2^53);
    // ours never do. Set on this pool only, so other pg users in the process keep the default.
    types: { getTypeParser: parseInt8AsNumber as typeof pg.types.getTypeParser },
  });
  // An idle client losing its connection emits 'error' on the pool; unhandled, that would crash
  // the process. The next query on that connection fails and is reported as a StoreError.
  pool.on("error", () => undefined);
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
  return new KyselyStore(db, postgresCapabilities);
}

function parseInt8AsNumber(oid: number, format?: "text" | "binary"): unknown {
  if (oid === int8Oid && format !== "binary") return (value: string) => Number(value);
  return pg.types.getTypeParser(oid, format as "text");
}
