import { spawn } from "node:child_process";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join, resolve } from "node:path";
import { isBareRepository, isValidRepositoryName } from "./bare-repository.ts";
import { isolatedGitEnvironment, runGit } from "./run-git.ts";

/**
 * Read-only git smart HTTP for the local forge's repositories, by running git's own
 * `git-http-backend` as a CGI program: clone and fetch speak every protocol version and capability
 * git itself does, and nothing here re-implements pack negotiation.
 */
export interface GitHttpHandlerSettings {
  /** Directory holding `<name>.git` bare repositories (the local forge's `reposDir`). */
  readonly reposDir: string;
  /** A request that runs longer than this is cut off. Default 5 minutes. */
  readonly timeoutMs?: number;
}

/**
 * Handles one request. `pathAfterGit` is the raw (still percent-encoded) request path after the
 * mount prefix, starting with `/`: `/<name>/info/refs` or `/<name>.git/git-upload-pack`. A query
 * string on it is used; without one, the query string of `req.url` is.
 */
export type GitHttpHandler = (req: IncomingMessage, res: ServerResponse, pathAfterGit: string) => void;

/** The only services a read-only remote offers (`info/refs` is the advertisement). */
const READ_PATHS = new Set(["info/refs", "git-upload-pack"]);
/** Protocol negotiation values are short tokens like `version=2`; anything else is dropped. */
const GIT_PROTOCOL_HEADER = /^[A-Za-z0-9=:,._-]{1,200}$/;
const MAX_CGI_HEADER_BYTES = 64 * 1024;

export function createGitHttpHandler(settings: GitHttpHandlerSettings): GitHttpHandler {
  const reposDir = resolve(settings.reposDir);
  const timeoutMs = settings.timeoutMs ?? 5 * 60_000;
  let backend: Promise<string> | undefined;

  // Found once through `git --exec-path` rather than hard-coded: distributions put git-core in
  // different places (/usr/lib/git-core, /usr/libexec/git-core, Homebrew's Cellar).
  function backendPath(): Promise<string> {
    backend ??= gitHttpBackendPath(reposDir);
    backend.catch(() => {
      backend = undefined;
    });
    return backend;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, pathAfterGit: string): Promise<void> {
    const queryStart = pathAfterGit.indexOf("?");
    const path = queryStart >= 0 ? pathAfterGit.slice(0, queryStart) : pathAfterGit;
    const urlQuery = (req.url ?? "").indexOf("?");
    const query =
      queryStart >= 0 ? pathAfterGit.slice(queryStart + 1) : urlQuery >= 0 ? (req.url ?? "").slice(urlQuery + 1) : "";

    const match = /^\/([^/]+)\/(.+)$/.exec(path);
    if (!match) return plain(res, 404, "not found");
    const [, segment = "", rest = ""] = match;
    const directoryName = await repositoryDirectoryName(reposDir, segment);
    if (!directoryName) return plain(res, 404, "repository not found");

    const service = new URLSearchParams(query).get("service");
    if (rest === "git-receive-pack" || service === "git-receive-pack") {
      return plain(res, 403, "this remote is read-only: push is not accepted");
    }
    if (!READ_PATHS.has(rest) || (service !== null && service !== "git-upload-pack")) {
      return plain(res, 404, "not found");
    }
    const method = req.method ?? "GET";
    const allowed = rest === "info/refs" ? ["GET", "HEAD"] : ["POST"];
    if (!allowed.includes(method)) {
      res.setHeader("Allow", allowed.join(", "));
      return plain(res, 405, "method not allowed");
    }

    await runGitHttpBackend(req, res, {
      projectRoot: reposDir,
      pathInfo: `/${directoryName}/${rest}`,
      query,
      timeoutMs,
      backendPath: await backendPath(),
    });
  }

  return (req, res, pathAfterGit) => {
    handle(req, res, pathAfterGit).catch((error: unknown) => {
      if (!res.headersSent) plain(res, 500, "internal error");
      else res.destroy(error instanceof Error ? error : undefined);
    });
  };
}

/** One CGI request to `git http-backend`: what to run it on and with which extra environment. */
export interface GitHttpBackendRequest {
  /** GIT_PROJECT_ROOT: the directory holding the bare repositories. */
  readonly projectRoot: string;
  /** `/<dir>.git/<service path>`, already checked by the caller. */
  readonly pathInfo: string;
  readonly query: string;
  readonly timeoutMs: number;
  /** Absolute path of `git-http-backend` (see `gitHttpBackendPath`). */
  readonly backendPath: string;
  /** More CGI variables, e.g. REMOTE_USER (which turns receive-pack on) or values a hook reads. */
  readonly extraEnvironment?: Readonly<Record<string, string>>;
}

/** Where this machine's git keeps `git-http-backend`, asked of git itself. */
export async function gitHttpBackendPath(home: string): Promise<string> {
  const result = await runGit(["--exec-path"], { home });
  return join(result.stdout.toString("utf8").trim(), "git-http-backend");
}

/**
 * Runs `git http-backend` for one request and streams its CGI answer back; shared by the local
 * forge and the test GitHub double so there is one bridge between HTTP and git's own server.
 * Resolves once git has exited, so a push's ref updates are on disk by then.
 */
