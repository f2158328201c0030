/**
 * Everything the GitHub double knows, kept in plain objects so a test can read what happened
 * (requests, tokens, repositories, pushes, Pages builds, workflow runs) without an API of its own.
 */
import type { KeyObject } from "node:crypto";

/** GitHub's permission levels for Apps and fine-grained tokens. */
export type PermissionLevel = "read" | "write" | "admin";
/** e.g. `{ contents: "write", pages: "write", workflows: "write", administration: "write" }`. */
export type Permissions = Readonly<Record<string, PermissionLevel>>;

export interface DoubleAccount {
  readonly login: string;
  readonly id: number;
  readonly type: "User" | "Organization";
  /** For an organisation: users whose classic tokens may create and write its repositories. */
  readonly members: readonly string[];
}

export type TokenKind = "classic" | "fine-grained" | "installation";

export interface DoubleToken {
  readonly token: string;
  readonly kind: TokenKind;
  /** The user a personal token belongs to; undefined for installation tokens. */
  readonly login: string | undefined;
  /** Classic tokens only: what `x-oauth-scopes` answers. */
  readonly scopes: readonly string[];
  /** Installation and fine-grained tokens: what they may do (classic: derived from scopes). */
  readonly permissions: Permissions;
  /** Installation tokens and fine-grained tokens: the one account whose repositories they reach. */
  readonly account: string | undefined;
  readonly installationId: number | undefined;
  readonly issuedAt: number;
  /** Epoch ms; a request after it answers 401 Bad credentials. */
  expiresAt: number | undefined;
  revoked: boolean;
}

export interface DoubleInstallation {
  readonly id: number;
  readonly account: string;
  readonly permissions: Permissions;
}

export interface DoubleApp {
  readonly id: number;
  readonly slug: string;
  readonly name: string;
  readonly publicKey: KeyObject;
  readonly owner: string;
  readonly installations: DoubleInstallation[];
}

export type PagesSiteStatus = null | "building" | "built" | "errored";

export interface DoublePagesSite {
  buildType: "legacy" | "workflow";
  source: { branch: string; path: "/" | "/docs" };
  status: PagesSiteStatus;
  /** The commit the Pages host serves; undefined until a build or deployment succeeds. */
  publishedSha: string | undefined;
  /** Directory inside that commit served as the site root ("" for the whole tree). */
  publishedRoot: string;
  readonly createdAt: string;
}

export interface DoubleRepository {
  readonly id: number;
  readonly owner: string;
  name: string;
  private: boolean;
  description: string | null;
  homepage: string | null;
  defaultBranch: string;
  readonly createdAt: string;
  updatedAt: string;
  pushedAt: string | null;
  /** The bare repository on disk. */
  readonly directory: string;
  /** Seeded by the test as someone else's repository (not created through the API). */
  readonly seeded: boolean;
  pages: DoublePagesSite | undefined;
}

export type PagesBuildStatus = "queued" | "building" | "built" | "errored";

export interface DoublePagesBuild {
  readonly id: number;
  readonly repository: string;
  readonly commit: string;
  status: PagesBuildStatus;
  error: string | null;
  readonly pusher: string;
  readonly createdAt: string;
  updatedAt: string;
  duration: number;
}

export interface DoubleWorkflowRun {
  readonly id: number;
  readonly repository: string;
  readonly name: string;
  /** `.github/workflows/<file>` */
  readonly path: string;
  readonly headSha: string;
  readonly headBranch: string;
  readonly event: "push";
  status: "queued" | "in_progress" | "completed";
  conclusion: null | "success" | "failure";
  /** Whether the workflow calls `actions/deploy-pages`. */
  readonly deploysPages: boolean;
  /** `path:` given to `actions/upload-pages-artifact`, relative to the tree root ("" = the whole tree). */
  readonly uploadPath: string;
  log: string;
  readonly createdAt: string;
  updatedAt: string;
  readonly runNumber: number;
}

export interface DoublePush {
  readonly repository: string;
  readonly ref: string;
  readonly before: string;
  readonly after: string;
  readonly tokenKind: TokenKind;
  readonly pusher: string;
  readonly at: string;
}

export interface DoubleRequest {
  readonly listener: "api" | "pages";
  readonly method: string;
  /** Path and query as sent. */
  readonly url: string;
  /** The Authorization header as received (tests check what a client sent). */
  readonly authorization: string | undefined;
  status: number;
  readonly at: number;
}

/** A JWT the double accepted or refused, decoded (never the signature). */
export interface DoubleJwtSeen {
  readonly iss: unknown;
  readonly iat: unknown;
  readonly exp: unknown;
  readonly accepted: boolean;
  readonly reason: string | undefined;
}

export interface DoubleState {
  readonly accounts: Map<string, DoubleAccount>;
  /** Keyed by the token string. */
  readonly tokens: Map<string, DoubleToken>;
  app: DoubleApp | undefined;
  /** Keyed by lower-cased `owner/name`. */
  readonly repositories: Map<string, DoubleRepository>;
  readonly pagesBuilds: DoublePagesBuild[];
  readonly workflowRuns: DoubleWorkflowRun[];
  readonly pushes: DoublePush[];
  readonly requests: DoubleRequest[];
  readonly jwts: DoubleJwtSeen[];
  /** Installation tokens in the order they were issued. */
  readonly installationTokensIssued: DoubleToken[];
}

export function createDoubleState(): DoubleState {
  return {
    accounts: new Map(),
    tokens: new Map(),
    app: undefined,
    repositories: new Map(),
    pagesBuilds: [],
    workflowRuns: [],
    pushes: [],
    requests: [],
    jwts: [],
    installationTokensIssued: [],
  };
}

export function repositoryKey(owner: string, name: string): string {
  return `${owner}/${name}`.toLowerCase();
}

export function findAccount(state: DoubleState, login: string): DoubleAccount | undefined {
  return state.accounts.get(login.toLowerCase());
}

export function fullName(repository: DoubleRepository): string {
  return `${repository.owner}/${repository.name}`;
}
