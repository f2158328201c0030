import { createAppAuth } from "@octokit/auth-app";
import { ForgeError } from "../../../domain/errors.ts";
import type { Clock } from "../../../ports/clock.ts";

/** How briefwright proves itself to GitHub: a GitHub App (preferred) or a personal access token. */
export type GitHubAuthSettings =
  | {
      readonly kind: "app";
      readonly appId: string;
      /** PEM text (decoded from GITHUB_PRIVATE_KEY_B64). */
      readonly privateKey: string;
      /** Undefined: found for the owner account at first use. */
      readonly installationId: number | undefined;
    }
  | { readonly kind: "token"; readonly token: string };

/** A request function shaped like Octokit's, used to create installation tokens. */
export type OctokitRequest = Parameters<typeof createAppAuth>[0]["request"];

/**
 * Fresh tokens for REST calls and git. An App's installation token is cached and replaced before
 * it expires (a quarter of its lifetime early, at most five minutes) and at once after a 401, since
 * @octokit/auth-app's own cache keeps tokens for 59 minutes whatever their expiry says.
 */
export interface GitHubCredentials {
  readonly kind: "app" | "token";
  /** The token for REST calls and git pushes. */
  token(): Promise<string>;
  /** Forget the cached token: GitHub answered 401 to it. Returns whether a new one can be had. */
  invalidate(): boolean;
  /** The App's JSON Web Token, for `/app` routes (App only). */
  appJwt(): Promise<string>;
  /** The installation in use (App only); found on first use when not configured. */
  installationId(): Promise<number | undefined>;
}

export interface CredentialsDeps {
  readonly clock: Clock;
  /** Request function for the App's own calls (installation lookup and token creation). */
  readonly request: NonNullable<OctokitRequest>;
  /** Finds the installation for the owner account when none is configured. */
  readonly findInstallation: (jwt: string) => Promise<number>;
}

export function createGitHubCredentials(settings: GitHubAuthSettings, deps: CredentialsDeps): GitHubCredentials {
  if (settings.kind === "token") {
    return {
      kind: "token",
      token: async () => settings.token,
      invalidate: () => false,
      appJwt: async () => {
        throw new ForgeError("a personal access token has no App JSON Web Token", { code: "forge-github-auth" });
      },
      installationId: async () => undefined,
    };
  }
  const appAuth = createAppAuth({ appId: settings.appId, privateKey: settings.privateKey, request: deps.request });
  let installation: Promise<number> | undefined = settings.installationId === undefined ? undefined : Promise.resolve(settings.installationId);
  let cached: { token: string; refreshAt: number } | undefined;
  let pending: Promise<string> | undefined;

  const appJwt = async () => (await appAuth({ type: "app" })).token;
  const installationId = () => {
    installation ??= appJwt().then(deps.findInstallation);
    // A failed lookup is tried again on the next call rather than remembered.
    installation.catch(() => (installation = undefined));
    return installation;
  };

  return {
    kind: "app",
    appJwt,
    installationId,
    async token() {
      if (cached && deps.clock.now() < cached.refreshAt) return cached.token;
      pending ??= (async () => {
        try {
          const id = await installationId();
          const obtainedAt = deps.clock.now();
          // refresh: our cache decides; auth-app's would hand back a token past its expiry.
          const auth = await appAuth({ type: "installation", installationId: id, refresh: true });
          const expiresAt = Date.parse(auth.expiresAt);
          const lifetime = Number.isFinite(expiresAt) ? Math.max(0, expiresAt - obtainedAt) : 60 * 60 * 1000;
          cached = { token: auth.token, refreshAt: obtainedAt + lifetime - Math.min(5 * 60 * 1000, lifetime / 4) };
          return auth.token;
        } finally {
          pending = undefined;
        }
      })();
      return pending;
    },
    invalidate() {
      cached = undefined;
      return true;
    },
  };
}
