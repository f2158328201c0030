import { createStore } from "../adapters/store/create-store.ts";
import { loadConfig } from "../config.ts";
import { parseCommandArgs } from "./parse-command-args.ts";

const USAGE = "usage: briefwright migrate\n  applies pending database migrations (DATABASE_URL, else SQLite in DATA_DIR) and exits";

/** `briefwright migrate`: applies pending migrations and exits (the service also does this at start). */
export async function runMigrateCommand(argv: string[] = []): Promise<void> {
  if (parseCommandArgs(argv, {}, USAGE).help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const config = loadConfig();
  const store = await createStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await store.migrate();
    process.stdout.write(`migrations applied (${store.dialect})\n`);
  } finally {
    await store.close();
  }
}
