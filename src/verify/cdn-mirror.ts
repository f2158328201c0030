import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { contentTypeFor } from "../domain/content-type.ts";
import * as tar from "tar";
import { BriefwrightError, describeError } from "../domain/errors.ts";
import { compareVersions, isCdnUrl, isExactVersion, parseCdnUrl, type NpmFileRequest } from "./cdn-url.ts";
import { trimCdnCache } from "./trim-cdn-cache.ts";

/**
 * Answers requests for public CDN URLs (jsDelivr, unpkg, cdnjs and a few others) from the npm
 * packages those CDNs serve, fetched once with the npm client and kept on disk. Verification then
 * works where the CDNs are unreachable and costs no network on a warm cache.
 */
export interface CdnMirror {
  /** Whether `url` is on a host this mirror answers for (cheap, no I/O). */
  handles(url: string | URL): boolean;
  /**
   * Answers one CDN URL. Undefined when the URL is not on a mirrored host. Never rejects for
   * network or registry trouble: those come back as a response with an error status and a reason.
   */
  resolve(url: string | URL): Promise<MirrorResponse | undefined>;
  /** Counters, for tests and diagnostics. */
  stats(): MirrorStats;
}

/**
 * `served`: the file, status 200. `not-found`: the package, version or file does not exist (404).
 * `unsupported`: a CDN feature the mirror does not reproduce (`/+esm`, `/gh/`, directory
 * listings, unknown cdnjs libraries; 404). `unavailable`: the registry could not be asked (502).
 */
export type MirrorOutcome = "served" | "not-found" | "unsupported" | "unavailable";

export interface MirrorResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
  readonly outcome: MirrorOutcome;
  /** Why it was not served, in words; absent when served. */
  readonly reason?: string;
  /** The package file that answered, e.g. `bootstrap@5.3.3/dist/css/bootstrap.min.css`. */
  readonly source?: string;
}

export interface MirrorStats {
  /** `npm pack` runs (one per package version ever fetched by this mirror). */
  readonly packs: number;
  /** `npm view` runs (one per version range resolved). */
  readonly views: number;
  readonly served: number;
  readonly missed: number;
}

export interface CdnMirrorSettings {
  /** Where extracted packages live: `<cacheDir>/<package>@<version>/`. Created if missing. */
  readonly cacheDir: string;
  /** The npm client to run (no shell involved). Default `npm`. */
  readonly npmCommand?: string;
  /** Registry to ask instead of the npm client's configured one. */
  readonly registry?: string;
  /** Whether the registry may be asked at all; false serves only what is already cached. Default true. */
  readonly allowFetch?: boolean;
  /** How long a resolved version range stays fresh in memory (ms, default 10 min). */
  readonly rangeTtlMs?: number;
  /** How long a missing package or version is remembered (ms, default 60 s). */
  readonly notFoundTtlMs?: number;
  /** How long a registry failure is remembered (ms, default 15 s). */
  readonly unavailableTtlMs?: number;
  /** Time limit for one npm client run (ms, default 120 s). */
  readonly npmTimeoutMs?: number;
  /** Size the package folders are trimmed to after each new package, least recently used first (default 512 MiB). */
  readonly maxCacheBytes?: number;
}

/** The mirror could not produce a package (internal; surfaces as a MirrorResponse). */
export class CdnMirrorError extends BriefwrightError {
  readonly outcome: Exclude<MirrorOutcome, "served">;
  constructor(outcome: Exclude<MirrorOutcome, "served">, message: string, options: { cause?: unknown } = {}) {
    super(`cdn-mirror-${outcome}`, message, { ...options, isRetryable: outcome === "unavailable" });
    this.outcome = outcome;
  }
}

interface NpmRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const notFoundCodes = /\b(E404|ETARGET|EINVALIDPACKAGENAME|EINVALIDTAGNAME|ENOVERSIONS)\b/;

function textBody(reason: string): Buffer {
  return Buffer.from(`briefwright CDN mirror: ${reason}\n`, "utf8");
}

function miss(outcome: Exclude<MirrorOutcome, "served">, reason: string): MirrorResponse {
  return {
    status: outcome === "unavailable" ? 502 : 404,
    contentType: "text/plain; charset=utf-8",
    body: textBody(reason),
    outcome,
    reason,
  };
}

