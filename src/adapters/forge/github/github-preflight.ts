import type { Octokit } from "@octokit/rest";
import type { ForgePreflight, PermissionAnswer } from "../../../ports/forge.ts";
import type { GitHubAuthSettings, GitHubCredentials } from "./github-credentials.ts";
import { gitHubMessage, statusOf } from "./github-http-error.ts";

export interface PreflightDeps {
  readonly octokit: Octokit;
  readonly credentials: GitHubCredentials;
  readonly owner: string;
  readonly auth: GitHubAuthSettings;
}

type Abilities = ForgePreflight["may"];
type MutableAbilities = { -readonly [K in keyof Abilities]: PermissionAnswer };

/** What each ability needs, by kind of credential, for the one-line problem reports. */
const needs: Record<keyof Abilities, { app: string; classic: string; purpose: string }> = {
  createRepositories: { app: "Administration: read and write", classic: "repo (or public_repo)", purpose: "create the task repositories" },
  writeContents: { app: "Contents: read and write", classic: "repo (or public_repo)", purpose: "push commits" },
  managePages: { app: "Pages: read and write", classic: "repo (or public_repo)", purpose: "enable and build GitHub Pages" },
  writeWorkflows: { app: "Workflows: read and write", classic: "workflow", purpose: "push .github/workflows files (tasks that add a GitHub Actions workflow)" },
};

/**
 * Who the credentials are and what they may do, from GitHub itself: an App's installation
 * permissions, or a classic token's `x-oauth-scopes`. Fine-grained tokens do not reveal their
 * permissions, so their answers are `unknown`. Every failure becomes a problem line, never a throw.
 */
export async function runGitHubPreflight(deps: PreflightDeps): Promise<ForgePreflight> {
  try {
    return deps.auth.kind === "app" ? await appPreflight(deps) : await tokenPreflight(deps);
  } catch (error) {
    const who = deps.auth.kind === "app" ? "the GitHub App (GITHUB_APP_ID, GITHUB_PRIVATE_KEY_B64)" : "GITHUB_TOKEN";
    const status = statusOf(error);
    const why = status === 401 ? "GitHub refused the credentials (401 Bad credentials)" : `GitHub did not answer the preflight (${status ? `HTTP ${status}: ` : ""}${gitHubMessage(error)})`;
    return {
      ok: false,
      identity: deps.auth.kind === "app" ? `GitHub App ${deps.auth.appId}` : "personal access token",
      owner: deps.owner,
      may: { createRepositories: "unknown", writeContents: "unknown", managePages: "unknown", writeWorkflows: "unknown" },
      problems: [`${who}: ${why}`],
    };
  }
}

async function appPreflight(deps: PreflightDeps): Promise<ForgePreflight> {
  const { octokit, credentials, owner } = deps;
  const app = (await octokit.request("GET /app")).data;
  const appName = app?.slug ?? app?.name ?? "app";
  let installationId: number | undefined;
  try {
    installationId = await credentials.installationId();
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
  if (installationId === undefined) {
    return {
      ok: false,
      identity: `GitHub App ${appName}`,
      owner,
      may: { createRepositories: "no", writeContents: "no", managePages: "no", writeWorkflows: "no" },
      problems: [`GitHub App ${appName} is not installed on ${owner} (GITHUB_USERNAME): install it there, or set GITHUB_INSTALLATION_ID`],
    };
  }
  const installation = (await octokit.request("GET /app/installations/{installation_id}", { installation_id: installationId })).data;
  // A token proves the installation answers and carries the permissions it grants right now.
  await credentials.token();
  const permissions = (installation.permissions ?? {}) as Record<string, string | undefined>;
  const account = installation.account && "login" in installation.account ? installation.account.login : owner;
  const accountType = installation.account && "type" in installation.account ? installation.account.type : undefined;
  const write = (name: string): PermissionAnswer => (permissions[name] === "write" || permissions[name] === "admin" ? "yes" : "no");
  const may: MutableAbilities = {
    createRepositories: write("administration"),
    writeContents: write("contents"),
    managePages: write("pages"),
    writeWorkflows: write("workflows"),
  };
  const problems = missing(may, "app", `GitHub App ${appName}`);
  if (accountType === "User") {
    // GitHub lets installation tokens create repositories in organisations only.
    may.createRepositories = "no";
    problems.unshift(
      `GitHub App ${appName} is installed on the personal account ${account}: GitHub lets an App create repositories only in an organisation — install it on an organisation and set GITHUB_USERNAME to it, or use GITHUB_TOKEN`,
    );
  }
  return { ok: problems.length === 0, identity: `GitHub App ${appName} (installation ${installationId} on ${account})`, owner, may, problems };
}

async function tokenPreflight(deps: PreflightDeps): Promise<ForgePreflight> {
  const { octokit, owner } = deps;
  const response = await octokit.rest.users.getAuthenticated();
  const login = response.data.login;
  const scopesHeader = response.headers["x-oauth-scopes"];
  let may: MutableAbilities;
  const problems: string[] = [];
  if (typeof scopesHeader === "string") {
    const scopes = new Set(scopesHeader.split(",").map((scope) => scope.trim()).filter(Boolean));
    const repo: PermissionAnswer = scopes.has("repo") || scopes.has("public_repo") ? "yes" : "no";
    may = { createRepositories: repo, writeContents: repo, managePages: repo, writeWorkflows: scopes.has("workflow") ? "yes" : "no" };
    problems.push(...missing(may, "classic", `GITHUB_TOKEN (user ${login})`));
  } else {
    // Fine-grained tokens send no scopes header and cannot be asked what they may do.
    may = { createRepositories: "unknown", writeContents: "unknown", managePages: "unknown", writeWorkflows: "unknown" };
  }
  if (login.toLowerCase() !== owner.toLowerCase()) {
    const type = await octokit.rest.users.getByUsername({ username: owner }).then(
      ({ data }) => data.type,
      () => undefined,
    );
    if (type !== "Organization") {
      may.createRepositories = "no";
      problems.unshift(`GITHUB_USERNAME (${owner}) is neither the token's user (${login}) nor an organisation: a token creates repositories only for its own user or an organisation it belongs to`);
    }
  }
  const kind = typeof scopesHeader === "string" ? "classic token" : "fine-grained token (permissions not readable)";
  return { ok: problems.length === 0, identity: `user ${login} (${kind})`, owner, may, problems };
}

/** One line per missing ability: what is missing, what it blocks. */
function missing(may: Abilities, kind: "app" | "classic", who: string): string[] {
  const lines: string[] = [];
  for (const key of Object.keys(needs) as (keyof Abilities)[]) {
    if (may[key] !== "no") continue;
    const need = needs[key];
    lines.push(
      kind === "app"
        ? `${who} lacks the "${need.app}" permission, needed to ${need.purpose}: grant it in the App's settings and accept it on the installation`
        : `${who} lacks the "${need.classic}" scope, needed to ${need.purpose}: make a token with it (fine-grained: ${need.app})`,
    );
  }
  return lines;
}
