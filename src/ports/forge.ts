import type { FileTree } from "../domain/files.ts";

/**
 * The forge port, version 1: repositories, commits and Pages. Adapters: the local forge (bare
 * repositories served by briefwright itself) and, later, GitHub.
 */
export interface Forge {
  /** Adapter name for records, e.g. `local`, `github`. */
  readonly kind: string;

  /**
   * Creates the public repository if it does not exist (idempotent) and returns its addresses.
   * `name` is already sanitised and unique per task.
   */
  ensureRepository(name: string): Promise<RepositoryRef>;

  /** The files at the tip of the default branch, or undefined if the repository has no commit yet. */
  readFiles(name: string): Promise<{ files: FileTree; commitSha: string } | undefined>;

  /**
   * Makes `files` the complete tree of a new commit on the default branch (files absent from
   * `files` are deleted) and publishes it. Idempotent on `idempotencyKey`: if the branch already
   * has a commit carrying that key (a retried deploy after a crash), that commit is returned
   * with `created: false` and nothing new is written.
   */
  commitFiles(name: string, commit: CommitRequest): Promise<CommitResult>;

  /** Turns on Pages for the default branch (idempotent). */
  enablePages(name: string): Promise<void>;

  /**
   * Whether the Pages site serves `commitSha` yet. Adapters answer from the live site where they
   * can (GitHub: the build status and a request to the page).
   */
  pagesServes(name: string, commitSha: string): Promise<boolean>;
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
