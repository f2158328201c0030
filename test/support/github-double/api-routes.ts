/**
 * The REST routes the double answers, each with the permission GitHub demands for it. Unknown
 * routes answer 404 `{"message":"Not Found"}` as GitHub does.
 */
import { randomBytes } from "node:crypto";
import { readObjects } from "../../../src/adapters/forge/bare-repository.ts";
import { runGit } from "../../../src/adapters/forge/run-git.ts";
import type { Identity } from "./double-auth.ts";
import { hasPermission, notAccessibleMessage, repositoryAccess, tokenReaches } from "./double-auth.ts";
import type { DoubleContext } from "./double-context.ts";
import { isoTime } from "./double-context.ts";
import { listBranches, setHeadBranch } from "./double-git.ts";
import type { DoubleRepository, DoubleToken, PermissionLevel, Permissions } from "./double-state.ts";
import { findAccount, fullName, repositoryKey } from "./double-state.ts";
import {
  accountJson,
  appJson,
  errorBody,
  installationJson,
  pagesBuildJson,
  pagesJson,
  repositoryJson,
  workflowRunJson,
} from "./api-shapes.ts";
import { createRepository, descriptionProblem, nameTaken, normaliseRepositoryName } from "./create-repository.ts";
import { startPagesBuild } from "./pages-builds.ts";

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RouteRequest {
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  readonly body: Record<string, unknown>;
  readonly identity: Identity;
}

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  /** What `x-accepted-github-permissions` answers for this route. */
  readonly accepted?: string;
  readonly handle: (context: DoubleContext, request: RouteRequest) => Reply | Promise<Reply>;
}

const SEGMENT = "([^/]+)";

function route(method: string, path: string, handle: Route["handle"], accepted?: string): Route {
  // `{name*}` spans any number of segments (a file path, maybe empty); `{name}` is one.
  const pattern = new RegExp(`^${path.replace(/\{[a-z_]+\*\}/g, "(.*)").replace(/\{[a-z_]+\}/g, SEGMENT)}$`);
  return { method, pattern, handle, ...(accepted ? { accepted } : {}) };
}

const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({
  status,
  body,
  ...(headers ? { headers } : {}),
});
const notFound = (): Reply => json(404, errorBody("Not Found", 404));
const requiresAuthentication = (): Reply => json(401, errorBody("Requires authentication", 401));
const forbidden = (identity: Identity): Reply => json(403, errorBody(notAccessibleMessage(identity), 403));

/** The repository named in the path if `identity` may use `permission` on it, else GitHub's refusal. */
function repositoryFor(
  context: DoubleContext,
  request: RouteRequest,
  permission: string,
  level: PermissionLevel,
): DoubleRepository | Reply {
  const [owner = "", name = ""] = request.params;
  const repository = context.state.repositories.get(repositoryKey(owner, name));
  if (!repository) return notFound();
  const access = repositoryAccess(context.state, request.identity, repository, permission, level);
  if (access === "permitted") return repository;
  if (access === "none") return notFound();
  return request.identity.kind === "anonymous" ? requiresAuthentication() : forbidden(request.identity);
}

const isReply = (value: DoubleRepository | Reply): value is Reply => "status" in value;

function appOnly(request: RouteRequest): Reply | undefined {
  if (request.identity.kind === "app") return undefined;
  return json(401, errorBody("A JSON web token could not be decoded", 401));
}

function tokenAccess(context: DoubleContext, identity: Identity, repository: DoubleRepository) {
  const can = (permission: string, level: PermissionLevel) =>
    repositoryAccess(context.state, identity, repository, permission, level) === "permitted";
  return { admin: can("administration", "write"), push: can("contents", "write"), pull: can("contents", "read") };
}

// --- users and the App ---------------------------------------------------------------------

function getAuthenticatedUser(context: DoubleContext, request: RouteRequest): Reply {
  const identity = request.identity;
  if (identity.kind === "anonymous") return requiresAuthentication();
  if (identity.kind === "app" || identity.token.kind === "installation") return forbidden(identity);
  const account = findAccount(context.state, identity.token.login ?? "");
  if (!account) return notFound();
  return json(200, accountJson(context, account));
}

