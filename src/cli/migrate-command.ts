import { createStore } from "../adapters/store/create-store.ts";
import { loadConfig } from "../config.ts";

/** `briefwright migrate`: applies pending migrations and exits (the service also does this at start). */
export async function runMigrateCommand(): Promise<void> {
  const config = loadConfig();
  const store = await createStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await store.migrate();
    process.stdout.write(`migrations applied (${store.dialect})\n`);
  } finally {
    await store.close();
  }
}
