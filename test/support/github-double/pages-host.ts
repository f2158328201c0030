/**
 * The double's `{owner}.github.io`: `/{owner}/{repo}/<path>` serves `<path>` from the commit the
 * last successful Pages build or deployment published — not the branch tip — so a new push shows
 * only once its build has finished, and nothing (404) before the first one has.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { readObjects } from "../../../src/adapters/forge/bare-repository.ts";
import { parsePagesPath } from "../../../src/adapters/forge/pages-handler.ts";
import { contentTypeFor } from "../../../src/domain/content-type.ts";
import type { DoubleContext } from "./double-context.ts";
import { repositoryKey } from "./double-state.ts";

const NOT_FOUND_PAGE =
  '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Site not found · GitHub Pages</title></head>' +
  "<body><h1>404</h1><p>There isn't a GitHub Pages site here.</p></body></html>\n";

function send(res: ServerResponse, method: string, status: number, type: string, body: Buffer | string, headers: Record<string, string> = {}): void {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, {
    "content-type": type,
    "content-length": String(bytes.length),
    // GitHub Pages' own value: clients must bust caches with a query string to see a new commit.
    "cache-control": "max-age=600",
    ...headers,
  });
  res.end(method === "HEAD" ? undefined : bytes);
}

export async function servePages(context: DoubleContext, req: IncomingMessage, res: ServerResponse): Promise<number> {
  const method = req.method ?? "GET";
  if (method !== "GET" && method !== "HEAD") {
    send(res, method, 405, "text/plain; charset=utf-8", "method not allowed\n", { allow: "GET, HEAD" });
    return 405;
  }
  const raw = req.url ?? "/";
  const queryStart = raw.indexOf("?");
  const path = queryStart >= 0 ? raw.slice(0, queryStart) : raw;
  const query = queryStart >= 0 ? raw.slice(queryStart) : "";
  const ownerMatch = /^\/([^/]+)(\/.*)?$/.exec(path);
  const notFound = () => {
    send(res, method, 404, "text/html; charset=utf-8", NOT_FOUND_PAGE);
    return 404;
  };
  if (!ownerMatch) return notFound();
  const owner = decodeURIComponent(ownerMatch[1] ?? "");
  const parsed = parsePagesPath(ownerMatch[2] ?? "/");
  if (parsed === "bad") {
    send(res, method, 400, "text/plain; charset=utf-8", "bad request\n");
    return 400;
  }
  if (parsed === "missing") return notFound();
  const repository = context.state.repositories.get(repositoryKey(owner, parsed.name));
  const site = repository?.pages;
  const commit = site?.publishedSha;
  if (!repository || !site || !commit) return notFound();
  if (parsed.filePath === undefined) {
    send(res, method, 301, "text/plain; charset=utf-8", "moved permanently\n", {
      location: `/${owner}/${parsed.name}/${query}`,
    });
    return 301;
  }

  const root = site.publishedRoot ? `${site.publishedRoot}/` : "";
  const isDirectory = parsed.filePath === "" || parsed.filePath.endsWith("/");
  const candidates = isDirectory
    ? [`${parsed.filePath}index.html`]
    : [parsed.filePath, `${parsed.filePath}/index.html`, `${parsed.filePath}.html`];
  const objects = await readObjects(
    repository.directory,
    [...candidates, "404.html"].map((candidate) => `${commit}:${root}${candidate}`),
    context.dataDir,
  );
  const [exact, directoryIndex, htmlSibling] = objects;
  if (!isDirectory && exact?.type === "tree" && directoryIndex?.type === "blob") {
    send(res, method, 301, "text/plain; charset=utf-8", "moved permanently\n", { location: `${path}/${query}` });
    return 301;
  }
  const hit = [
    { object: exact, name: isDirectory ? `${parsed.filePath}index.html` : parsed.filePath },
    { object: isDirectory ? undefined : htmlSibling, name: `${parsed.filePath}.html` },
  ].find((candidate) => candidate.object?.type === "blob");
  if (hit?.object) {
    send(res, method, 200, contentTypeFor(hit.name), hit.object.content, { etag: `"${hit.object.sha}"` });
    return 200;
  }
  const custom = objects[objects.length - 1];
  if (custom?.type === "blob") {
    send(res, method, 404, "text/html; charset=utf-8", custom.content);
    return 404;
  }
  return notFound();
}
