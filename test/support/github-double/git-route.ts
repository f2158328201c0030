/**
 * Git smart HTTP at each repository's `clone_url` (`/{owner}/{repo}.git/…`), served by git's own
 * `http-backend`. Like GitHub: public repositories clone without credentials; a push needs a valid
 * token (Basic `x-access-token:<token>`, what `http.extraHeader` carries) with contents:write, and
 * one that touches `.github/workflows/` also needs the workflows permission (`workflow` scope).
 * After a push the double records it, starts a Pages build for the Pages branch and workflow runs.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname, basename } from "node:path";
import { gitHttpBackendPath, runGitHttpBackend } from "../../../src/adapters/forge/git-http-handler.ts";
import type { Identity } from "./double-auth.ts";
import { authenticate, hasPermission, repositoryAccess } from "./double-auth.ts";
import type { DoubleContext } from "./double-context.ts";
import { isoTime } from "./double-context.ts";
import { listBranches, readWorkflowFiles, setHeadBranch, WORKFLOWS_DENIED_ENV, WORKFLOWS_MISSING_ENV } from "./double-git.ts";
import type { DoubleRepository } from "./double-state.ts";
import { fullName, repositoryKey } from "./double-state.ts";
import { startPagesBuild } from "./pages-builds.ts";
import { startWorkflowRun, workflowFacts } from "./workflow-runs.ts";

const GIT_PATH = /^\/([^/]+)\/([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack)$/;

export function matchGitPath(path: string): { owner: string; name: string; service: string } | undefined {
  const match = GIT_PATH.exec(path);
  if (!match) return undefined;
  const [, owner = "", name = "", service = ""] = match;
  return { owner: decodeURIComponent(owner), name: decodeURIComponent(name), service };
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers });
  res.end(body);
}

/** Who pushes, in the words of GitHub's workflow refusal. */
function workflowsRefusal(identity: Identity): { deniedTo: string; missing: string } | undefined {
  if (identity.kind !== "token") return undefined;
  const token = identity.token;
  if (token.kind === "classic") {
    return token.scopes.includes("workflow") ? undefined : { deniedTo: "a Personal Access Token", missing: "`workflow` scope" };
  }
  if (hasPermission(token.permissions, "workflows", "write")) return undefined;
  return token.kind === "installation"
    ? { deniedTo: "a GitHub App", missing: "`workflows` permission" }
    : { deniedTo: "a Personal Access Token", missing: "`workflows` permission" };
}

function pusherName(identity: Identity, context: DoubleContext): string {
  if (identity.kind !== "token") return "unknown";
  if (identity.token.login) return identity.token.login;
  const app = context.state.app;
  return app ? `${app.slug}[bot]` : "github-app[bot]";
}

export function createGitRoute(context: DoubleContext) {
  let backend: Promise<string> | undefined;
  /** One push per repository at a time, so before/after ref snapshots belong to one push. */
  const pushQueues = new Map<number, Promise<void>>();

  return async function serveGit(
    req: IncomingMessage,
    res: ServerResponse,
    target: { owner: string; name: string; service: string },
    query: string,
  ): Promise<void> {
    const repository = context.state.repositories.get(repositoryKey(target.owner, target.name));
    const auth = authenticate(context.state, req.headers.authorization, context.now());
    const challenge = { "www-authenticate": 'Basic realm="GitHub"' };
    if (!auth.ok) {
      return text(res, 401, "Invalid username or token. Password authentication is not supported for Git operations.\n", challenge);
    }
    const identity = auth.identity;
    const service = new URLSearchParams(query).get("service");
    const isPush = target.service === "git-receive-pack" || service === "git-receive-pack";
    if (!repository) return text(res, 404, "Repository not found.\n");
    const access = repositoryAccess(context.state, identity, repository, "contents", isPush ? "write" : "read");
    if (access !== "permitted") {
      if (identity.kind === "anonymous") return text(res, 401, "Authentication required.\n", challenge);
      if (access === "none") return text(res, 404, "Repository not found.\n");
      return text(res, 403, `Permission to ${fullName(repository)}.git denied to ${pusherName(identity, context)}.\n`);
    }

    backend ??= gitHttpBackendPath(context.dataDir);
    const refusal = isPush ? workflowsRefusal(identity) : undefined;
    const request = {
      projectRoot: dirname(repository.directory),
      pathInfo: `/${basename(repository.directory)}/${target.service}`,
      query,
      timeoutMs: 120_000,
      backendPath: await backend,
      extraEnvironment: {
        // Without REMOTE_USER, http-backend refuses receive-pack to anonymous clients.
        REMOTE_USER: pusherName(identity, context),
        [WORKFLOWS_DENIED_ENV]: refusal?.deniedTo ?? "",
        [WORKFLOWS_MISSING_ENV]: refusal?.missing ?? "",
      },
    };
    if (!(isPush && req.method === "POST")) {
      await runGitHttpBackend(req, res, request);
      return;
    }
    const previous = pushQueues.get(repository.id) ?? Promise.resolve();
    const current = previous.then(async () => {
      const before = await listBranches(repository.directory, context.dataDir);
      // The answer's last bytes wait until the push is recorded and its builds and runs exist, so
      // a test (or client) that looks right after `git push` returns sees them.
      const end = res.end.bind(res);
      let heldEnd: unknown[] | undefined;
      res.end = ((...args: unknown[]) => {
        heldEnd = args;
        return res;
      }) as typeof res.end;
      try {
        await runGitHttpBackend(req, res, request);
        const after = await listBranches(repository.directory, context.dataDir);
        await afterPush(context, repository, identity, before, after);
      } finally {
        res.end = end;
        if (heldEnd) (end as (...args: unknown[]) => void)(...heldEnd);
      }
    });
    pushQueues.set(
      repository.id,
      current.catch(() => undefined),
    );
    await current;
  };
}

async function afterPush(
  context: DoubleContext,
  repository: DoubleRepository,
  identity: Identity,
  before: Map<string, string>,
  after: Map<string, string>,
): Promise<void> {
  const zero = "0".repeat(40);
  const pusher = pusherName(identity, context);
  const tokenKind = identity.kind === "token" ? identity.token.kind : "classic";
  const at = isoTime(context.now());
  const updated = [...after].filter(([branch, sha]) => before.get(branch) !== sha);
  for (const [branch] of before) {
    if (!after.has(branch)) {
      context.state.pushes.push({ repository: fullName(repository), ref: `refs/heads/${branch}`, before: before.get(branch) ?? zero, after: zero, tokenKind, pusher, at });
    }
  }
  if (updated.length === 0) {
    context.changed();
    return;
  }
  repository.pushedAt = at;
  // A first push into an empty repository makes its branch the default one, as on GitHub.
  if (before.size === 0 && !after.has(repository.defaultBranch)) {
    const [first] = updated;
    if (first) {
      repository.defaultBranch = first[0];
      await setHeadBranch(repository.directory, first[0], context.dataDir);
    }
  }
  for (const [branch, sha] of updated) {
    context.state.pushes.push({
      repository: fullName(repository),
      ref: `refs/heads/${branch}`,
      before: before.get(branch) ?? zero,
      after: sha,
      tokenKind,
      pusher,
      at,
    });
    const site = repository.pages;
    if (site && site.buildType === "legacy" && site.source.branch === branch) {
      startPagesBuild(context, repository, sha, pusher);
    }
    const workflows = await readWorkflowFiles(repository.directory, sha, context.dataDir);
    for (const [path, text] of workflows) {
      if (workflowFacts(text).runsOnPush) startWorkflowRun(context, repository, path, text, sha, branch);
    }
  }
  context.changed();
}
