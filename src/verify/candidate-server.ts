import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { contentTypeFor } from "../domain/content-type.ts";
import { BriefwrightError } from "../domain/errors.ts";
import type { FileTree } from "../domain/files.ts";
import { pagesPublishes } from "../domain/repository-path.ts";

/** A round's files served on 127.0.0.1 the way GitHub Pages serves a project site. */
export interface CandidateServer {
  /** The site's address, `http://127.0.0.1:<port>/<basePath>/` (what `pages_url` would be). */
  readonly url: string;
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>;
}

export interface CandidateServerOptions {
  /**
   * The project prefix, like the repository name in `https://<owner>.github.io/<repo>/`
   * (default `site`). Serving under a prefix is what exposes root-absolute paths such as
   * `/app.js`, which break on Pages the same way.
   */
  readonly basePath?: string;
  /** Port to listen on (default 0: any free port). */
  readonly port?: number;
}

/** The candidate server could not start. */
export class CandidateServerError extends BriefwrightError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("candidate-server-failed", message, options);
  }
}

const defaultNotFoundPage = Buffer.from(
  "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Page not found</title></head>" +
    "<body><h1>404</h1><p>File not found</p></body></html>\n",
  "utf8",
);

/**
 * Serves `files` from memory under `/<basePath>/`: `index.html` for folders (with the redirect
 * that adds the slash), `name.html` for an extensionless `name`, the site's `404.html` for
 * anything missing, content types by extension, GET and HEAD only. The file map is keyed by
 * exact path, so nothing outside it (`..`, absolute paths, encoded tricks) can ever be reached.
 */
export async function startCandidateServer(files: FileTree, options: CandidateServerOptions = {}): Promise<CandidateServer> {
  const basePath = (options.basePath ?? "site").replace(/^\/+|\/+$/g, "");
  if (!/^[A-Za-z0-9._-]+$/.test(basePath) || basePath === "." || basePath === "..") {
    throw new CandidateServerError(`base path ${JSON.stringify(options.basePath)} must be one plain path segment`);
  }
  const prefix = `/${basePath}/`;
  const siteHasNojekyll = files.has(".nojekyll");
  const published = new Map<string, Buffer>();
  for (const [filePath, content] of files) {
    if (!pagesPublishes(filePath, siteHasNojekyll)) continue;
    published.set(filePath, content);
  }
  const notFoundPage = published.get("404.html");

  function send(response: ServerResponse, request: IncomingMessage, status: number, body: Buffer, type: string): void {
    response.writeHead(status, {
      "content-type": type,
      "content-length": body.length,
      // Pages allows cross-origin reads; a fresh context per run makes caching moot anyway.
      "access-control-allow-origin": "*",
      "cache-control": "no-store",
    });
    response.end(request.method === "HEAD" ? undefined : body);
  }

  function redirect(response: ServerResponse, location: string): void {
    response.writeHead(301, { location, "content-length": 0 });
    response.end();
  }

  function notFound(response: ServerResponse, request: IncomingMessage, insideSite: boolean): void {
    if (insideSite && notFoundPage) send(response, request, 404, notFoundPage, "text/html; charset=utf-8");
    else send(response, request, 404, defaultNotFoundPage, "text/html; charset=utf-8");
  }

  function handle(request: IncomingMessage, response: ServerResponse): void {
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD", "content-length": 0 });
      response.end();
      return;
    }
    const rawPath = (request.url ?? "/").split(/[?#]/)[0]!;
    if (rawPath === `/${basePath}`) return redirect(response, prefix);
    if (!rawPath.startsWith(prefix)) return notFound(response, request, false);
    let relative: string;
    try {
      relative = decodeURIComponent(rawPath.slice(prefix.length));
    } catch {
      return notFound(response, request, true);
    }
    // Keys are exact repository paths; anything that could climb or alias is simply not a key.
    if (relative.includes("\0") || relative.includes("\\") || relative.split("/").some((segment) => segment === "." || segment === "..")) {
      return notFound(response, request, true);
    }
    const direct = relative === "" || relative.endsWith("/") ? undefined : published.get(relative);
    if (direct) return send(response, request, 200, direct, contentTypeFor(relative));
    const folder = relative === "" || relative.endsWith("/") ? relative : `${relative}/`;
    const index = published.get(`${folder}index.html`);
    if (index) {
      if (folder !== relative) return redirect(response, `${prefix}${folder}`);
      return send(response, request, 200, index, "text/html; charset=utf-8");
    }
    const html = relative !== "" && !relative.endsWith("/") ? published.get(`${relative}.html`) : undefined;
    if (html) return send(response, request, 200, html, "text/html; charset=utf-8");
    return notFound(response, request, true);
  }

  const server = createServer(handle);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (cause) => reject(new CandidateServerError(`could not listen on 127.0.0.1:${options.port ?? 0}`, { cause })));
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;

  return {
    url: `${origin}${prefix}`,
    origin,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