function getUser(context: DoubleContext, request: RouteRequest): Reply {
  const account = findAccount(context.state, request.params[0] ?? "");
  return account ? json(200, accountJson(context, account)) : notFound();
}

function getApp(context: DoubleContext, request: RouteRequest): Reply {
  const refused = appOnly(request);
  if (refused || request.identity.kind !== "app") return refused ?? notFound();
  return json(200, appJson(context, request.identity.app));
}

function listInstallations(context: DoubleContext, request: RouteRequest): Reply {
  const refused = appOnly(request);
  if (refused || request.identity.kind !== "app") return refused ?? notFound();
  const app = request.identity.app;
  return json(
    200,
    app.installations.map((installation) => installationJson(context, app, installation)),
  );
}

function installationBy(
  context: DoubleContext,
  request: RouteRequest,
  match: (installation: { id: number; account: string }) => boolean,
  accountType?: "User" | "Organization",
): Reply {
  const refused = appOnly(request);
  if (refused || request.identity.kind !== "app") return refused ?? notFound();
  const app = request.identity.app;
  const installation = app.installations.find(match);
  if (!installation) return notFound();
  if (accountType && findAccount(context.state, installation.account)?.type !== accountType) return notFound();
  return json(200, installationJson(context, app, installation));
}

const sameLogin = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function createInstallationToken(context: DoubleContext, request: RouteRequest): Reply {
  const refused = appOnly(request);
  if (refused || request.identity.kind !== "app") return refused ?? notFound();
  const installation = request.identity.app.installations.find((each) => String(each.id) === request.params[0]);
  if (!installation) return notFound();
  let permissions: Permissions = installation.permissions;
  const asked = request.body.permissions;
  if (asked !== undefined) {
    if (typeof asked !== "object" || asked === null) {
      return json(422, errorBody("Invalid request.\n\nFor 'properties/permissions', is not an object.", 422));
    }
    const narrowed: Record<string, PermissionLevel> = {};
    for (const [name, level] of Object.entries(asked)) {
      if ((level !== "read" && level !== "write" && level !== "admin") || !hasPermission(installation.permissions, name, level)) {
        return json(422, errorBody("The permissions requested are not granted to this installation.", 422));
      }
      narrowed[name] = level;
    }
    permissions = narrowed;
  }
  const issuedAt = context.now();
  const token: DoubleToken = {
    token: `ghs_${randomBytes(27).toString("base64url").replace(/[-_]/g, "x").slice(0, 36)}`,
    kind: "installation",
    login: undefined,
    scopes: [],
    permissions,
    account: installation.account,
    installationId: installation.id,
    issuedAt,
    expiresAt: issuedAt + context.settings.installationTokenLifetimeMs,
    revoked: false,
  };
  context.state.tokens.set(token.token, token);
  context.state.installationTokensIssued.push(token);
  context.changed();
  return json(201, {
    token: token.token,
    expires_at: isoTime(token.expiresAt ?? issuedAt),
    permissions,
    repository_selection: "all",
  });
}

function listInstallationRepositories(context: DoubleContext, request: RouteRequest): Reply {
  const identity = request.identity;
  if (identity.kind !== "token" || identity.token.kind !== "installation") {
    return json(403, errorBody("You must authenticate with an installation access token in order to list repositories for an installation.", 403));
  }
  const repositories = [...context.state.repositories.values()].filter((repository) =>
    tokenReaches(context.state, identity.token, repository.owner),
  );
  return json(200, {
    total_count: repositories.length,
    repository_selection: "all",
    repositories: repositories.map((repository) => repositoryJson(context, repository, tokenAccess(context, identity, repository))),
  });
}

// --- repositories ----------------------------------------------------------------------------

async function createRepositoryReply(context: DoubleContext, request: RouteRequest, owner: string): Promise<Reply> {
  const body = request.body;
  const created = await createRepository(context, {
    owner,
    name: body.name,
    description: body.description,
    homepage: body.homepage,
    private: body.private,
    visibility: body.visibility,
    ...(body.auto_init === true
      ? { files: { "README.md": `# ${String(body.name)}\n${typeof body.description === "string" ? `\n${body.description}\n` : ""}` } }
      : {}),
  });
  if (!created.ok) return json(created.error.status, created.error.body);
  return json(201, repositoryJson(context, created.repository, tokenAccess(context, request.identity, created.repository)));
}

