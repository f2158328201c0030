import type Database from "better-sqlite3";
import type { Kysely } from "kysely";
import { StoreError } from "../../domain/errors.ts";
import type { DatabaseSchema } from "./database-schema.ts";
import { sqliteStatementRunner, type StatementRunner, type WriteTransactions } from "./statement-runner.ts";

/**
 * Group commit for SQLite's write path. SQLite has one writer at a time and every transaction
 * costs a BEGIN, a COMMIT (a WAL append) and a wake-up of the async machinery around it; under
 * load most of an accept's time went there. So the write-path calls that arrive while the
 * event loop is busy — typically every request whose body was parsed in the same loop turn —
 * are written in ONE `BEGIN IMMEDIATE … COMMIT`:
 *
 * - A call that fails (a constraint, a NotFoundError) is rejected alone; the others are written:
 *   the batch is then written again with each call in its own SAVEPOINT (see runBatch).
 * - Nobody's promise resolves before COMMIT has returned, so an answer that says "accepted"
 *   always follows a committed transaction (durability as configured: WAL, synchronous=NORMAL).
 *   If SQLite abandons the whole transaction (e.g. SQLITE_FULL) or COMMIT fails, every call of
 *   the batch is rejected.
 * - The statements run synchronously (better-sqlite3), so the transaction is open for the
 *   batch's CPU time only, never across I/O. Work must use the runner it is given and nothing
 *   truly asynchronous.
 * - The connection is taken through Kysely's connection mutex, so the store's other queries and
 *   transactions on the same connection (claims, stage checkpoints) never interleave with a batch.
 * - `pause()` holds new batches back (asynchronously: requests keep being parsed and queued)
 *   once the running one has committed; the WAL checkpointer uses it to find the moment every
 *   frame is checkpointed, so SQLite can rewind the WAL, without ever holding the write lock
 *   that this connection would wait for synchronously (see sqlite-wal-checkpointer.ts).
 * - Another process's write lock is still waited for in SQLite's busy handler (busy_timeout),
 *   as everywhere else on this connection.
 */
export interface SqliteGroupCommit extends WriteTransactions {
  /** Resolves when no batch is running and none will start until the returned release is called. */
  pause(): Promise<() => void>;
}

export function createSqliteGroupCommit(database: Database.Database, db: Kysely<DatabaseSchema>): SqliteGroupCommit {
  interface Call {
    readonly work: (runner: StatementRunner) => Promise<unknown>;
    readonly resolve: (value: unknown) => void;
    readonly reject: (error: unknown) => void;
  }
  type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

  const runner = sqliteStatementRunner(database);
  const begin = database.prepare("begin immediate");
  const commit = database.prepare("commit");
  const rollback = database.prepare("rollback");
  const savepoint = database.prepare("savepoint briefwright_call");
  const releaseSavepoint = database.prepare("release briefwright_call");
  const rollbackToSavepoint = database.prepare("rollback to briefwright_call");

  let pending: Call[] = [];
  let scheduled = false;
  let running: Promise<void> | undefined;
  let closed = false;
  let pauses = 0;

  const schedule = () => {
    if (scheduled || running || pauses > 0) return;
    scheduled = true;
    // After the current loop turn's I/O callbacks, so every request parsed in it joins the batch.
    setImmediate(start);
  };

  const start = () => {
    scheduled = false;
    if (pauses > 0) return;
    const batch = pending;
    pending = [];
    running = commitBatch(batch).finally(() => {
      running = undefined;
      if (pending.length > 0) schedule();
    });
  };

  const commitBatch = async (batch: Call[]) => {
    let outcomes: Outcome[];
    try {
      outcomes = await db.connection().execute(() => runBatch(batch));
    } catch (error) {
      for (const call of batch) call.reject(error);
      return;
    }
    batch.forEach((call, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) call.resolve(outcome.value);
      else call.reject(outcome.error);
    });
  };

  // Calls rarely fail, and a savepoint per call costs about a tenth of an accept (it copies each
  // page before the call first changes it). So a batch is first written without savepoints; if a
  // call fails, that transaction is rolled back and the batch is written again with a savepoint
  // per call, so that only the failing call fails. (Work is re-run from scratch: it must only
  // write through the runner, which the rollback undid.)
  const runBatch = async (batch: Call[]): Promise<Outcome[]> =>
    (await writeBatch(batch, { isolateCalls: false })) ?? (await writeBatch(batch, { isolateCalls: true }))!;

  /** Undefined when a call failed without isolation (nothing was kept): write the batch again, isolated. */
  const writeBatch = async (batch: Call[], { isolateCalls }: { isolateCalls: boolean }): Promise<Outcome[] | undefined> => {
    begin.run();
    const outcomes: Outcome[] = [];
    try {
      for (const call of batch) {
        if (isolateCalls) savepoint.run();
        try {
          outcomes.push({ ok: true, value: await call.work(runner) });
          if (isolateCalls) releaseSavepoint.run();
        } catch (error) {
          // SQLite abandoned the whole transaction (SQLITE_FULL, SQLITE_IOERR …): nothing of
          // this batch is kept, so every call fails.
          if (!database.inTransaction) throw error;
          if (!isolateCalls) {
            rollback.run();
            // Alone in its batch, the call's own rollback is all there is to do.
            return batch.length === 1 ? [{ ok: false, error }] : undefined;
          }
          rollbackToSavepoint.run();
          releaseSavepoint.run();
          outcomes.push({ ok: false, error });
        }
      }
      commit.run();
    } catch (error) {
      if (database.inTransaction) rollback.run();
      throw error;
    }
    return outcomes;
  };

  return {
    run<T>(work: (runner: StatementRunner) => Promise<T>): Promise<T> {
      if (closed) return Promise.reject(new StoreError("the store is closed"));
      return new Promise<T>((resolve, reject) => {
        pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
        schedule();
      });
    },
    async pause() {
      pauses++;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        pauses--;
        if (pending.length > 0) schedule();
      };
      await running;
      return release;
    },
    async close() {
      closed = true;
      // Calls already queued are still written, after a pause if one is on (it is released by the
      // checkpointer, or by its time limit).
      while (running || scheduled || pending.length > 0) {
        await (running ?? new Promise((resolve) => setTimeout(resolve, 1)));
      }
    },
  };
}
