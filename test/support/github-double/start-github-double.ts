/**
 * A protocol-level GitHub double for tests: GitHub's REST API (users, the App and its
 * installation tokens, repositories, Pages, Actions runs) and git smart HTTP on one 127.0.0.1
 * port, and a Pages host on another. See README.md beside this file for what it models and how.
 */
import { createPublicKey, randomBytes, type KeyObject } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errorBody } from "./api-shapes.ts";
import { findRoute, serveRunLog, type Reply } from "./api-routes.ts";
import { authenticate, permissionsFromScopes } from "./double-auth.ts";
import type { ActionsOutcome, DoubleContext, DoubleSettings, FaultRule } from "./double-context.ts";
import { createRepository } from "./create-repository.ts";
import type {
  DoubleAccount,
  DoubleRepository,
  DoubleRequest,
  DoubleState,
  DoubleToken,
  Permissions,
} from "./double-state.ts";
import { createDoubleState, repositoryKey } from "./double-state.ts";
import { systemClock, type Clock } from "../../../src/ports/clock.ts";
import { createGitRoute, matchGitPath } from "./git-route.ts";
import { faultRule, takeFault, type FaultSpec } from "./injected-faults.ts";
import { servePages } from "./pages-host.ts";

export interface AccountSpec {
  readonly login: string;
  readonly type?: "User" | "Organization";
  /** Organisation members (their classic tokens may create and push its repositories). */
  readonly members?: readonly string[];
}

export type PersonalTokenSpec =
  | {
      /** A classic token (`ghp_…`): answers `x-oauth-scopes`, e.g. `["repo", "workflow"]`. */
      readonly login: string;
      readonly scopes: readonly string[];
      readonly token?: string;
      readonly expiresAt?: number;
    }
  | {
      /** A fine-grained token (`github_pat_…`) for one account's repositories. */
      readonly login: string;
      readonly permissions: Permissions;
      /** The resource owner; default `login`. */
      readonly account?: string;
      readonly token?: string;
      readonly expiresAt?: number;
    };

export interface AppSpec {
  readonly id: number;
  /** The App's public key (PEM or KeyObject); the test signs JWTs with the private half. */
  readonly publicKey: KeyObject | string;
  readonly slug?: string;
  readonly name?: string;
  /** Login of the account owning the App; default the first installation's account. */
  readonly owner?: string;
  readonly installations: readonly {
    readonly id: number;
    readonly account: string;
    /** Default: contents, pages, administration, workflows write; actions, metadata read. */
    readonly permissions?: Permissions;
  }[];
}

export interface GitHubDoubleOptions {
  /** Users and organisations. Default: one user, `octo-student`. The first one owns `pagesBase`. */
  readonly accounts?: readonly AccountSpec[];
  readonly tokens?: readonly PersonalTokenSpec[];
  readonly app?: AppSpec;
  /** Lifetime of installation tokens (GitHub: one hour). */
  readonly installationTokenLifetimeMs?: number;
  /** How long a legacy Pages build takes. Default 50 ms. */
  readonly pagesBuildDelayMs?: number;
  /** The first this-many Pages builds end `errored`. Default 0. */
  readonly pagesBuildsToFail?: number;
  readonly pagesBuildErrorMessage?: string;
  /** How long a workflow run takes. Default 50 ms. */
  readonly actionsDelayMs?: number;
  /** Outcome of every run unless queued otherwise. Default success. */
  readonly actionsOutcome?: ActionsOutcome;
  /**
   * The double's time: token expiry, JWT checks, timestamps, and the waits of Pages builds and
   * workflow runs (through `sleep`). Default the system clock; a fake one makes those waits free.
   */
  readonly clock?: Clock;
}

export const DEFAULT_INSTALLATION_PERMISSIONS: Permissions = Object.freeze({
  administration: "write",
  contents: "write",
  pages: "write",
  workflows: "write",
  actions: "read",
  metadata: "read",
});

