/**
 * The JSON GitHub answers with, built from the double's state (field names as in the REST docs).
 */
import type { DoubleContext } from "./double-context.ts";
import type {
  DoubleAccount,
  DoubleApp,
  DoubleInstallation,
  DoublePagesBuild,
  DoubleRepository,
  DoubleState,
  DoubleWorkflowRun,
} from "./double-state.ts";
import { findAccount, fullName } from "./double-state.ts";

export function accountJson(context: DoubleContext, account: DoubleAccount): Record<string, unknown> {
  return {
    login: account.login,
    id: account.id,
    node_id: Buffer.from(`${account.type}:${account.id}`).toString("base64"),
    avatar_url: `https://avatars.githubusercontent.com/u/${account.id}?v=4`,
    url: `${context.apiUrl}/users/${account.login}`,
    html_url: `https://github.com/${account.login}`,
    type: account.type,
    site_admin: false,
  };
}

/** A login the double does not know still gets an owner object (e.g. a seeded repository's). */
export function ownerJson(context: DoubleContext, state: DoubleState, login: string): Record<string, unknown> {
  const account = findAccount(state, login) ?? { login, id: 0, type: "User" as const, members: [] };
  return accountJson(context, account);
}

export function repositoryJson(
  context: DoubleContext,
  repository: DoubleRepository,
  permissions?: { admin: boolean; push: boolean; pull: boolean },
): Record<string, unknown> {
  const name = fullName(repository);
  return {
    id: repository.id,
    node_id: Buffer.from(`Repository:${repository.id}`).toString("base64"),
    name: repository.name,
    full_name: name,
    owner: ownerJson(context, context.state, repository.owner),
    private: repository.private,
    visibility: repository.private ? "private" : "public",
    html_url: `https://github.com/${name}`,
    description: repository.description,
    fork: false,
    url: `${context.apiUrl}/repos/${name}`,
    clone_url: `${context.apiUrl}/${name}.git`,
    git_url: `git://github.com/${name}.git`,
    ssh_url: `git@github.com:${name}.git`,
    svn_url: `https://github.com/${name}`,
    homepage: repository.homepage,
    size: 0,
    default_branch: repository.defaultBranch,
    created_at: repository.createdAt,
    updated_at: repository.updatedAt,
    pushed_at: repository.pushedAt,
    has_pages: repository.pages !== undefined,
    has_issues: true,
    archived: false,
    disabled: false,
    ...(permissions
      ? { permissions: { ...permissions, maintain: permissions.admin, triage: permissions.push } }
      : {}),
  };
}

export function pagesHtmlUrl(repository: DoubleRepository): string {
  return `https://${repository.owner.toLowerCase()}.github.io/${repository.name}/`;
}

export function pagesJson(context: DoubleContext, repository: DoubleRepository): Record<string, unknown> {
  const site = repository.pages;
  if (!site) throw new Error("pagesJson called for a repository without Pages");
  return {
    url: `${context.apiUrl}/repos/${fullName(repository)}/pages`,
    status: site.status,
    cname: null,
    custom_404: false,
    html_url: pagesHtmlUrl(repository),
    build_type: site.buildType,
    source: { branch: site.source.branch, path: site.source.path },
    public: true,
    https_enforced: true,
    protected_domain_state: null,
    pending_domain_unverified_at: null,
  };
}

export function pagesBuildJson(context: DoubleContext, build: DoublePagesBuild): Record<string, unknown> {
  return {
    url: `${context.apiUrl}/repos/${build.repository}/pages/builds/${build.id}`,
    status: build.status,
    error: { message: build.error },
    pusher: ownerJson(context, context.state, build.pusher),
    commit: build.commit,
    duration: build.duration,
    created_at: build.createdAt,
    updated_at: build.updatedAt,
  };
}

/** GitHub numbers workflows; the double derives a stable id from the file path. */
function workflowId(path: string): number {
  let hash = 7;
  for (const char of path) hash = (hash * 31 + char.charCodeAt(0)) % 1_000_000_007;
  return hash;
}

export function workflowRunJson(context: DoubleContext, run: DoubleWorkflowRun): Record<string, unknown> {
  const api = `${context.apiUrl}/repos/${run.repository}/actions/runs/${run.id}`;
  const repository = context.state.repositories.get(run.repository.toLowerCase());
  return {
    id: run.id,
    name: run.name,
    node_id: Buffer.from(`WorkflowRun:${run.id}`).toString("base64"),
    head_branch: run.headBranch,
    head_sha: run.headSha,
    path: run.path,
    display_title: run.name,
    run_number: run.runNumber,
    run_attempt: 1,
    event: run.event,
    status: run.status,
    conclusion: run.conclusion,
    workflow_id: workflowId(run.path),
    url: api,
    html_url: `https://github.com/${run.repository}/actions/runs/${run.id}`,
    jobs_url: `${api}/jobs`,
    logs_url: `${api}/logs`,
    workflow_url: `${context.apiUrl}/repos/${run.repository}/actions/workflows/${workflowId(run.path)}`,
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    run_started_at: run.createdAt,
    repository: repository
      ? { id: repository.id, name: repository.name, full_name: fullName(repository) }
      : { full_name: run.repository },
  };
}

export function appJson(context: DoubleContext, app: DoubleApp): Record<string, unknown> {
  const permissions: Record<string, string> = {};
  for (const installation of app.installations) Object.assign(permissions, installation.permissions);
  return {
    id: app.id,
    slug: app.slug,
    node_id: Buffer.from(`App:${app.id}`).toString("base64"),
    name: app.name,
    owner: ownerJson(context, context.state, app.owner),
    description: "",
    external_url: "https://example.invalid",
    html_url: `https://github.com/apps/${app.slug}`,
    created_at: "2025-01-01T00:00:00Z",
    updated_at: "2025-01-01T00:00:00Z",
    permissions,
    events: [],
    installations_count: app.installations.length,
  };
}

export function installationJson(
  context: DoubleContext,
  app: DoubleApp,
  installation: DoubleInstallation,
): Record<string, unknown> {
  const account = ownerJson(context, context.state, installation.account);
  return {
    id: installation.id,
    account,
    repository_selection: "all",
    access_tokens_url: `${context.apiUrl}/app/installations/${installation.id}/access_tokens`,
    repositories_url: `${context.apiUrl}/installation/repositories`,
    html_url: `https://github.com/settings/installations/${installation.id}`,
    app_id: app.id,
    app_slug: app.slug,
    target_id: account.id,
    target_type: account.type,
    permissions: installation.permissions,
    events: [],
    created_at: "2025-01-01T00:00:00Z",
    updated_at: "2025-01-01T00:00:00Z",
    single_file_name: null,
    suspended_at: null,
    suspended_by: null,
  };
}

export const DOCS = "https://docs.github.com/rest";

export function errorBody(message: string, status: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { message, ...extra, documentation_url: DOCS, status: String(status) };
}