function mayCreateIn(context: DoubleContext, identity: Identity, owner: string, isPrivate: boolean): Reply | undefined {
  if (identity.kind === "anonymous") return requiresAuthentication();
  if (identity.kind === "app") return forbidden(identity);
  const token = identity.token;
  if (!tokenReaches(context.state, token, owner)) return forbidden(identity);
  if (token.kind === "classic") {
    const allowed = token.scopes.includes("repo") || (!isPrivate && token.scopes.includes("public_repo"));
    return allowed ? undefined : forbidden(identity);
  }
  return hasPermission(token.permissions, "administration", "write") ? undefined : forbidden(identity);
}

function createUserRepository(context: DoubleContext, request: RouteRequest): Reply | Promise<Reply> {
  const identity = request.identity;
  // An installation acts for an account, not as a user: GitHub refuses it on /user/repos.
  if (identity.kind === "token" && identity.token.kind === "installation") return forbidden(identity);
  const owner = identity.kind === "token" ? (identity.token.login ?? "") : "";
  const isPrivate = request.body.private === true || request.body.visibility === "private";
  const refused = mayCreateIn(context, identity, owner, isPrivate);
  if (refused) return refused;
  return createRepositoryReply(context, request, findAccount(context.state, owner)?.login ?? owner);
}

function createOrganizationRepository(context: DoubleContext, request: RouteRequest): Reply | Promise<Reply> {
  const organization = findAccount(context.state, request.params[0] ?? "");
  if (!organization || organization.type !== "Organization") return notFound();
  const isPrivate = request.body.private === true || request.body.visibility === "private";
  const refused = mayCreateIn(context, request.identity, organization.login, isPrivate);
  if (refused) return refused;
  return createRepositoryReply(context, request, organization.login);
}

function getRepository(context: DoubleContext, request: RouteRequest): Reply {
  const repository = repositoryFor(context, request, "metadata", "read");
  if (isReply(repository)) return repository;
  return json(200, repositoryJson(context, repository, tokenAccess(context, request.identity, repository)));
}

async function updateRepository(context: DoubleContext, request: RouteRequest): Promise<Reply> {
  const repository = repositoryFor(context, request, "administration", "write");
  if (isReply(repository)) return repository;
  const body = request.body;
  const problem = descriptionProblem(body.description);
  if (problem) return json(problem.status, problem.body);
  if (typeof body.name === "string" && body.name !== repository.name) {
    const name = normaliseRepositoryName(body.name);
    const key = repositoryKey(repository.owner, name);
    if (context.state.repositories.has(key)) return json(nameTaken().status, nameTaken().body);
    context.state.repositories.delete(repositoryKey(repository.owner, repository.name));
    repository.name = name;
    context.state.repositories.set(key, repository);
  }
  if ("description" in body) repository.description = typeof body.description === "string" && body.description !== "" ? body.description : null;
  if ("homepage" in body) repository.homepage = typeof body.homepage === "string" ? body.homepage : null;
  if (typeof body.private === "boolean") repository.private = body.private;
  if (body.visibility === "public" || body.visibility === "private") repository.private = body.visibility === "private";
  if (typeof body.default_branch === "string") {
    const branches = await listBranches(repository.directory, context.dataDir);
    if (!branches.has(body.default_branch)) {
      return json(422, errorBody("Validation Failed", 422, { errors: [{ resource: "Repository", code: "invalid", field: "default_branch" }] }));
    }
    repository.defaultBranch = body.default_branch;
    await setHeadBranch(repository.directory, body.default_branch, context.dataDir);
  }
  repository.updatedAt = isoTime(context.now());
  context.changed();
  return json(200, repositoryJson(context, repository, tokenAccess(context, request.identity, repository)));
}

async function getBranch(context: DoubleContext, request: RouteRequest): Promise<Reply> {
  const repository = repositoryFor(context, request, "contents", "read");
  if (isReply(repository)) return repository;
  const branch = decodeURIComponent(request.params[2] ?? "");
  const sha = (await listBranches(repository.directory, context.dataDir)).get(branch);
  if (!sha) return json(404, errorBody("Branch not found", 404));
  return json(200, { name: branch, commit: { sha, url: `${context.apiUrl}/repos/${fullName(repository)}/commits/${sha}` }, protected: false });
}

