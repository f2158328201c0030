import type { IncomingMessage, ServerResponse } from "node:http";
import { resolve } from "node:path";
import { contentTypeFor } from "../../domain/content-type.ts";
import {
  isBareRepository,
  isValidRepositoryName,
  readBranchTip,
  readObjects,
  readPagesSite,
  repositoryDirectory,
} from "./bare-repository.ts";
import { pagesPublishes } from "../../domain/repository-path.ts";

/**
 * The local forge's Pages host: `/pages/<name>/<path>` serves `<path>` from the tip of the branch
 * Pages was enabled for, straight out of the bare repository. There is no build or copy step, so
 * a commit is live the moment its ref moves — which is what `pagesServes` relies on.
 */
export interface PagesHandlerSettings {
  /** Directory holding `<name>.git` bare repositories (the local forge's `reposDir`). */
  readonly reposDir: string;
  /** Where the handler is mounted, for redirects. Default `/pages`. */
  readonly mountPath?: string;
  /** Upper bound on bytes of file content kept in memory. Default 32 MiB. */
  readonly cacheBytes?: number;
}

/**
 * Handles one request. `pathAfterPages` is the raw (still percent-encoded) path after the mount
 * prefix, e.g. `/<name>/`, `/<name>/app.js` or `/<name>` (query strings are ignored but kept on
 * redirects). Pass the raw path, not a router-decoded one, so encoded traversal is seen and refused.
 */
export type PagesHandler = (req: IncomingMessage, res: ServerResponse, pathAfterPages: string) => void;

type Resolved =
  | { readonly kind: "file"; readonly sha: string; readonly content: Buffer; readonly path: string }
  | { readonly kind: "directory" }
  | { readonly kind: "missing" };

/** Files bigger than this are served but not cached, so one large asset cannot evict a site. */
const LARGEST_CACHED_FILE = 4 * 1024 * 1024;
const MAX_CACHE_ENTRIES = 2000;

export function createPagesHandler(settings: PagesHandlerSettings): PagesHandler {
  const reposDir = resolve(settings.reposDir);
  const mountPath = (settings.mountPath ?? "/pages").replace(/\/+$/, "");
  // Keyed by (repository, commit, path): a commit's content never changes, so entries never go
  // stale — a new commit simply uses new keys and old ones age out.
  const cache = new LruCache<Resolved>(MAX_CACHE_ENTRIES, settings.cacheBytes ?? 32 * 1024 * 1024);

  /** Resolves several candidate paths with a single `git cat-file --batch`, through the cache. */
  async function resolvePaths(
    directory: string,
    name: string,
    tip: string,
    paths: readonly string[],
  ): Promise<Resolved[]> {
    const keyOf = (path: string) => `${name}\0${tip}\0${path}`;
    const found = new Map<string, Resolved>();
    for (const path of paths) {
      const cached = cache.get(keyOf(path));
      if (cached) found.set(path, cached);
    }
    const unknown = paths.filter((path) => !found.has(path));
    if (unknown.length > 0) {
      const objects = await readObjects(
        directory,
        unknown.map((path) => `${tip}:${path}`),
        reposDir,
      );
      for (const [index, path] of unknown.entries()) {
        const object = objects[index];
        const resolved: Resolved =
          object?.type === "blob"
            ? { kind: "file", sha: object.sha, content: object.content, path }
            : object?.type === "tree"
              ? { kind: "directory" }
              : { kind: "missing" };
        found.set(path, resolved);
        const size = resolved.kind === "file" ? resolved.content.length : 0;
        if (size <= LARGEST_CACHED_FILE) cache.set(keyOf(path), resolved, size + path.length + 100);
      }
    }
    return paths.map((path) => found.get(path) ?? { kind: "missing" });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, pathAfterPages: string): Promise<void> {
    const method = req.method ?? "GET";
    if (method !== "GET" && method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      return sendText(res, method, 405, "method not allowed");
    }
    const queryStart = pathAfterPages.indexOf("?");
    const rawPath = queryStart >= 0 ? pathAfterPages.slice(0, queryStart) : pathAfterPages;
    const query = queryStart >= 0 ? pathAfterPages.slice(queryStart) : "";

    const parsed = parsePagesPath(rawPath);
    if (parsed === "bad") return sendText(res, method, 400, "bad request");
    if (parsed === "missing") return notFound(res, method);
    const { name, filePath } = parsed;
    if (filePath === undefined) {
      res.setHeader("Location", `${mountPath}/${encodeURIComponent(name)}/${query}`);
      return sendText(res, method, 301, "moved permanently");
    }

    const directory = repositoryDirectory(reposDir, name);
    const site = (await isBareRepository(directory)) ? await readPagesSite(directory) : undefined;
    const tip = site ? await readBranchTip(directory, site.branch) : undefined;
    if (!site || !tip) return notFound(res, method);

    const isDirectoryRequest = filePath === "" || filePath.endsWith("/");
    // Like GitHub Pages: a directory serves its index.html and `/about` may mean `about.html`.
    const candidates = isDirectoryRequest
      ? [`${filePath}index.html`]
      : [filePath, `${filePath}/index.html`, `${filePath}.html`];
    // `.nojekyll` rides along in the same batch: it decides which paths Pages publishes at all.
    const resolved = await resolvePaths(directory, name, tip, [...candidates, ".nojekyll"]);
    const siteHasNojekyll = resolved.at(-1)?.kind === "file";
    // A file Pages would not publish (a dot-file, `_layouts/…` under Jekyll) is as good as missing.
    const [exact, directoryIndex, htmlSibling] = resolved
      .slice(0, -1)
      .map((entry): Resolved => (entry.kind === "file" && !pagesPublishes(entry.path, siteHasNojekyll) ? { kind: "missing" } : entry));

    if (!isDirectoryRequest && exact?.kind === "directory" && directoryIndex?.kind === "file") {
      res.setHeader("Location", `${mountPath}/${rawPath.replace(/^\/+/, "")}/${query}`);
      return sendText(res, method, 301, "moved permanently");
    }
    const file = [exact, isDirectoryRequest ? undefined : htmlSibling].find((entry) => entry?.kind === "file");
    if (file?.kind === "file") return sendFile(req, res, method, tip, file, 200);

    // A site's own 404.html, as GitHub Pages does, else a small one of ours.
    const [custom] = await resolvePaths(directory, name, tip, ["404.html"]);
    if (custom?.kind === "file") return sendFile(req, res, method, tip, custom, 404);
    return notFound(res, method);
  }

  return (req, res, pathAfterPages) => {
    handle(req, res, pathAfterPages).catch(() => {
      if (!res.headersSent) sendText(res, req.method ?? "GET", 500, "internal error");
      else res.destroy();
    });
  };
}

