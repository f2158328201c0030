import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { contentType as lookupContentType } from "mime-types";
import * as tar from "tar";
import { BriefwrightError, describeError } from "../domain/errors.ts";

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
}

/** A package request the mirror understood. */
export interface NpmFileRequest {
  readonly name: string;
  /** Exact version, range or dist-tag (`latest` when the URL named none). */
  readonly range: string;
  /** Paths to try in order, relative to the package root; `""` means the package's default entry. */
  readonly paths: readonly string[];
  /** Which CDN's rules pick the default entry. */
  readonly cdn: "jsdelivr" | "unpkg" | "cdnjs" | "other";
}

export type ParsedCdnUrl =
  | { readonly kind: "npm"; readonly request: NpmFileRequest }
  | { readonly kind: "unsupported"; readonly reason: string };

/** The mirror could not produce a package (internal; surfaces as a MirrorResponse). */
export class CdnMirrorError extends BriefwrightError {
  readonly outcome: Exclude<MirrorOutcome, "served">;
  constructor(outcome: Exclude<MirrorOutcome, "served">, message: string, options: { cause?: unknown } = {}) {
    super(`cdn-mirror-${outcome}`, message, { ...options, isRetryable: outcome === "unavailable" });
    this.outcome = outcome;
  }
}

const jsdelivrHosts = new Set(["cdn.jsdelivr.net", "fastly.jsdelivr.net", "gcore.jsdelivr.net", "testingcf.jsdelivr.net", "quantil.jsdelivr.net"]);
const unpkgHosts = new Set(["unpkg.com", "www.unpkg.com"]);
const cdnjsHosts = new Set(["cdnjs.cloudflare.com"]);
const bootstrapCdnHosts = new Set(["stackpath.bootstrapcdn.com", "maxcdn.bootstrapcdn.com", "netdna.bootstrapcdn.com"]);
const otherHosts = new Set(["code.jquery.com", "esm.sh", "cdn.skypack.dev"]);

/**
 * cdnjs names libraries its own way and lays files out differently from the npm package. Each
 * entry names the npm package and the folders a cdnjs path may sit in inside that package.
 * Unknown libraries are reported rather than guessed: a wrong guess would serve the wrong file.
 */
const cdnjsLibraries: Readonly<Record<string, { readonly package: string | ((version: string) => string); readonly prefixes: readonly string[] }>> = {
  "highlight.js": { package: "@highlightjs/cdn-assets", prefixes: [""] },
  marked: { package: "marked", prefixes: ["", "lib/"] },
  "twitter-bootstrap": { package: "bootstrap", prefixes: ["dist/", ""] },
  bootstrap: { package: "bootstrap", prefixes: ["dist/", ""] },
  "bootstrap-icons": { package: "bootstrap-icons", prefixes: ["font/", ""] },
  jquery: { package: "jquery", prefixes: ["dist/"] },
  "Chart.js": { package: "chart.js", prefixes: ["dist/", ""] },
  d3: { package: "d3", prefixes: ["dist/", ""] },
  "lodash.js": { package: "lodash", prefixes: [""] },
  axios: { package: "axios", prefixes: ["dist/", ""] },
  PapaParse: { package: "papaparse", prefixes: [""] },
  papaparse: { package: "papaparse", prefixes: [""] },
  dompurify: { package: "dompurify", prefixes: ["dist/"] },
  "moment.js": { package: "moment", prefixes: ["min/", ""] },
  dayjs: { package: "dayjs", prefixes: [""] },
  "font-awesome": { package: (version) => (majorOf(version) < 5 ? "font-awesome" : "@fortawesome/fontawesome-free"), prefixes: [""] },
  KaTeX: { package: "katex", prefixes: ["dist/"] },
  showdown: { package: "showdown", prefixes: ["dist/"] },
  "markdown-it": { package: "markdown-it", prefixes: ["dist/"] },
  leaflet: { package: "leaflet", prefixes: ["dist/"] },
  prism: { package: "prismjs", prefixes: [""] },
  "three.js": { package: "three", prefixes: ["build/", ""] },
  vue: { package: "vue", prefixes: ["dist/", ""] },
  react: { package: "react", prefixes: [""] },
  "react-dom": { package: "react-dom", prefixes: [""] },
  mathjax: { package: "mathjax", prefixes: [""] },
  mathjs: { package: "mathjs", prefixes: ["lib/browser/"] },
  "github-markdown-css": { package: "github-markdown-css", prefixes: [""] },
  normalize: { package: "normalize.css", prefixes: [""] },
  "animate.css": { package: "animate.css", prefixes: [""] },
  bulma: { package: "bulma", prefixes: [""] },
  mermaid: { package: "mermaid", prefixes: ["dist/", ""] },
  "pdf.js": { package: "pdfjs-dist", prefixes: ["build/", ""] },
  jszip: { package: "jszip", prefixes: ["dist/"] },
  "FileSaver.js": { package: "file-saver", prefixes: ["dist/"] },
  "crypto-js": { package: "crypto-js", prefixes: [""] },
  "plotly.js": { package: "plotly.js-dist-min", prefixes: [""] },
  echarts: { package: "echarts", prefixes: ["dist/"] },
  sweetalert2: { package: "sweetalert2", prefixes: ["dist/", ""] },
  "popper.js": { package: (version) => (majorOf(version) < 2 ? "popper.js" : "@popperjs/core"), prefixes: ["dist/", ""] },
  "Sortable": { package: "sortablejs", prefixes: [""] },
};

