import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { createStore } from "../../src/adapters/store/create-store.ts";
import type { KyselyStore } from "../../src/adapters/store/kysely-store.ts";

/**
 * The databases every store-backed suite runs against, like Kysely's DIALECTS loop:
 *
 *   describe.each(storeDialects)("… on $name", (dialect) => { … })
 *
 * Each `databaseUrl()` call makes a fresh, empty database and says how to reach it: SQLite in a
 * new temporary data directory (url undefined, the default path `npm start` uses), PostgreSQL in
 * a new schema selected by the URL itself (`?options=-c search_path=…`), so the same URL works as
 * DATABASE_URL for a child process. `cleanup()` removes it; close stores first.
 *
 * Environment (read here, in test support, and nowhere in src/):
 * - STORE_DIALECTS: `sqlite`, `postgres` or `sqlite,postgres` (the default).
 * - TEST_POSTGRES_URL: server and database to make schemas in
 *   (default postgres://postgres@127.0.0.1:5432/test). Unreachable means the postgres suites fail,
 *   not skip: narrow with STORE_DIALECTS=sqlite instead.
 */
export type StoreDialectName = "sqlite" | "postgres";

export interface TestDatabase {
  /** DATABASE_URL for this database; undefined means "SQLite in dataDir". */
  readonly url: string | undefined;
  /** A fresh temporary directory, usable as DATA_DIR (for both dialects). */
  readonly dataDir: string;
  /** Drops the schema (PostgreSQL) and removes dataDir. Idempotent. */
  cleanup(): Promise<void>;
}

export interface StoreDialectFixture {
  readonly name: StoreDialectName;
  /** A fresh empty database. */
  databaseUrl(): Promise<TestDatabase>;
  /** A fresh database with a migrated store open on it; `cleanup` closes the store, then drops the database. */
  openStore(): Promise<{ store: KyselyStore; database: TestDatabase; cleanup(): Promise<void> }>;
}

const defaultPostgresUrl = "postgres://postgres@127.0.0.1:5432/test";

export const postgresServerUrl: string = process.env.TEST_POSTGRES_URL || defaultPostgresUrl;

const sqlite: StoreDialectFixture = {
  name: "sqlite",
  async databaseUrl() {
    const dataDir = await mkdtemp(join(tmpdir(), "briefwright-sqlite-"));
    return { url: undefined, dataDir, cleanup: once(() => rm(dataDir, { recursive: true, force: true })) };
  },
  openStore: () => openStoreOn(sqlite),
};

const postgres: StoreDialectFixture = {
  name: "postgres",
  async databaseUrl() {
    const schema = `bw_test_${process.pid}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
    await withAdminClient((client) => client.query(`create schema "${schema}"`));
    const dataDir = await mkdtemp(join(tmpdir(), "briefwright-pg-"));
    return {
      url: withSearchPath(postgresServerUrl, schema),
      dataDir,
      cleanup: once(async () => {
        await withAdminClient((client) => client.query(`drop schema if exists "${schema}" cascade`));
        await rm(dataDir, { recursive: true, force: true });
      }),
    };
  },
  openStore: () => openStoreOn(postgres),
};

/** The fixtures STORE_DIALECTS selects, in a stable order. */
export const storeDialects: readonly StoreDialectFixture[] = selectDialects(process.env.STORE_DIALECTS);

function selectDialects(selection: string | undefined): StoreDialectFixture[] {
  const all = [sqlite, postgres];
  if (!selection || selection.trim() === "") return all;
  const names = selection.split(",").map((name) => name.trim().toLowerCase()).filter(Boolean);
  const unknown = names.filter((name) => !all.some((d) => d.name === name));
  if (unknown.length > 0) throw new Error(`STORE_DIALECTS: unknown dialect(s) ${unknown.join(", ")}; use sqlite, postgres or both`);
  return all.filter((d) => names.includes(d.name));
}

async function openStoreOn(fixture: StoreDialectFixture) {
  const database = await fixture.databaseUrl();
  let store: KyselyStore;
  try {
    store = await createStore({ databaseUrl: database.url, dataDir: database.dataDir });
    await store.migrate();
  } catch (error) {
    await database.cleanup();
    throw error;
  }
  return {
    store,
    database,
    cleanup: once(async () => {
      await store.close();
      await database.cleanup();
    }),
  };
}

/**
 * Adds `options=-c search_path=<schema>` to a PostgreSQL URL: node-postgres (and libpq) send it in
 * the startup packet, so every pooled connection lands in the schema without a per-connection hook.
 */
export function withSearchPath(serverUrl: string, schema: string): string {
  const url = new URL(serverUrl);
  url.searchParams.set("options", `-c search_path=${schema}`);
  // URLSearchParams writes spaces as '+', which libpq would not decode; %20 both understand.
  return url.toString().replace(/options=[^&]*/, (param) => param.replace(/\+/g, "%20"));
}

async function withAdminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresServerUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function once(action: () => Promise<unknown>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= action().then(() => undefined));
}