async function getCommit(context: DoubleContext, request: RouteRequest): Promise<Reply> {
  const repository = repositoryFor(context, request, "contents", "read");
  if (isReply(repository)) return repository;
  const ref = decodeURIComponent(request.params[2] ?? "");
  if (!/^[A-Za-z0-9._/-]{1,200}$/.test(ref) || ref.startsWith("-")) return json(422, errorBody(`No commit found for SHA: ${ref}`, 422));
  const result = await runGit(["log", "-1", "--format=%H%x00%B", `${ref}`, "--"], {
    gitDir: repository.directory,
    home: context.dataDir,
    okExitCodes: [0, 128],
  });
  if (result.exitCode !== 0) return json(422, errorBody(`No commit found for SHA: ${ref}`, 422));
  const [sha = "", message = ""] = result.stdout.toString("utf8").split("\0");
  return json(200, {
    sha,
    url: `${context.apiUrl}/repos/${fullName(repository)}/commits/${sha}`,
    html_url: `https://github.com/${fullName(repository)}/commit/${sha}`,
    commit: { message: message.trim() },
  });
}

async function getContents(context: DoubleContext, request: RouteRequest): Promise<Reply> {
  const repository = repositoryFor(context, request, "contents", "read");
  if (isReply(repository)) return repository;
  const path = (request.params[2] ?? "").replace(/^\/+|\/+$/g, "");
  const ref = request.query.get("ref") ?? repository.defaultBranch;
  if (/[\0\n\r]/.test(path) || !/^[A-Za-z0-9._/-]{1,200}$/.test(ref) || ref.startsWith("-")) return notFound();
  const branches = await listBranches(repository.directory, context.dataDir);
  if (branches.size === 0) return json(404, errorBody("This repository is empty.", 404));
  const [object] = await readObjects(repository.directory, [`${ref}:${path}`], context.dataDir);
  if (!object) return notFound();
  const name = fullName(repository);
  const entryJson = (entryPath: string, type: string, sha: string, size: number) => ({
    type,
    name: entryPath.split("/").pop() ?? entryPath,
    path: entryPath,
    sha,
    size,
    url: `${context.apiUrl}/repos/${name}/contents/${entryPath}?ref=${ref}`,
    html_url: `https://github.com/${name}/${type === "dir" ? "tree" : "blob"}/${ref}/${entryPath}`,
    download_url: type === "file" ? `https://raw.githubusercontent.com/${name}/${ref}/${entryPath}` : null,
  });
  if (object.type === "blob") {
    return json(200, {
      ...entryJson(path, "file", object.sha, object.content.length),
      encoding: "base64",
      // GitHub wraps the base64 at 60 characters.
      content: (object.content.toString("base64").match(/.{1,60}/g) ?? []).join("\n"),
    });
  }
  if (object.type !== "tree") return notFound();
  const listing = await runGit(["ls-tree", "-z", "--long", `${ref}:${path}`], {
    gitDir: repository.directory,
    home: context.dataDir,
  });
  const entries = listing.stdout
    .toString("utf8")
    .split("\0")
    .filter(Boolean)
    .map((record) => {
      const tab = record.indexOf("\t");
      const [, type = "", sha = "", size = "0"] = record.slice(0, tab).split(/\s+/);
      const entryPath = path ? `${path}/${record.slice(tab + 1)}` : record.slice(tab + 1);
      return entryJson(entryPath, type === "tree" ? "dir" : type === "commit" ? "submodule" : "file", sha, Number(size) || 0);
    });
  return json(200, entries);
}

// --- Pages -----------------------------------------------------------------------------------

async function branchTip(context: DoubleContext, repository: DoubleRepository, branch: string): Promise<string | undefined> {
  return (await listBranches(repository.directory, context.dataDir)).get(branch);
}

function pusherOf(identity: Identity): string {
  if (identity.kind === "token") return identity.token.login ?? identity.token.account ?? "github-actions[bot]";
  return "github-actions[bot]";
}

