import type Database from "better-sqlite3";
import { StoreError } from "../../domain/errors.ts";
import type { Compilable, Kysely } from "kysely";
import type { DatabaseSchema } from "./database-schema.ts";
import type { DialectCapabilities } from "./dialect-capabilities.ts";
import type { PreparedQuery } from "./prepared-query.ts";

/**
 * Executes prepared queries inside one write transaction. The write path (`write-path.ts`) is
 * written once against this and `await`s every result; what differs is only how a statement
 * reaches the database:
 *
 * - SQLite (`sqliteStatementRunner`): better-sqlite3 prepared statements, run synchronously on the
 *   one connection — the value is returned directly, so a whole group commit runs in one turn of
 *   the event loop and the transaction is never held open across I/O.
 * - Any Kysely transaction (`kyselyStatementRunner`, PostgreSQL): through the transaction's
 *   connection, asynchronously.
 */
export interface StatementRunner {
  /** Rows of a query (SELECT, or a write with RETURNING). */
  all<P, R>(query: PreparedQuery<P, R>, values: P): R[] | Promise<R[]>;
  /** The first row of a query, or undefined. */
  first<P, R>(query: PreparedQuery<P, R>, values: P): R | undefined | Promise<R | undefined>;
  /** Runs a statement that returns no rows; the number of rows it inserted, updated or deleted. */
  run<P>(query: PreparedQuery<P, unknown>, values: P): number | Promise<number>;
  /**
   * Inserts rows as cheaply as the driver allows: `single` once per row where a statement costs
   * no round trip (SQLite), or `multiRow` over chunks of rows where it does (PostgreSQL).
   */
  insertRows<P>(
    single: PreparedQuery<P, unknown>,
    rows: readonly P[],
    multiRow: (db: Kysely<DatabaseSchema>, rows: readonly P[]) => Compilable<unknown>,
  ): void | Promise<void>;
}

/** Rows per multi-row INSERT: well under SQLite's 32766 and PostgreSQL's 65535 bound parameters. */
const insertChunkRows = 500;

/**
 * Prepared statements on a better-sqlite3 connection, kept per prepared query. Only for use while
 * the caller holds the connection exclusively (see `sqlite-group-commit.ts`).
 */
export function sqliteStatementRunner(database: Database.Database): StatementRunner {
  const statements = new Map<PreparedQuery<never, unknown>, Database.Statement>();
  const statement = (query: PreparedQuery<never, unknown>): Database.Statement => {
    let prepared = statements.get(query);
    if (!prepared) {
      prepared = database.prepare(query.sql);
      statements.set(query, prepared);
    }
    return prepared;
  };
  const runner: StatementRunner = {
    all: <P, R>(query: PreparedQuery<P, R>, values: P) =>
      statement(query as PreparedQuery<never, unknown>).all(query.bind(values)) as R[],
    first: <P, R>(query: PreparedQuery<P, R>, values: P) =>
      statement(query as PreparedQuery<never, unknown>).get(query.bind(values)) as R | undefined,
    run: <P>(query: PreparedQuery<P, unknown>, values: P) => statement(query as PreparedQuery<never, unknown>).run(query.bind(values)).changes,
    insertRows: <P>(single: PreparedQuery<P, unknown>, rows: readonly P[]) => {
      const prepared = statement(single as PreparedQuery<never, unknown>);
      for (const row of rows) prepared.run(single.bind(row));
    },
  };
  return runner;
}

/** Prepared queries through a Kysely handle (a transaction), one round trip each. */
export function kyselyStatementRunner(db: Kysely<DatabaseSchema>): StatementRunner {
  const execute = <P, R>(query: PreparedQuery<P, R>, values: P) =>
    db.executeQuery<R>({ ...query.compiled, parameters: query.bind(values) });
  return {
    all: async (query, values) => (await execute(query, values)).rows,
    first: async (query, values) => (await execute(query, values)).rows[0],
    run: async (query, values) => Number((await execute(query, values)).numAffectedRows ?? 0n),
    insertRows: async (single, rows, multiRow) => {
      if (rows.length === 1) return void (await execute(single, rows[0]!));
      for (let start = 0; start < rows.length; start += insertChunkRows) {
        await db.executeQuery(multiRow(db, rows.slice(start, start + insertChunkRows)));
      }
    },
  };
}

/**
 * Where the write path's transactions come from. `run` executes `work` in a write transaction
 * and commits before it resolves, or rolls `work`'s writes back and rejects with its error.
 */
export interface WriteTransactions {
  run<T>(work: (runner: StatementRunner) => Promise<T>): Promise<T>;
  /** Waits for accepted work to finish; later `run` calls are refused. */
  close(): Promise<void>;
}

/** One dialect transaction per call (PostgreSQL: concurrent callers use separate pooled connections). */
export function kyselyWriteTransactions(db: Kysely<DatabaseSchema>, capabilities: DialectCapabilities): WriteTransactions {
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;
  return {
    run<T>(work: (runner: StatementRunner) => Promise<T>): Promise<T> {
      if (closed) return Promise.reject(new StoreError("the store is closed"));
      const transaction = capabilities.transaction(db, (trx) => work(kyselyStatementRunner(trx)));
      const settled = transaction.catch(() => undefined).finally(() => inFlight.delete(settled));
      inFlight.add(settled);
      return transaction;
    },
    async close() {
      closed = true;
      await Promise.all(inFlight);
    },
  };
}