export async function runGitHttpBackend(
  req: IncomingMessage,
  res: ServerResponse,
  request: GitHttpBackendRequest,
): Promise<void> {
  const method = req.method ?? "GET";
  const { timeoutMs } = request;
  const cgiEnvironment: Record<string, string> = {
    GATEWAY_INTERFACE: "CGI/1.1",
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    REQUEST_METHOD: method,
    GIT_PROJECT_ROOT: request.projectRoot,
    GIT_HTTP_EXPORT_ALL: "1",
    PATH_INFO: request.pathInfo,
    QUERY_STRING: request.query,
    REMOTE_ADDR: req.socket.remoteAddress ?? "",
    ...request.extraEnvironment,
  };
  const contentType = req.headers["content-type"];
  if (contentType) cgiEnvironment.CONTENT_TYPE = contentType;
  // Without CONTENT_LENGTH (a chunked body) the backend reads to end of input, which is right.
  const contentLength = req.headers["content-length"];
  if (contentLength && /^\d+$/.test(contentLength)) cgiEnvironment.CONTENT_LENGTH = contentLength;
  // git gzips large upload-pack requests; the backend inflates them itself.
  const contentEncoding = req.headers["content-encoding"];
  if (contentEncoding) cgiEnvironment.HTTP_CONTENT_ENCODING = contentEncoding;
  const gitProtocol = req.headers["git-protocol"];
  if (typeof gitProtocol === "string" && GIT_PROTOCOL_HEADER.test(gitProtocol)) {
    // Protocol v2 is asked for in this header; the backend reads it as HTTP_GIT_PROTOCOL.
    cgiEnvironment.HTTP_GIT_PROTOCOL = gitProtocol;
    cgiEnvironment.GIT_PROTOCOL = gitProtocol;
  }

  const child = spawn(request.backendPath, [], {
    env: isolatedGitEnvironment(request.projectRoot, cgiEnvironment),
    stdio: ["pipe", "pipe", "pipe"],
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  timer.unref();
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString("utf8");
  });
  child.on("close", () => clearTimeout(timer));
  child.on("error", (error) => {
    clearTimeout(timer);
    if (!res.headersSent) plain(res, 502, `git backend could not start: ${error.message}`);
    else res.destroy(error);
  });
  // A client that goes away should not leave a pack being computed for nobody.
  res.on("close", () => {
    if (!res.writableFinished && child.exitCode === null) child.kill("SIGTERM");
  });
  child.stdin.on("error", () => undefined);
  req.pipe(child.stdin);

  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on("data", (chunk: Buffer) => {
    if (headersDone) {
      if (!res.write(chunk)) {
        child.stdout.pause();
        res.once("drain", () => child.stdout.resume());
      }
      return;
    }
    head = Buffer.concat([head, chunk]);
    const split = findHeaderEnd(head);
    if (!split) {
      if (head.length > MAX_CGI_HEADER_BYTES) {
        child.kill("SIGKILL");
        plain(res, 502, "git backend sent malformed headers");
      }
      return;
    }
    headersDone = true;
    writeCgiHeaders(res, head.subarray(0, split.headerEnd).toString("latin1"));
    const body = head.subarray(split.bodyStart);
    if (body.length > 0) res.write(body);
  });
  child.stdout.on("end", () => {
    if (res.headersSent || headersDone) {
      res.end();
    } else if (!res.writableEnded) {
      plain(res, 502, `git backend failed: ${stderr.trim().split("\n").pop() ?? "no output"}`);
    }
  });
  await new Promise<void>((resolveExit) => {
    child.on("close", () => resolveExit());
    child.on("error", () => resolveExit());
  });
}

/**
 * The on-disk directory (`<name>.git`) for the first URL segment, which may name the repository
 * with or without `.git`; undefined for anything that is not a valid, existing repository. The
 * segment is checked against the name pattern before it touches the file system, so `..`, encoded
 * separators and dot-directories never get that far.
 */
async function repositoryDirectoryName(reposDir: string, segment: string): Promise<string | undefined> {
  const candidates = segment.endsWith(".git") ? [segment.slice(0, -4), segment] : [segment];
  for (const name of candidates) {
    if (!isValidRepositoryName(name)) continue;
    if (await isBareRepository(join(reposDir, `${name}.git`))) return `${name}.git`;
  }
  return undefined;
}

function findHeaderEnd(buffer: Buffer): { headerEnd: number; bodyStart: number } | undefined {
  const crlf = buffer.indexOf("\r\n\r\n");
  const lf = buffer.indexOf("\n\n");
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { headerEnd: crlf, bodyStart: crlf + 4 };
  if (lf >= 0) return { headerEnd: lf, bodyStart: lf + 2 };
  return undefined;
}

function writeCgiHeaders(res: ServerResponse, block: string): void {
  res.statusCode = 200;
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") {
      const code = Number.parseInt(value, 10);
      if (code >= 100 && code <= 599) res.statusCode = code;
    } else {
      res.setHeader(name, value);
    }
  }
}

function plain(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.statusCode = status;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.setHeader("Cache-Control", "no-cache");
  res.end(`${message}\n`);
}
