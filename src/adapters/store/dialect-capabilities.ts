import { sql, type Kysely } from "kysely";
import type { DatabaseSchema } from "./database-schema.ts";

/**
 * What differs between the SQL dialects the store runs on, in one object per dialect, so the
 * store, the migrations and the embedded queue ask about a capability instead of testing the
 * dialect's name (the way Kysely's `DialectAdapter` does it).
 */
export interface DialectCapabilities {
  readonly name: "sqlite" | "postgres";
  /** Column type for epoch-millisecond times: SQLite's INTEGER is 64-bit already, PostgreSQL's is not. */
  readonly epochMsType: "integer" | "bigint";
  /**
   * Whether `SELECT … FOR UPDATE [SKIP LOCKED]` exists. Without it (SQLite) the write transaction
   * itself is the lock: only one writer runs at a time.
   */
  readonly rowLocks: boolean;
  /**
   * Runs `work` in one transaction and commits, or rolls back and rethrows. On SQLite the
   * transaction takes the write lock at BEGIN (IMMEDIATE): a deferred one that reads and then
   * writes can fail at once with SQLITE_BUSY when another connection wrote in between, where an
   * immediate one waits out `busy_timeout`. `work` must use the handle it is given, never the
   * outer one: SQLite has a single connection and the outer handle would wait for it forever.
   */
  transaction<T>(db: Kysely<DatabaseSchema>, work: (trx: Kysely<DatabaseSchema>) => Promise<T>): Promise<T>;
  /** Serialises migration runs of several processes on one database; the first call in the migration transaction. */
  lockMigrations(trx: Kysely<DatabaseSchema>): Promise<void>;
  /** Whether a driver error is transient (lock contention, a dropped connection), so retrying may succeed. */
  isRetryable(error: unknown): boolean;
}

export const sqliteCapabilities: DialectCapabilities = Object.freeze({
  name: "sqlite",
  epochMsType: "integer",
  rowLocks: false,
  async transaction<T>(db: Kysely<DatabaseSchema>, work: (trx: Kysely<DatabaseSchema>) => Promise<T>): Promise<T> {
    // Kysely's own transaction() issues a plain (deferred) BEGIN; the connection builder hands
    // us the single connection exclusively, so we can say BEGIN IMMEDIATE ourselves.
    return db.connection().execute(async (connection) => {
      await sql`begin immediate`.execute(connection);
      try {
        const result = await work(connection);
        await sql`commit`.execute(connection);
        return result;
      } catch (error) {
        // SQLite already rolled back after some errors (e.g. SQLITE_FULL); a second rollback then
        // fails with "no transaction is active", which must not hide the real error.
        await sql`rollback`.execute(connection).catch(() => undefined);
        throw error;
      }
    });
  },
  async lockMigrations(): Promise<void> {
    // BEGIN IMMEDIATE already holds the database's only write lock.
  },
  isRetryable(error: unknown): boolean {
    const code = errorCode(error);
    return code !== undefined && /^SQLITE_(BUSY|LOCKED)/.test(code);
  },
});

/** SQLSTATE classes worth retrying: serialization failure, deadlock, lock timeout, connection loss, shutdown. */
const retryablePostgresStates = new Set(["40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300"]);
const retryableNetworkCodes = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN"]);

export const postgresCapabilities: DialectCapabilities = Object.freeze({
  name: "postgres",
  epochMsType: "bigint",
  rowLocks: true,
  transaction<T>(db: Kysely<DatabaseSchema>, work: (trx: Kysely<DatabaseSchema>) => Promise<T>): Promise<T> {
    return db.transaction().execute(work);
  },
  async lockMigrations(trx: Kysely<DatabaseSchema>): Promise<void> {
    // Keyed by schema so parallel test runs, each in its own schema, do not queue behind each other.
    await sql`select pg_advisory_xact_lock(${migrationLockNamespace}, hashtext(current_schema()))`.execute(trx);
  },
  isRetryable(error: unknown): boolean {
    const code = errorCode(error);
    if (code === undefined) return /Connection terminated|timeout exceeded when trying to connect/i.test(String(error));
    return retryablePostgresStates.has(code) || code.startsWith("08") || retryableNetworkCodes.has(code);
  },
});

/** First half of the advisory lock key, so briefwright's lock cannot collide with another app's. */
const migrationLockNamespace = 0x62726966; // "brif"

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === "string" ? code : undefined;
}