export interface GitHubDoubleControl {
  addAccount(spec: AccountSpec): DoubleAccount;
  /** Registers a personal token and returns its value. */
  issuePersonalToken(spec: PersonalTokenSpec): string;
  /** Makes a token answer 401 from now on, as if its lifetime had passed. */
  expireToken(token: string): void;
  expireInstallationTokens(): void;
  setInstallationTokenLifetime(ms: number): void;
  setPagesBuildDelay(ms: number): void;
  /** The next `count` Pages builds end `errored` with `message`. */
  failNextPagesBuilds(count: number, message?: string): void;
  setActionsDelay(ms: number): void;
  /** The next workflow run ends like this (queue several for several runs). */
  queueActionsOutcome(outcome: ActionsOutcome): void;
  setActionsDefaultOutcome(outcome: ActionsOutcome): void;
  injectFault(spec: FaultSpec): FaultRule;
  /** A repository that exists before the test (e.g. someone else's with the wanted name). */
  seedRepository(spec: {
    readonly owner: string;
    readonly name: string;
    readonly files?: Readonly<Record<string, string | Buffer>>;
    readonly description?: string;
    readonly private?: boolean;
  }): Promise<DoubleRepository>;
  repository(owner: string, name: string): DoubleRepository | undefined;
  /** Requests to the API whose path (no query) equals `path` or matches it. */
  requestsTo(path: string | RegExp, method?: string): DoubleRequest[];
  /** Resolves with the first truthy value of `check`, re-evaluated whenever the double's state changes. */
  waitFor<T>(check: () => T | undefined | null | false, timeoutMs?: number): Promise<T>;
}