/** Creates a mirror over `settings.cacheDir`. Nothing is fetched until the first `resolve`. */
export function createCdnMirror(settings: CdnMirrorSettings): CdnMirror {
  const cacheDir = path.resolve(settings.cacheDir);
  const npmCommand = settings.npmCommand ?? "npm";
  const allowFetch = settings.allowFetch ?? true;
  const rangeTtlMs = settings.rangeTtlMs ?? 10 * 60_000;
  const notFoundTtlMs = settings.notFoundTtlMs ?? 60_000;
  const unavailableTtlMs = settings.unavailableTtlMs ?? 15_000;
  const npmTimeoutMs = settings.npmTimeoutMs ?? 120_000;
  const registryArgs = settings.registry ? [`--registry=${settings.registry}`] : [];

  const counters = { packs: 0, views: 0, served: 0, missed: 0 };
  const maxCacheBytes = settings.maxCacheBytes ?? 512 * 1024 * 1024;
  const resolvedRanges = new Map<string, { version: string; at: number }>();
  const rangeFlights = new Map<string, Promise<string>>();
  const packageDirs = new Map<string, string>();
  const packFlights = new Map<string, Promise<string>>();
  const failures = new Map<string, { until: number; error: CdnMirrorError }>();
  const manifests = new Map<string, Record<string, unknown>>();

  function runNpm(args: readonly string[], cwd: string): Promise<NpmRun> {
    return new Promise((resolve) => {
      execFile(
        npmCommand,
        [...args, ...registryArgs, "--loglevel=error", "--no-update-notifier", "--no-fund", "--no-audit"],
        { cwd, timeout: npmTimeoutMs, maxBuffer: 64 * 1024 * 1024, windowsHide: true },
        (error, stdout, stderr) => {
          if (error && typeof (error as NodeJS.ErrnoException).code === "string") {
            // Spawn failure (ENOENT: no npm client) rather than a non-zero exit.
            resolve({ code: -1, stdout: "", stderr: `${npmCommand}: ${error.message}` });
            return;
          }
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) + (error?.killed ? `\n${npmCommand} timed out after ${npmTimeoutMs} ms` : "") });
        },
      );
    });
  }

  function failureFrom(run: NpmRun, what: string): CdnMirrorError {
    const text = `${run.stdout}\n${run.stderr}`;
    let summary = "";
    try {
      const parsed = JSON.parse(run.stdout) as { error?: { summary?: unknown } };
      if (typeof parsed.error?.summary === "string") summary = parsed.error.summary;
    } catch {
      summary = (run.stderr.split("\n").find((line) => /error/i.test(line)) ?? run.stderr.split("\n")[0] ?? "").trim();
    }
    if (notFoundCodes.test(text)) return new CdnMirrorError("not-found", `${what} does not exist on the npm registry${summary ? ` (${summary})` : ""}`);
    return new CdnMirrorError("unavailable", `${what}: the npm registry could not be asked (${summary || `exit ${run.code}`})`);
  }

  function remembered(key: string): CdnMirrorError | undefined {
    const failure = failures.get(key);
    if (!failure) return undefined;
    if (failure.until > Date.now()) return failure.error;
    failures.delete(key);
    return undefined;
  }

  function remember(key: string, error: unknown): void {
    if (!(error instanceof CdnMirrorError)) return;
    const ttl = error.outcome === "not-found" ? notFoundTtlMs : unavailableTtlMs;
    failures.set(key, { until: Date.now() + ttl, error });
  }

  /** Shares one promise among concurrent callers with the same key, and remembers failures. */
  function shared<T>(flights: Map<string, Promise<T>>, key: string, work: () => Promise<T>): Promise<T> {
    const known = remembered(key);
    if (known) return Promise.reject(known);
    let flight = flights.get(key);
    if (!flight) {
      flight = work()
        .catch((error: unknown) => {
          remember(key, error);
          throw error;
        })
        .finally(() => flights.delete(key));
      flights.set(key, flight);
    }
    return flight;
  }

  function rangeFile(name: string, range: string): string {
    return path.join(cacheDir, ".versions", `${encodeURIComponent(`${name}@${range}`)}.json`);
  }

  async function readRangeFile(name: string, range: string): Promise<string | undefined> {
    try {
      const saved = JSON.parse(await readFile(rangeFile(name, range), "utf8")) as { version?: unknown };
      return typeof saved.version === "string" && isExactVersion(saved.version) ? saved.version : undefined;
    } catch {
      return undefined;
    }
  }

  async function resolveVersion(name: string, range: string): Promise<string> {
    if (isExactVersion(range)) return range;
    const key = `${name}@${range}`;
    const fresh = resolvedRanges.get(key);
    if (fresh && Date.now() - fresh.at < rangeTtlMs) return fresh.version;
    return shared(rangeFlights, `view:${key}`, async () => {
      if (!allowFetch) {
        const saved = fresh?.version ?? (await readRangeFile(name, range));
        if (saved) return saved;
        throw new CdnMirrorError("unavailable", `${key} is not cached and fetching is disabled`);
      }
      await mkdir(cacheDir, { recursive: true });
      counters.views++;
      const run = await runNpm(["view", key, "version", "--json"], cacheDir);
      if (run.code !== 0) {
        const failure = failureFrom(run, key);
        // Offline with a range resolved before: an older answer beats none.
        const saved = failure.outcome === "unavailable" ? (fresh?.version ?? (await readRangeFile(name, range))) : undefined;
        if (saved) return saved;
        throw failure;
      }
      let versions: string[] = [];
      const output = run.stdout.trim();
      if (output !== "") {
        try {
          const parsed = JSON.parse(output) as unknown;
          versions = (Array.isArray(parsed) ? parsed : [parsed]).filter((v): v is string => typeof v === "string" && isExactVersion(v));
        } catch (cause) {
          throw new CdnMirrorError("unavailable", `${key}: npm view printed something that is not JSON`, { cause });
        }
      }
      // npm lists every match, in no promised order; the CDNs serve the highest.
      const version = versions.sort(compareVersions).at(-1);
      if (!version) throw new CdnMirrorError("not-found", `no published version of ${name} matches ${JSON.stringify(range)}`);
      resolvedRanges.set(key, { version, at: Date.now() });
      await mkdir(path.dirname(rangeFile(name, range)), { recursive: true });
      await writeFile(rangeFile(name, range), JSON.stringify({ version, resolvedAt: new Date().toISOString() }));
      return version;
    });
  }

  async function isDirectory(candidate: string): Promise<boolean> {
    try {
      return (await stat(candidate)).isDirectory();
    } catch {
      return false;
    }
  }

  async function packageDir(name: string, version: string): Promise<string> {
    const key = `${name}@${version}`;
    const known = packageDirs.get(key);
    if (known) return known;
    const target = path.join(cacheDir, key);
    return shared(packFlights, `pack:${key}`, async () => {
      if (await isDirectory(target)) {
        packageDirs.set(key, target);
        return target;
      }
      if (!allowFetch) throw new CdnMirrorError("unavailable", `${key} is not cached and fetching is disabled`);
      const temporaryRoot = path.join(cacheDir, ".tmp");
      await mkdir(temporaryRoot, { recursive: true });
      const work = await mkdtemp(path.join(temporaryRoot, "pack-"));
      try {
        counters.packs++;
        const run = await runNpm(["pack", key, "--pack-destination", work, "--json", "--ignore-scripts"], work);
        if (run.code !== 0) throw failureFrom(run, key);
        const tarball = await findTarball(run.stdout, work);
        const extracted = path.join(work, "package");
        await mkdir(extracted);
        await tar.x({
          file: tarball,
          cwd: extracted,
          // npm tarballs hold one top folder (usually `package/`); its contents are the package root.
          strip: 1,
          // Regular files and folders only: a link could point outside the cache.
          filter: (_entryPath, entry) => {
            const type = "type" in entry ? entry.type : undefined;
            return type === "File" || type === "OldFile" || type === "ContiguousFile" || type === "Directory";
          },
          preservePaths: false,
        });
        await mkdir(path.dirname(target), { recursive: true });
        try {
          // Rename is atomic, so a folder at `target` is always complete, even across processes.
          await rename(extracted, target);
        } catch (error) {
          if (!(await isDirectory(target))) throw error;
        }
        packageDirs.set(key, target);
        const evicted = await trimCdnCache(cacheDir, maxCacheBytes, [target]);
        for (const [otherKey, dir] of packageDirs) if (evicted.includes(dir)) packageDirs.delete(otherKey);
        return target;
      } catch (error) {
        if (error instanceof CdnMirrorError) throw error;
        throw new CdnMirrorError("unavailable", `${key}: could not fetch or unpack (${describeError(error)})`, { cause: error });
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });
  }

  async function findTarball(stdout: string, work: string): Promise<string> {
    try {
      const parsed = JSON.parse(stdout) as Array<{ filename?: unknown }>;
      const filename = parsed[0]?.filename;
      if (typeof filename === "string" && filename.endsWith(".tgz") && !filename.includes("/")) return path.join(work, filename);
    } catch {
      // Some npm versions print notices before the JSON; fall through to looking at the folder.
    }
    const tarball = (await readdir(work)).find((entry) => entry.endsWith(".tgz"));
    if (!tarball) throw new CdnMirrorError("unavailable", "npm pack produced no tarball");
    return path.join(work, tarball);
  }

  async function manifest(dir: string): Promise<Record<string, unknown>> {
    const known = manifests.get(dir);
    if (known) return known;
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8")) as Record<string, unknown>;
    } catch {
      // A package without a readable package.json just has no default entry.
    }
    manifests.set(dir, parsed);
    return parsed;
  }

  /** The file a CDN serves for a bare package URL, by that CDN's order of fields. */
  async function defaultEntry(dir: string, cdn: NpmFileRequest["cdn"]): Promise<string[]> {
    const fields = cdn === "unpkg" ? ["unpkg", "umd:main", "browser", "main"] : ["jsdelivr", "cdn", "browser", "main"];
    const data = await manifest(dir);
    const entry = fields.map((field) => data[field]).find((value): value is string => typeof value === "string" && value.trim() !== "") ?? "index.js";
    const clean = entry.replace(/^\.\//, "");
    return [clean, `${clean}.js`, `${clean}/index.js`];
  }

  /** Resolves a request path inside `dir`, or undefined if it would leave it. */
  function inside(dir: string, relative: string): string | undefined {
    if (relative.includes("\0") || relative.includes("\\")) return undefined;
    if (relative.split("/").some((segment) => segment === "..")) return undefined;
    const full = path.resolve(dir, relative);
    return full.startsWith(dir + path.sep) ? full : undefined;
  }

  async function readPackageFile(dir: string, relative: string): Promise<Buffer | undefined> {
    const full = inside(dir, relative);
    if (!full) return undefined;
    try {
      const info = await stat(full);
      if (!info.isFile()) return undefined;
      return await readFile(full);
    } catch {
      return undefined;
    }
  }

  async function serve(request: NpmFileRequest): Promise<MirrorResponse> {
    const version = await resolveVersion(request.name, request.range);
    const dir = await packageDir(request.name, version);
    // The folder's mtime is its last use, for trimCdnCache's least-recently-used order.
    const now = new Date();
    await utimes(dir, now, now).catch(() => undefined);
    const wanted = request.paths.every((p) => p === "") ? await defaultEntry(dir, request.cdn) : request.paths.filter((p) => p !== "");
    // jsDelivr minifies on the fly (`x.min.js` for a package that only ships `x.js`); serving
    // the unminified file behaves the same in the page.
    const candidates = [...wanted, ...wanted.filter((p) => /\.min\.(js|css|mjs)$/.test(p)).map((p) => p.replace(/\.min\.(js|css|mjs)$/, ".$1"))];
    for (const candidate of candidates) {
      const body = await readPackageFile(dir, candidate);
      if (body) {
        return {
          status: 200,
          contentType: contentTypeFor(candidate),
          body,
          outcome: "served",
          source: `${request.name}@${version}/${candidate}`,
        };
      }
    }
    return miss("not-found", `${request.name}@${version} has no file ${wanted[0] ?? ""}${request.range !== version ? ` (${request.range} resolved to ${version})` : ""}`);
  }

  return {
    handles(url) {
      return isCdnUrl(url);
    },

    async resolve(url) {
      const parsed = parseCdnUrl(url);
      if (!parsed) return undefined;
      let response: MirrorResponse;
      if (parsed.kind === "unsupported") {
        response = miss("unsupported", parsed.reason);
      } else {
        try {
          response = await serve(parsed.request);
        } catch (error) {
          response = error instanceof CdnMirrorError ? miss(error.outcome, error.message) : miss("unavailable", describeError(error));
        }
      }
      if (response.outcome === "served") counters.served++;
      else counters.missed++;
      return response;
    },

    stats() {
      return { ...counters };
    },
  };
}