function parseSource(value: unknown): { branch: string; path: "/" | "/docs" } | "invalid" | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null) return "invalid";
  const { branch, path } = value as { branch?: unknown; path?: unknown };
  if (typeof branch !== "string" || branch === "") return "invalid";
  if (path !== undefined && path !== "/" && path !== "/docs") return "invalid";
  return { branch, path: (path as "/" | "/docs" | undefined) ?? "/" };
}

/** Creating and changing a site takes both Pages and Administration write, as GitHub documents. */
function pagesAdmin(context: DoubleContext, request: RouteRequest): DoubleRepository | Reply {
  const pages = repositoryFor(context, request, "pages", "write");
  return isReply(pages) ? pages : repositoryFor(context, request, "administration", "write");
}

async function createPagesSite(context: DoubleContext, request: RouteRequest): Promise<Reply> {
  const repository = pagesAdmin(context, request);
  if (isReply(repository)) return repository;
  if (repository.pages) return json(409, errorBody("GitHub Pages is already enabled.", 409));
  const source = parseSource(request.body.source);
  const buildType = request.body.build_type ?? "legacy";
  if (source === "invalid" || (buildType !== "legacy" && buildType !== "workflow")) {
    return json(422, errorBody("Invalid request.\n\nInvalid property /source: data matches no possible input.", 422));
  }
  if (buildType === "legacy" && !source) {
    return json(422, errorBody('Invalid request.\n\n"source" wasn\'t supplied.', 422));
  }
  const effectiveSource = source ?? { branch: repository.defaultBranch, path: "/" as const };
  const tip = await branchTip(context, repository, effectiveSource.branch);
  if (buildType === "legacy" && !tip) {
    return json(422, errorBody(`The ${effectiveSource.branch} branch must exist before GitHub Pages can be built.`, 422));
  }
  repository.pages = {
    buildType,
    source: effectiveSource,
    status: null,
    publishedSha: undefined,
    publishedRoot: "",
    createdAt: isoTime(context.now()),
  };
  if (buildType === "legacy" && tip) startPagesBuild(context, repository, tip, pusherOf(request.identity));
  context.changed();
  return json(201, pagesJson(context, repository));
}

function getPagesSite(context: DoubleContext, request: RouteRequest): Reply {
  const repository = repositoryFor(context, request, "pages", "read");
  if (isReply(repository)) return repository;
  if (!repository.pages) return notFound();
  return json(200, pagesJson(context, repository));
}

async function updatePagesSite(context: DoubleContext, request: RouteRequest): Promise<Reply> {
  const repository = pagesAdmin(context, request);
  if (isReply(repository)) return repository;
  const site = repository.pages;
  if (!site) return notFound();
  const source = parseSource(request.body.source);
  const buildType = request.body.build_type;
  if (source === "invalid" || (buildType !== undefined && buildType !== "legacy" && buildType !== "workflow")) {
    return json(422, errorBody("Invalid request.\n\nInvalid property /source: data matches no possible input.", 422));
  }
  const before = JSON.stringify([site.buildType, site.source]);
  if (buildType) site.buildType = buildType;
  if (source) site.source = source;
  // Switching to (or re-pointing) a branch build rebuilds the site, as on GitHub.
  if (site.buildType === "legacy" && JSON.stringify([site.buildType, site.source]) !== before) {
    const tip = await branchTip(context, repository, site.source.branch);
    if (tip) startPagesBuild(context, repository, tip, pusherOf(request.identity));
  }
  context.changed();
  return { status: 204 };
}

function deletePagesSite(context: DoubleContext, request: RouteRequest): Reply {
  const repository = pagesAdmin(context, request);
  if (isReply(repository)) return repository;
  if (!repository.pages) return notFound();
  repository.pages = undefined;
  context.changed();
  return { status: 204 };
}

async function requestPagesBuild(context: DoubleContext, request: RouteRequest): Promise<Reply> {
  const repository = repositoryFor(context, request, "pages", "write");
  if (isReply(repository)) return repository;
  const site = repository.pages;
  if (!site) return notFound();
  if (site.buildType === "workflow") {
    // A workflow site is deployed by its Actions run; there is no branch build to request.
    return json(400, errorBody("Page builds are not supported for sites built with GitHub Actions.", 400));
  }
  const tip = await branchTip(context, repository, site.source.branch);
  if (!tip) return json(422, errorBody(`The ${site.source.branch} branch must exist before GitHub Pages can be built.`, 422));
  startPagesBuild(context, repository, tip, pusherOf(request.identity));
  return json(201, { url: `${context.apiUrl}/repos/${fullName(repository)}/pages/builds/latest`, status: "queued" });
}

