import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";

/** Bytes of regular files under `dir` (links are never extracted into the cache). */
async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(full);
    else if (entry.isFile()) total += (await stat(full).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/** `<cacheDir>/<name>@<version>` and `<cacheDir>/@scope/<name>@<version>` folders, with size and last use. */
async function packageFolders(cacheDir: string): Promise<{ dir: string; bytes: number; usedAt: number }[]> {
  const folders: string[] = [];
  for (const entry of await readdir(cacheDir, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
    if (entry.name.startsWith("@")) {
      const scope = path.join(cacheDir, entry.name);
      for (const inner of await readdir(scope, { withFileTypes: true }).catch(() => [])) if (inner.isDirectory()) folders.push(path.join(scope, inner.name));
    } else {
      folders.push(path.join(cacheDir, entry.name));
    }
  }
  return Promise.all(
    folders.map(async (dir) => ({ dir, bytes: await directoryBytes(dir), usedAt: (await stat(dir).catch(() => ({ mtimeMs: 0 }))).mtimeMs })),
  );
}

/**
 * Deletes the least recently used package folders (by folder mtime, which the mirror touches on
 * each use) until the cache holds at most `maxBytes`; `keep` (the package just fetched) stays
 * even if it alone is larger. Returns the folders removed. Without a cap, every brief naming a
 * new library or version grew the cache until the disk filled.
 */
export async function trimCdnCache(cacheDir: string, maxBytes: number, keep: readonly string[] = []): Promise<string[]> {
  const folders = await packageFolders(cacheDir);
  let total = folders.reduce((sum, folder) => sum + folder.bytes, 0);
  const removed: string[] = [];
  const kept = new Set(keep.map((dir) => path.resolve(dir)));
  for (const folder of folders.sort((a, b) => a.usedAt - b.usedAt)) {
    if (total <= maxBytes) break;
    if (kept.has(path.resolve(folder.dir))) continue;
    await rm(folder.dir, { recursive: true, force: true });
    total -= folder.bytes;
    removed.push(folder.dir);
  }
  return removed;
}