/**
 * Splits `/<name>/<path…>` into the repository name and the decoded file path; `filePath` is
 * undefined for a bare `/<name>` (which redirects) and ends in `/` (or is empty) for a directory.
 * Anything that could climb out of the tree — `.` or `..` segments (plain or percent-encoded),
 * encoded slashes, backslashes, NUL and other control characters — is `bad`.
 */
export function parsePagesPath(rawPath: string): { name: string; filePath: string | undefined } | "bad" | "missing" {
  if (!rawPath.startsWith("/")) return "missing";
  if (rawPath.includes("\\") || /%5c/i.test(rawPath)) return "bad";
  const decoded: string[] = [];
  for (const raw of rawPath.slice(1).split("/")) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return "bad";
    }
    if (segment === "." || segment === ".." || /[/\\\0-\x1f\x7f]/.test(segment)) return "bad";
    decoded.push(segment);
  }
  const [name = "", ...rest] = decoded;
  if (!isValidRepositoryName(name)) return "missing";
  if (rest.length === 0) return { name, filePath: undefined };
  // Empty segments inside the path (`a//b`) name nothing; only a trailing one (`dir/`) is allowed.
  if (rest.slice(0, -1).some((segment) => segment === "")) return "missing";
  return { name, filePath: rest.join("/") };
}

function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  tip: string,
  file: Extract<Resolved, { kind: "file" }>,
  status: number,
): void {
  const etag = `"${file.sha}"`;
  res.setHeader("ETag", etag);
  // Revalidate every time: the ETag makes that cheap, and a new commit shows up immediately.
  res.setHeader("Cache-Control", "no-cache");
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("X-Briefwright-Commit", tip);
  if (status === 200 && etagMatches(req.headers["if-none-match"], etag)) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.statusCode = status;
  res.setHeader("Content-Type", contentTypeFor(file.path));
  res.setHeader("Content-Length", file.content.length);
  res.end(method === "HEAD" ? undefined : file.content);
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((candidate) => candidate.trim().replace(/^W\//, "") === etag);
}

function notFound(res: ServerResponse, method: string): void {
  const body =
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>404 Not Found</title></head>' +
    "<body><h1>404</h1><p>There is no page here.</p></body></html>\n";
  res.statusCode = 404;
  res.setHeader("Content-Type", "text/html; charset=utf-8");
  res.setHeader("Cache-Control", "no-cache");
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.end(method === "HEAD" ? undefined : body);
}

function sendText(res: ServerResponse, method: string, status: number, message: string): void {
  const body = `${message}\n`;
  res.statusCode = status;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.setHeader("Cache-Control", "no-cache");
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.end(method === "HEAD" ? undefined : body);
}

/** A least-recently-used map bounded by entry count and by a caller-supplied weight (bytes). */
class LruCache<V> {
  private readonly entries = new Map<string, { value: V; weight: number }>();
  private totalWeight = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxWeight: number,
  ) {}

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Re-insert to mark as most recently used (Map keeps insertion order).
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, weight: number): void {
    const existing = this.entries.get(key);
    if (existing) {
      this.totalWeight -= existing.weight;
      this.entries.delete(key);
    }
    this.entries.set(key, { value, weight });
    this.totalWeight += weight;
    while (this.entries.size > this.maxEntries || this.totalWeight > this.maxWeight) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      const evicted = this.entries.get(oldest.value);
      this.entries.delete(oldest.value);
      this.totalWeight -= evicted?.weight ?? 0;
    }
  }
}