function buildsOf(context: DoubleContext, repository: DoubleRepository) {
  const name = fullName(repository);
  return context.state.pagesBuilds.filter((build) => build.repository === name).reverse();
}

function listPagesBuilds(context: DoubleContext, request: RouteRequest): Reply {
  const repository = repositoryFor(context, request, "pages", "read");
  if (isReply(repository)) return repository;
  if (!repository.pages) return notFound();
  return json(200, paginate(buildsOf(context, repository), request.query).map((build) => pagesBuildJson(context, build)));
}

function getLatestPagesBuild(context: DoubleContext, request: RouteRequest): Reply {
  const repository = repositoryFor(context, request, "pages", "read");
  if (isReply(repository)) return repository;
  const latest = buildsOf(context, repository)[0];
  return repository.pages && latest ? json(200, pagesBuildJson(context, latest)) : notFound();
}

function getPagesBuild(context: DoubleContext, request: RouteRequest): Reply {
  const repository = repositoryFor(context, request, "pages", "read");
  if (isReply(repository)) return repository;
  const build = buildsOf(context, repository).find((each) => String(each.id) === request.params[2]);
  return build ? json(200, pagesBuildJson(context, build)) : notFound();
}

// --- Actions ---------------------------------------------------------------------------------

function paginate<T>(items: readonly T[], query: URLSearchParams): T[] {
  const perPage = Math.min(100, Math.max(1, Number(query.get("per_page") ?? 30) || 30));
  const page = Math.max(1, Number(query.get("page") ?? 1) || 1);
  return items.slice((page - 1) * perPage, page * perPage);
}

function runsOf(context: DoubleContext, repository: DoubleRepository) {
  const name = fullName(repository);
  return context.state.workflowRuns.filter((run) => run.repository === name).reverse();
}

function listWorkflowRuns(context: DoubleContext, request: RouteRequest): Reply {
  const repository = repositoryFor(context, request, "actions", "read");
  if (isReply(repository)) return repository;
  const { query } = request;
  const headSha = query.get("head_sha");
  const branch = query.get("branch");
  const event = query.get("event");
  const status = query.get("status");
  const runs = runsOf(context, repository).filter(
    (run) =>
      (!headSha || run.headSha === headSha) &&
      (!branch || run.headBranch === branch) &&
      (!event || run.event === event) &&
      (!status || run.status === status || run.conclusion === status),
  );
  return json(200, { total_count: runs.length, workflow_runs: paginate(runs, query).map((run) => workflowRunJson(context, run)) });
}

function getWorkflowRun(context: DoubleContext, request: RouteRequest): Reply {
  const repository = repositoryFor(context, request, "actions", "read");
  if (isReply(repository)) return repository;
  const run = runsOf(context, repository).find((each) => String(each.id) === request.params[2]);
  return run ? json(200, workflowRunJson(context, run)) : notFound();
}

/** Signed, short-lived-looking download links for finished runs' logs (like GitHub's blob URLs). */
const logLinks = new WeakMap<DoubleContext, Map<string, number>>();

function downloadWorkflowRunLogs(context: DoubleContext, request: RouteRequest): Reply {
  const repository = repositoryFor(context, request, "actions", "read");
  if (isReply(repository)) return repository;
  const run = runsOf(context, repository).find((each) => String(each.id) === request.params[2]);
  if (!run || run.status !== "completed") return notFound();
  const links = logLinks.get(context) ?? new Map<string, number>();
  logLinks.set(context, links);
  const signature = randomBytes(12).toString("hex");
  links.set(signature, run.id);
  return { status: 302, headers: { location: `${context.apiUrl}/_double/run-logs/${run.id}.txt?sig=${signature}` } };
}

/** The target of the logs redirect: the run's log as plain text, no token needed (the link is the key). */
export function serveRunLog(context: DoubleContext, runId: string, signature: string | null): Reply | undefined {
  const links = logLinks.get(context);
  if (!signature || links?.get(signature) !== Number(runId)) return undefined;
  const run = context.state.workflowRuns.find((each) => String(each.id) === runId);
  if (!run) return undefined;
  return { status: 200, body: run.log, headers: { "content-type": "text/plain; charset=utf-8" } };
}

