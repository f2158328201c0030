import type { FileTree } from "../domain/files.ts";

/**
 * The forge port, version 2: repositories, commits and Pages. Adapters: the local forge (bare
 * repositories served by briefwright itself) and GitHub (`forge/github`).
 *
 * Version 2 over 1: capability flags instead of `kind` checks, a preflight, a repository
 * description, Pages by build type, and `pagesStatus`, a short poll step that says what state a
 * commit's Pages build is in (never a loop that blocks until it is live), so a scheduler can turn
 * the wait into a timer that holds no worker.
 */
export interface Forge {
  /** Adapter name for records and health output, e.g. `local`, `github`. Never branch on it: use `capabilities`. */
  readonly kind: string;

  /** The port version this adapter implements. */
  readonly version: 2;

  /** What this adapter can do; the pipeline branches on these, never on `kind`. */
  readonly capabilities: ForgeCapabilities;

  /**
   * Who the credentials are and what they may do, checked against the forge (a few cheap calls).
   * Never throws for a missing permission or bad credentials: those are answers, in `problems`.
   */
  preflight(): Promise<ForgePreflight>;

  /**
   * Creates the public repository if it does not exist (idempotent) and returns its addresses.
   * `name` is already sanitised and unique per task. When `capabilities.mayRenameRepositories`,
   * a name held by something that is not ours yields a suffixed name: the caller must use and
   * record `RepositoryRef.name` from then on.
   */
  ensureRepository(name: string, options?: EnsureRepositoryOptions): Promise<RepositoryRef>;

  /** The files at the tip of the default branch, or undefined if the repository has no commit yet. */
  readFiles(name: string): Promise<{ files: FileTree; commitSha: string } | undefined>;

  /**
   * Makes `files` the complete tree of a new commit on the default branch (files absent from
   * `files` are deleted) and publishes it. Idempotent on `idempotencyKey`: if the branch already
   * has a commit carrying that key (a retried deploy after a crash), that commit is returned
   * with `created: false` and nothing new is written.
   */
  commitFiles(name: string, commit: CommitRequest): Promise<CommitResult>;

  /**
   * Turns on Pages for the default branch (idempotent: "already enabled" is success) with the
   * given build type, switching an enabled site's build type when it differs. A build type not in
   * `capabilities.pagesBuildTypes` is a ForgeError (`forge-unsupported`).
   */
  enablePages(name: string, options?: EnablePagesOptions): Promise<void>;

  /**
   * One poll step: the state of the Pages build of `commitSha`, from a few quick calls. It may
   * nudge the forge (request an errored build again) but never waits for it; call it again after
   * `retryAfterMs` while it says `building`.
   */
  pagesStatus(name: string, commitSha: string): Promise<PagesStatus>;
}

export interface ForgeCapabilities {
  /** Build types `enablePages` accepts; the first is the default. */
  readonly pagesBuildTypes: readonly PagesBuildType[];
  /** Whether `ensureRepository` may answer with another name than asked (name taken by someone else). */
  readonly mayRenameRepositories: boolean;
  /** Whether a built site reaches its host only after a propagation delay, so the URL must be polled. */
  readonly pagesPropagates: boolean;
  /** Whether pushed `.github/workflows` files run (and a commit's runs can be waited for). */
  readonly runsWorkflows: boolean;
}

/**
 * `legacy`: the forge builds the default branch's root and publishes it. `workflow`: a workflow
 * in the commit (one using `actions/deploy-pages`) publishes the site.
 */
export type PagesBuildType = "legacy" | "workflow";

export interface EnablePagesOptions {
  /** Default: `legacy`. */
  readonly buildType?: PagesBuildType;
}

export interface EnsureRepositoryOptions {
  /** Shown on the repository page; adapters strip control characters and cut it to the forge's limit. */
  readonly description?: string;
}

export interface RepositoryRef {
  readonly name: string;
  /** Where people (and `git clone`) find it; reported as `repo_url`. */
  readonly repoUrl: string;
  /** The Pages site, ending in `/`; reported as `pages_url`. */
  readonly pagesUrl: string;
  readonly defaultBranch: string;
}

export interface CommitRequest {
  readonly files: FileTree;
  readonly message: string;
  readonly idempotencyKey: string;
  readonly author: { readonly name: string; readonly email: string };
}

export interface CommitResult {
  readonly commitSha: string;
  readonly created: boolean;
}

/** A workflow run of the commit, as the forge reports it (GitHub Actions). */
export interface WorkflowRun {
  readonly id: number;
  readonly name: string;
  /** `queued`, `in_progress`, `completed` … */
  readonly status: string;
  /** Once completed: `success`, `failure`, `cancelled` …; else null. */
  readonly conclusion: string | null;
  readonly htmlUrl: string;
  readonly logsUrl: string;
}

/**
 * Where a commit's Pages build stands. `built`: the forge published this commit (its host may
 * still serve the old one for a while when `capabilities.pagesPropagates`); `failed` is final for
 * this commit (a failed workflow run, a build that kept erroring, Pages off).
 */
export type PagesStatus =
  | { readonly state: "building"; readonly detail: string; readonly retryAfterMs: number; readonly workflowRun?: WorkflowRun }
  | { readonly state: "built"; readonly workflowRun?: WorkflowRun }
  | { readonly state: "failed"; readonly reason: string; readonly workflowRun?: WorkflowRun };

/** What the credentials may do; `unknown` when the forge does not say (e.g. fine-grained tokens). */
export type PermissionAnswer = "yes" | "no" | "unknown";

export interface ForgePreflight {
  /** Whether the forge answered and the credentials were accepted. */
  readonly ok: boolean;
  /** Who the credentials are, e.g. `app my-app (installation 42 on octo)` or `user octo`. */
  readonly identity: string;
  /** The account repositories are created under. */
  readonly owner: string;
  readonly may: {
    readonly createRepositories: PermissionAnswer;
    readonly writeContents: PermissionAnswer;
    readonly managePages: PermissionAnswer;
    readonly writeWorkflows: PermissionAnswer;
  };
  /** One line per problem, each naming the missing permission and where to grant it. Empty when fine. */
  readonly problems: readonly string[];
}
