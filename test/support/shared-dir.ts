import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * The course's shared contract and fixtures: `../shared` beside the repository, where the
 * project's guide puts them (CI lays a copy there too); `/work/shared` when the checkout lives
 * elsewhere on a development machine. One place, so no test hard-codes either.
 */
export const sharedDir = [resolve(import.meta.dirname, "../../../shared"), "/work/shared"].find((dir) => existsSync(join(dir, "fixtures"))) ??
  resolve(import.meta.dirname, "../../../shared");
export const sharedFixtures = join(sharedDir, "fixtures");