function getRateLimit(context: DoubleContext): Reply {
  const reset = Math.floor(context.now() / 1000) + 3600;
  const core = { limit: 5000, used: 0, remaining: 5000, reset };
  return json(200, { resources: { core }, rate: core });
}

const O = "{owner}";
const R = "{repo}";

export const ROUTES: readonly Route[] = [
  route("GET", "/user", getAuthenticatedUser),
  route("GET", "/users/{login}", getUser),
  route("GET", "/rate_limit", getRateLimit),
  route("GET", "/app", getApp),
  route("GET", "/app/installations", listInstallations),
  route("GET", "/app/installations/{id}", (context, request) =>
    installationBy(context, request, (installation) => String(installation.id) === request.params[0]),
  ),
  route("POST", "/app/installations/{id}/access_tokens", createInstallationToken),
  route("GET", "/users/{login}/installation", (context, request) =>
    installationBy(context, request, (installation) => sameLogin(installation.account, request.params[0] ?? "")),
  ),
  route("GET", "/orgs/{org}/installation", (context, request) =>
    installationBy(context, request, (installation) => sameLogin(installation.account, request.params[0] ?? ""), "Organization"),
  ),
  route("GET", `/repos/${O}/${R}/installation`, (context, request) => {
    const repository = context.state.repositories.get(repositoryKey(request.params[0] ?? "", request.params[1] ?? ""));
    if (!repository) return appOnly(request) ?? notFound();
    return installationBy(context, request, (installation) => sameLogin(installation.account, repository.owner));
  }),
  route("GET", "/installation/repositories", listInstallationRepositories, "metadata=read"),
  route("POST", "/user/repos", createUserRepository, "administration=write"),
  route("POST", "/orgs/{org}/repos", createOrganizationRepository, "administration=write"),
  route("GET", `/repos/${O}/${R}`, getRepository, "metadata=read"),
  route("PATCH", `/repos/${O}/${R}`, updateRepository, "administration=write"),
  route("GET", `/repos/${O}/${R}/branches/{branch}`, getBranch, "contents=read"),
  route("GET", `/repos/${O}/${R}/commits/{ref}`, getCommit, "contents=read"),
  route("GET", `/repos/${O}/${R}/contents`, getContents, "contents=read"),
  route("GET", `/repos/${O}/${R}/contents/{path*}`, getContents, "contents=read"),
  route("POST", `/repos/${O}/${R}/pages`, createPagesSite, "pages=write; administration=write"),
  route("GET", `/repos/${O}/${R}/pages`, getPagesSite, "pages=read"),
  route("PUT", `/repos/${O}/${R}/pages`, updatePagesSite, "pages=write; administration=write"),
  route("DELETE", `/repos/${O}/${R}/pages`, deletePagesSite, "pages=write; administration=write"),
  route("POST", `/repos/${O}/${R}/pages/builds`, requestPagesBuild, "pages=write"),
  route("GET", `/repos/${O}/${R}/pages/builds`, listPagesBuilds, "pages=read"),
  route("GET", `/repos/${O}/${R}/pages/builds/latest`, getLatestPagesBuild, "pages=read"),
  route("GET", `/repos/${O}/${R}/pages/builds/{id}`, getPagesBuild, "pages=read"),
  route("GET", `/repos/${O}/${R}/actions/runs`, listWorkflowRuns, "actions=read"),
  route("GET", `/repos/${O}/${R}/actions/runs/{id}`, getWorkflowRun, "actions=read"),
  route("GET", `/repos/${O}/${R}/actions/runs/{id}/logs`, downloadWorkflowRunLogs, "actions=read"),
];

export function findRoute(method: string, path: string): { route: Route; params: string[] } | "method" | undefined {
  let pathMatched = false;
  for (const candidate of ROUTES) {
    const match = candidate.pattern.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (candidate.method === method) return { route: candidate, params: match.slice(1).map((value) => decodeURIComponent(value)) };
  }
  return pathMatched ? "method" : undefined;
}