function majorOf(version: string): number {
  return Number.parseInt(version, 10) || 0;
}

// npm's rules, loosened for legacy mixed-case names; never a leading dot, dash or underscore.
const packageNamePattern = /^(?:@[a-z0-9~][a-z0-9._~-]*\/)?[a-zA-Z0-9~][a-zA-Z0-9._~-]*$/;
const rangePattern = /^[0-9A-Za-z.^~<>=|*+ x-]{1,64}$/;
const exactVersionPattern = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

function decodeSegments(pathname: string): string[] | undefined {
  try {
    return pathname.split("/").map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}

/** Splits `@scope/name@range/rest…` or `name@range/rest…` (already split on `/`). */
function splitPackageSpec(segments: readonly string[]): { name: string; range: string; rest: string[] } | undefined {
  const [first, second, ...others] = segments;
  if (first === undefined || first === "") return undefined;
  let nameAndRange: string;
  let scope = "";
  let rest: string[];
  if (first.startsWith("@")) {
    if (second === undefined || second === "") return undefined;
    scope = `${first}/`;
    nameAndRange = second;
    rest = others;
  } else {
    nameAndRange = first;
    rest = second === undefined ? [] : [second, ...others];
  }
  const at = nameAndRange.indexOf("@");
  const name = scope + (at === -1 ? nameAndRange : nameAndRange.slice(0, at));
  const range = at === -1 ? "latest" : nameAndRange.slice(at + 1) || "latest";
  return { name, range, rest };
}

function npmRequest(name: string, range: string, rest: readonly string[], cdn: NpmFileRequest["cdn"]): ParsedCdnUrl {
  if (!packageNamePattern.test(name) || name.length > 214) return { kind: "unsupported", reason: `${JSON.stringify(name)} is not an npm package name` };
  if (!rangePattern.test(range)) return { kind: "unsupported", reason: `${JSON.stringify(range)} is not a version, range or tag` };
  if (rest.at(-1) === "+esm") return { kind: "unsupported", reason: `${name}@${range}: jsDelivr's /+esm bundles are built on the fly and not mirrored; load a file from the package instead` };
  const filePath = rest.join("/");
  if (filePath.endsWith("/")) return { kind: "unsupported", reason: `${name}@${range}/${filePath}: directory listings are not mirrored` };
  return { kind: "npm", request: { name, range, paths: [filePath], cdn } };
}

/** Works out which package file a CDN URL stands for, or undefined when the host is not a mirrored CDN. */
export function parseCdnUrl(input: string | URL): ParsedCdnUrl | undefined {
  let url: URL;
  try {
    url = typeof input === "string" ? new URL(input) : input;
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  const host = url.hostname.toLowerCase();
  const segments = decodeSegments(url.pathname);
  if (!segments) return { kind: "unsupported", reason: "the URL's path has broken percent-encoding" };
  const parts = segments.slice(1); // the pathname starts with "/"

  if (jsdelivrHosts.has(host)) {
    const [channel, ...rest] = parts;
    if (channel === "npm") {
      const spec = splitPackageSpec(rest);
      if (!spec) return { kind: "unsupported", reason: "jsDelivr URL names no package" };
      return npmRequest(spec.name, spec.range, spec.rest, "jsdelivr");
    }
    if (channel === "gh") return { kind: "unsupported", reason: "jsDelivr /gh/ files come from GitHub repositories and are not mirrored; use the npm package (/npm/…)" };
    return { kind: "unsupported", reason: `jsDelivr /${channel ?? ""}/ URLs are not mirrored` };
  }

  if (unpkgHosts.has(host)) {
    if (parts[0] === "browse") return { kind: "unsupported", reason: "unpkg /browse/ pages are not mirrored" };
    if (url.searchParams.has("module")) return { kind: "unsupported", reason: "unpkg ?module rewriting is not mirrored" };
    const spec = splitPackageSpec(parts);
    if (!spec) return { kind: "unsupported", reason: "unpkg URL names no package" };
    return npmRequest(spec.name, spec.range, spec.rest, "unpkg");
  }

  if (cdnjsHosts.has(host)) {
    const [ajax, libs, library, version, ...rest] = parts;
    if (ajax !== "ajax" || libs !== "libs" || !library || !version || rest.length === 0) {
      return { kind: "unsupported", reason: "cdnjs URLs are mirrored only as /ajax/libs/<library>/<version>/<file>" };
    }
    const known = cdnjsLibraries[library];
    if (!known) {
      return { kind: "unsupported", reason: `cdnjs library ${JSON.stringify(library)} has no known npm package; load it from jsDelivr (https://cdn.jsdelivr.net/npm/<package>@<version>/<file>)` };
    }
    // three.js is versioned r128 on cdnjs and 0.128.0 on npm.
    const npmVersion = /^r(\d+)$/.exec(version) ? `0.${version.slice(1)}.0` : version;
    const name = typeof known.package === "function" ? known.package(npmVersion) : known.package;
    const file = rest.join("/");
    const parsed = npmRequest(name, npmVersion, rest, "cdnjs");
    if (parsed.kind !== "npm") return parsed;
    return { kind: "npm", request: { ...parsed.request, paths: known.prefixes.map((prefix) => prefix + file) } };
  }

  if (bootstrapCdnHosts.has(host)) {
    // /bootstrap/<version>/<css|js>/<file> → bootstrap@<version>/dist/<css|js>/<file>
    const [library, version, ...rest] = parts;
    if (library !== "bootstrap" || !version || rest.length === 0) return { kind: "unsupported", reason: "only /bootstrap/<version>/… is mirrored from BootstrapCDN" };
    const parsed = npmRequest("bootstrap", version, rest, "other");
    if (parsed.kind !== "npm") return parsed;
    return { kind: "npm", request: { ...parsed.request, paths: [`dist/${rest.join("/")}`] } };
  }

  if (host === "code.jquery.com") {
    const match = /^jquery-(\d+\.\d+\.\d+)((?:\.slim)?(?:\.min)?)\.js$/.exec(parts.join("/"));
    if (!match) return { kind: "unsupported", reason: "only code.jquery.com/jquery-<version>[.slim][.min].js is mirrored" };
    return { kind: "npm", request: { name: "jquery", range: match[1]!, paths: [`dist/jquery${match[2]}.js`], cdn: "other" } };
  }

  if (otherHosts.has(host)) return { kind: "unsupported", reason: `${host} builds its modules on the fly and is not mirrored; load the file from jsDelivr instead` };
  return undefined;
}

function isExactVersion(range: string): boolean {
  return exactVersionPattern.test(range);
}

/** Semver precedence: numbers numerically, a pre-release below its release. */
export function compareVersions(a: string, b: string): number {
  const parse = (version: string) => {
    const [core = "", pre] = version.split("+")[0]!.split(/-(.*)/s);
    return { core: core.split(".").map((n) => Number.parseInt(n, 10) || 0), pre: pre ? pre.split(".") : [] };
  };
  const left = parse(a);
  const right = parse(b);
  for (let i = 0; i < 3; i++) {
    const difference = (left.core[i] ?? 0) - (right.core[i] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  if (left.pre.length === 0 || right.pre.length === 0) return Math.sign(right.pre.length - left.pre.length);
  for (let i = 0; i < Math.max(left.pre.length, right.pre.length); i++) {
    const l = left.pre[i];
    const r = right.pre[i];
    if (l === undefined) return -1;
    if (r === undefined) return 1;
    const ln = /^\d+$/.test(l) ? Number(l) : undefined;
    const rn = /^\d+$/.test(r) ? Number(r) : undefined;
    if (ln !== undefined && rn !== undefined) {
      if (ln !== rn) return Math.sign(ln - rn);
    } else if (ln !== undefined) return -1;
    else if (rn !== undefined) return 1;
    else if (l !== r) return l < r ? -1 : 1;
  }
  return 0;
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
    const wanted = request.paths.every((p) => p === "") ? await defaultEntry(dir, request.cdn) : request.paths.filter((p) => p !== "");
    // jsDelivr minifies on the fly (`x.min.js` for a package that only ships `x.js`); serving
    // the unminified file behaves the same in the page.
    const candidates = [...wanted, ...wanted.filter((p) => /\.min\.(js|css|mjs)$/.test(p)).map((p) => p.replace(/\.min\.(js|css|mjs)$/, ".$1"))];
    for (const candidate of candidates) {
      const body = await readPackageFile(dir, candidate);
      if (body) {
        return {
          status: 200,
          contentType: lookupContentType(path.posix.basename(candidate)) || "application/octet-stream",
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
      try {
        const host = (typeof url === "string" ? new URL(url) : url).hostname.toLowerCase();
        return jsdelivrHosts.has(host) || unpkgHosts.has(host) || cdnjsHosts.has(host) || bootstrapCdnHosts.has(host) || otherHosts.has(host);
      } catch {
        return false;
      }
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