export interface GitHubDouble {
  /** Base URL for Octokit (`GITHUB_API_URL`); also the host of every `clone_url`. */
  readonly apiUrl: string;
  /** Origin of the Pages host; a site is at `${pagesHost}/{owner}/{repo}/`. */
  readonly pagesHost: string;
  /** `${pagesHost}/{first account}` — use as `GITHUB_PAGES_BASE`; a site is `${pagesBase}/{repo}/`. */
  readonly pagesBase: string;
  pagesBaseFor(owner: string): string;
  readonly state: DoubleState;
  readonly control: GitHubDoubleControl;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 5 * 1024 * 1024;

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

function readBody(req: IncomingMessage): Promise<Buffer | "too-large"> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > MAX_BODY_BYTES ? "too-large" : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function randomToken(prefix: string, length: number): string {
  let value = "";
  while (value.length < length) value += randomBytes(32).toString("base64").replace(/[^A-Za-z0-9]/g, "");
  return `${prefix}${value.slice(0, length)}`;
}

export async function startGitHubDouble(options: GitHubDoubleOptions = {}): Promise<GitHubDouble> {
  const dataDir = await mkdtemp(join(tmpdir(), "github-double-"));
  const state = createDoubleState();
  const clock = options.clock ?? systemClock;
  const stopTimers = new AbortController();
  const waiters = new Set<() => void>();
  let ids = 1000;
  const settings: DoubleSettings = {
    pagesBuildDelayMs: options.pagesBuildDelayMs ?? 50,
    pagesBuildsToFail: options.pagesBuildsToFail ?? 0,
    pagesBuildErrorMessage: options.pagesBuildErrorMessage ?? "Page build failed.",
    actionsDelayMs: options.actionsDelayMs ?? 50,
    actionsOutcomes: [],
    actionsDefaultOutcome: options.actionsOutcome ?? { conclusion: "success" },
    installationTokenLifetimeMs: options.installationTokenLifetimeMs ?? 60 * 60_000,
    faults: [],
  };
  const context: DoubleContext = {
    state,
    settings,
    now: () => clock.now(),
    dataDir,
    apiUrl: "",
    pagesHost: "",
    nextId: () => ++ids,
    later(delayMs, action) {
      clock.sleep(delayMs, stopTimers.signal).then(action, () => undefined);
    },
    changed() {
      for (const wake of [...waiters]) wake();
    },
  };

  const control = createControl(context, waiters);
  for (const account of options.accounts ?? [{ login: "octo-student" }]) control.addAccount(account);
  for (const token of options.tokens ?? []) control.issuePersonalToken(token);
  if (options.app) {
    const app = options.app;
    const publicKey = typeof app.publicKey === "string" ? createPublicKey(app.publicKey) : app.publicKey;
    state.app = {
      id: app.id,
      slug: app.slug ?? "briefwright-test",
      name: app.name ?? "briefwright test",
      publicKey,
      owner: app.owner ?? app.installations[0]?.account ?? "octo-student",
      installations: app.installations.map((installation) => ({
        id: installation.id,
        account: installation.account,
        permissions: installation.permissions ?? DEFAULT_INSTALLATION_PERMISSIONS,
      })),
    };
  }

  const serveGit = createGitRoute(context);
  const api = createServer((req, res) => {
    handleApi(context, serveGit, req, res).catch((error: unknown) => {
      if (!res.headersSent) writeJson(res, 500, { message: `double failed: ${String(error)}` });
      else res.destroy();
    });
  });
  const pages = createServer((req, res) => {
    const record = recordRequest(context, "pages", req);
    servePages(context, req, res)
      .then((status) => {
        record.status = status;
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
  });
  context.apiUrl = await listen(api);
  context.pagesHost = await listen(pages);
  const firstLogin = [...state.accounts.values()][0]?.login ?? "octo-student";

  return {
    apiUrl: context.apiUrl,
    pagesHost: context.pagesHost,
    pagesBase: `${context.pagesHost}/${firstLogin}`,
    pagesBaseFor: (owner) => `${context.pagesHost}/${owner}`,
    state,
    control,
    async close() {
      stopTimers.abort();
      for (const server of [api, pages]) server.closeAllConnections();
      await Promise.all([api, pages].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function recordRequest(context: DoubleContext, listener: "api" | "pages", req: IncomingMessage): DoubleRequest {
  const record: DoubleRequest = {
    listener,
    method: req.method ?? "GET",
    url: req.url ?? "/",
    authorization: req.headers.authorization,
    status: 0,
    at: context.now(),
  };
  context.state.requests.push(record);
  return record;
}

function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, {
    ...(body === undefined ? {} : { "content-type": "application/json; charset=utf-8" }),
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

async function handleApi(
  context: DoubleContext,
  serveGit: ReturnType<typeof createGitRoute>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const record = recordRequest(context, "api", req);
  res.on("finish", () => {
    record.status = res.statusCode;
    context.changed();
  });
  const url = new URL(req.url ?? "/", context.apiUrl);
  const method = req.method ?? "GET";
  const path = url.pathname;

  const fault = takeFault(context, method, path);
  if (fault) {
    req.resume();
    return writeJson(res, fault.status, fault.body, { ...fault.headers(context.now()), "x-github-request-id": requestId() });
  }

  const git = matchGitPath(path);
  if (git) return serveGit(req, res, git, url.search.slice(1));

  const runLog = /^\/_double\/run-logs\/(\d+)\.txt$/.exec(path);
  if (runLog && method === "GET") {
    const reply = serveRunLog(context, runLog[1] ?? "", url.searchParams.get("sig"));
    if (!reply) return writeJson(res, 404, errorBody("Not Found", 404));
    res.writeHead(200, { ...reply.headers });
    res.end(String(reply.body));
    return;
  }

  const found = findRoute(method, path);
  const body = await readBody(req);
  if (!found || found === "method") return writeJson(res, 404, errorBody("Not Found", 404), baseHeaders(context));
  if (body === "too-large") return writeJson(res, 413, errorBody("Payload too large", 413));
  let parsed: Record<string, unknown> = {};
  if (body.length > 0) {
    try {
      const value: unknown = JSON.parse(body.toString("utf8"));
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not an object");
      parsed = value as Record<string, unknown>;
    } catch {
      return writeJson(res, 400, errorBody("Problems parsing JSON", 400), baseHeaders(context));
    }
  }

  const auth = authenticate(context.state, req.headers.authorization, context.now());
  if (!auth.ok) return writeJson(res, 401, errorBody(auth.message, 401), baseHeaders(context));
  const identity = auth.identity;
  const reply: Reply = await found.route.handle(context, {
    params: found.params,
    query: url.searchParams,
    body: parsed,
    identity,
  });
  const headers: Record<string, string> = { ...baseHeaders(context), ...reply.headers };
  if (found.route.accepted) headers["x-accepted-github-permissions"] = found.route.accepted;
  if (identity.kind === "token" && identity.token.kind === "classic") {
    // GitHub tells a classic token its scopes on every answer; preflight reads them here.
    headers["x-oauth-scopes"] = identity.token.scopes.join(", ");
    headers["x-accepted-oauth-scopes"] = "repo";
  }
  if (identity.kind === "token" && identity.token.expiresAt !== undefined && identity.token.kind === "fine-grained") {
    headers["github-authentication-token-expiration"] = new Date(identity.token.expiresAt).toISOString();
  }
  writeJson(res, reply.status, reply.body, headers);
}

function requestId(): string {
  return randomBytes(8).toString("hex").toUpperCase();
}

function baseHeaders(context: DoubleContext): Record<string, string> {
  return {
    "x-github-media-type": "github.v3; format=json",
    "x-github-api-version-selected": "2022-11-28",
    "x-github-request-id": requestId(),
    "x-ratelimit-limit": "5000",
    "x-ratelimit-remaining": "4999",
    "x-ratelimit-used": "1",
    "x-ratelimit-reset": String(Math.floor(context.now() / 1000) + 3600),
    "x-ratelimit-resource": "core",
  };
}

function createControl(context: DoubleContext, waiters: Set<() => void>): GitHubDoubleControl {
  const { state, settings } = context;
  return {
    addAccount(spec) {
      const account: DoubleAccount = {
        login: spec.login,
        id: context.nextId(),
        type: spec.type ?? "User",
        members: spec.members ?? [],
      };
      state.accounts.set(spec.login.toLowerCase(), account);
      return account;
    },
    issuePersonalToken(spec) {
      const classic = "scopes" in spec;
      const value = spec.token ?? (classic ? randomToken("ghp_", 36) : randomToken("github_pat_", 82));
      const token: DoubleToken = {
        token: value,
        kind: classic ? "classic" : "fine-grained",
        login: spec.login,
        scopes: classic ? [...spec.scopes] : [],
        permissions: classic ? permissionsFromScopes(spec.scopes) : { metadata: "read", ...spec.permissions },
        account: classic ? undefined : (spec.account ?? spec.login),
        installationId: undefined,
        issuedAt: context.now(),
        expiresAt: spec.expiresAt,
        revoked: false,
      };
      state.tokens.set(value, token);
      return value;
    },
    expireToken(value) {
      const token = state.tokens.get(value);
      if (token) token.expiresAt = context.now();
    },
    expireInstallationTokens() {
      for (const token of state.tokens.values()) {
        if (token.kind === "installation") token.expiresAt = context.now();
      }
    },
    setInstallationTokenLifetime(ms) {
      settings.installationTokenLifetimeMs = ms;
    },
    setPagesBuildDelay(ms) {
      settings.pagesBuildDelayMs = ms;
    },
    failNextPagesBuilds(count, message) {
      settings.pagesBuildsToFail = count;
      if (message) settings.pagesBuildErrorMessage = message;
    },
    setActionsDelay(ms) {
      settings.actionsDelayMs = ms;
    },
    queueActionsOutcome(outcome) {
      settings.actionsOutcomes.push(outcome);
    },
    setActionsDefaultOutcome(outcome) {
      settings.actionsDefaultOutcome = outcome;
    },
    injectFault(spec) {
      const rule = faultRule(spec);
      settings.faults.push(rule);
      return rule;
    },
    async seedRepository(spec) {
      const created = await createRepository(context, {
        owner: spec.owner,
        name: spec.name,
        description: spec.description,
        private: spec.private ?? false,
        files: spec.files ?? { "README.md": `# ${spec.name}\n\nSomebody else's project.\n` },
        seeded: true,
      });
      if (!created.ok) throw new Error(`cannot seed ${spec.owner}/${spec.name}: ${JSON.stringify(created.error.body)}`);
      return created.repository;
    },
    repository(owner, name) {
      return state.repositories.get(repositoryKey(owner, name));
    },
    requestsTo(path, method) {
      return state.requests.filter((request) => {
        if (request.listener !== "api" || (method && request.method !== method)) return false;
        const pathname = request.url.split("?")[0] ?? "";
        return typeof path === "string" ? pathname === path : path.test(pathname);
      });
    },
    waitFor<T>(check: () => T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const attempt = (): boolean => {
          const value = check();
          if (value) {
            cleanup();
            resolve(value);
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`github double: condition not met within ${timeoutMs} ms`));
        }, timeoutMs);
        const wake = () => void attempt();
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        waiters.add(wake);
        attempt();
      });
    },
  };
}
