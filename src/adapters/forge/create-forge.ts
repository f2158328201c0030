import { join } from "node:path";
import type { Config } from "../../config.ts";
import type { Clock } from "../../ports/clock.ts";
import type { Forge, ForgePreflight } from "../../ports/forge.ts";
import { createGitHubForge, type GitHubForgeSettings } from "./github/github-forge.ts";
import { createLocalForge } from "./local-forge.ts";

export interface ForgeDeps {
  /** Where the local forge keeps its bare repositories (its git and Pages hosts serve them). */
  readonly reposDir: string;
  /** Base URL of the local forge's Pages listener (its own origin, never the API's). */
  readonly pagesPublicUrl?: string;
  readonly clock: Clock;
  readonly onRetry?: GitHubForgeSettings["onRetry"];
  readonly fetch?: typeof fetch;
}

/** The forge `FORGE` names, built from the config. */
export function createForge(config: Config, deps: ForgeDeps): Forge {
  if (config.forge.kind === "local") return createLocalForge({ reposDir: deps.reposDir, publicUrl: config.publicUrl, ...(deps.pagesPublicUrl ? { pagesPublicUrl: deps.pagesPublicUrl } : {}), clock: deps.clock });
  const github = config.forge.github;
  return createGitHubForge({
    apiUrl: github.apiUrl,
    ...(github.pagesBase ? { pagesBase: github.pagesBase } : {}),
    owner: github.owner,
    auth: github.auth,
    mirrorsDir: join(config.dataDir, "github-mirrors"),
    clock: deps.clock,
    ...(deps.onRetry ? { onRetry: deps.onRetry } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
}

/** The forge's credentials, for the secret scan of everything the pipeline commits. */
export function forgeSecrets(config: Config): string[] {
  if (config.forge.kind !== "github") return [];
  const auth = config.forge.github.auth;
  if (auth.kind === "token") return [auth.token];
  // The PEM's body lines are what could leak; any one long line of it is enough to recognise.
  return auth.privateKey
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length >= 40 && !line.startsWith("-----"));
}

/** How long `/health` reuses a preflight: it costs GitHub calls and permissions rarely change. */
const preflightTtlMs = 60_000;

/** The forge's preflight, asked at most once a minute (and once at a time). */
export function createPreflightCache(forge: Forge, clock: Clock): { get(): Promise<ForgePreflight> } {
  let cached: { at: number; result: Promise<ForgePreflight> } | undefined;
  return {
    get() {
      if (!cached || clock.now() - cached.at > preflightTtlMs) cached = { at: clock.now(), result: forge.preflight() };
      return cached.result;
    },
  };
}
