import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { trimCdnCache } from "./trim-cdn-cache.ts";

let cacheDir: string;
beforeEach(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), "briefwright-cdn-trim-"));
});
afterEach(() => rm(cacheDir, { recursive: true, force: true }));

/** A package folder of `bytes` bytes, last used `usedAt` seconds after the epoch. */
async function pkg(name: string, bytes: number, usedAt: number): Promise<string> {
  const dir = path.join(cacheDir, name);
  await mkdir(path.join(dir, "dist"), { recursive: true });
  await writeFile(path.join(dir, "dist", "x.js"), Buffer.alloc(bytes));
  await utimes(dir, usedAt, usedAt);
  return dir;
}

const listed = async () => {
  const top = (await readdir(cacheDir)).filter((n) => !n.startsWith("@") && !n.startsWith("."));
  const scoped = (await readdir(path.join(cacheDir, "@scope")).catch(() => [])).map((n) => `@scope/${n}`);
  return [...top, ...scoped].sort();
};

describe("trimCdnCache", () => {
  it("removes least recently used packages until the cache fits, keeping the new one and the bookkeeping", async () => {
    await pkg("old@1.0.0", 400, 1000);
    await pkg("@scope/mid@2.0.0", 400, 2000);
    await pkg("recent@3.0.0", 400, 3000);
    const fresh = await pkg("fresh@4.0.0", 400, 500);
    await mkdir(path.join(cacheDir, ".versions"));
    await writeFile(path.join(cacheDir, ".versions", "a.json"), Buffer.alloc(5000));

    const removed = await trimCdnCache(cacheDir, 900, [fresh]);
    expect(removed.map((dir) => path.relative(cacheDir, dir))).toEqual(["old@1.0.0", "@scope/mid@2.0.0"]);
    expect(await listed()).toEqual(["fresh@4.0.0", "recent@3.0.0"]);
    expect(await readdir(path.join(cacheDir, ".versions"))).toEqual(["a.json"]);
  });

  it("leaves a cache under its cap alone", async () => {
    await pkg("a@1.0.0", 100, 1000);
    await pkg("b@1.0.0", 100, 2000);
    expect(await trimCdnCache(cacheDir, 1000)).toEqual([]);
    expect(await listed()).toEqual(["a@1.0.0", "b@1.0.0"]);
  });
});
