import { Octokit } from "@octokit/rest";
import { retry, handleWhen, ConstantBackoff } from "cockatiel";
import type { Clock } from "../../../ports/clock.ts";
import { createGitHubCredentials, type GitHubAuthSettings, type GitHubCredentials } from "./github-credentials.ts";
import { statusOf } from "./github-http-error.ts";
import { retryDecision, type RetryDelayPolicy } from "./github-retry-delay.ts";

export interface GitHubClientSettings {
  /** REST API root without a trailing slash, e.g. `https://api.github.com`. */
  readonly apiUrl: string;
  readonly auth: GitHubAuthSettings;
  /** The account repositories live under; used to find an App's installation. */
  readonly owner: string;
  readonly clock: Clock;
  /** Extra attempts after the first for rate limits, 5xx and network failures. Default 4. */
  readonly retries?: number;
  readonly retryPolicy?: Partial<RetryDelayPolicy>;
  /** Told about each retry (no secrets in it). */
  readonly onRetry?: (info: { route: string; status: number | undefined; delayMs: number; source: string; attempt: number }) => void;
  readonly fetch?: typeof fetch;
  readonly userAgent?: string;
}

export interface GitHubClient {
  readonly octokit: Octokit;
  readonly credentials: GitHubCredentials;
}

/** Routes GitHub answers only for the App itself (JWT), not for an installation token. */
const APP_ROUTE = /^\/(?:app(?:\/|$)|users\/[^/]+\/installation$|orgs\/[^/]+\/installation$|repos\/[^/]+\/[^/]+\/installation$)/;

/**
 * An Octokit whose every request carries the right credential (App JWT for `/app` routes, else
 * the installation token or the personal token), is retried through cockatiel — the resilience
 * library the LLM calls use — as GitHub's headers ask (`retry-after`, `x-ratelimit-reset`; 5xx and
 * network failures back off), with waits on the Clock port, and is sent once more with a fresh
 * installation token after a 401.
 */
export function createGitHubClient(settings: GitHubClientSettings): GitHubClient {
  const policy: RetryDelayPolicy = { backoffBaseMs: 1000, backoffMaxMs: 16_000, maxWaitMs: 60_000, ...settings.retryPolicy };
  const octokit = new Octokit({
    baseUrl: settings.apiUrl,
    userAgent: settings.userAgent ?? "briefwright",
    request: settings.fetch ? { fetch: settings.fetch } : {},
    // Octokit logs request failures at warn/error itself; ours go through events and the service log.
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });

  const credentials = createGitHubCredentials(settings.auth, {
    clock: settings.clock,
    request: octokit.request,
    findInstallation: async (jwt) => {
      const headers = { authorization: `bearer ${jwt}` };
      try {
        const { data } = await octokit.request("GET /users/{username}/installation", { username: settings.owner, headers });
        return data.id;
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
        const { data } = await octokit.request("GET /orgs/{org}/installation", { org: settings.owner, headers });
        return data.id;
      }
    },
  });

  octokit.hook.wrap("request", async (send, options) => {
    const route = `${options.method} ${options.url}`;
    const explicit = (options.headers as Record<string, unknown>).authorization !== undefined;
    const appRoute = APP_ROUTE.test(options.url.split("?")[0] ?? "");
    // Mutated in place: before-after-hook binds the original options into every inner hook, so
    // options passed on to `send` would be dropped by the next wrap (Octokit's request log).
    const authorize = async () => {
      if (explicit) return options;
      options.headers.authorization = appRoute ? `bearer ${await credentials.appJwt()}` : `token ${await credentials.token()}`;
      return options;
    };
    const withRetries = () => sendWithRetries(() => authorize().then(send), route, settings, policy);
    try {
      return await withRetries();
    } catch (error) {
      // An installation token GitHub no longer accepts (expired early, revoked): one more try with a new one.
      if (statusOf(error) === 401 && !explicit && !appRoute && credentials.invalidate()) return withRetries();
      throw error;
    }
  });

  return { octokit, credentials };
}

/** cockatiel's retry, with the delay GitHub asked for slept on the Clock before the next attempt. */
async function sendWithRetries<T>(attempt: () => Promise<T>, route: string, settings: GitHubClientSettings, policy: RetryDelayPolicy): Promise<T> {
  let pendingDelay = 0;
  let attempts = 0;
  const policyRetry = retry(
    handleWhen((error) => {
      const decision = retryDecision(error, attempts, settings.clock.now(), policy);
      if (!decision.retry) return false;
      pendingDelay = decision.delayMs;
      settings.onRetry?.({ route, status: statusOf(error), delayMs: decision.delayMs, source: decision.source, attempt: attempts });
      return true;
    }),
    // The wait is ours (on the Clock, so tests use fake time); cockatiel only counts and decides.
    { maxAttempts: settings.retries ?? 4, backoff: new ConstantBackoff(0) },
  );
  return policyRetry.execute(async () => {
    if (pendingDelay > 0) {
      const delay = pendingDelay;
      pendingDelay = 0;
      await settings.clock.sleep(delay);
    }
    attempts++;
    return attempt();
  });
}
