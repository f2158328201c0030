import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { resolve } from "node:path";
import { z } from "zod";
import { ConfigError } from "./domain/errors.ts";
import { parsePriceTable, type PriceTable } from "./domain/price-table.ts";

/**
 * The whole configuration, parsed once from the environment (and an optional `.env`) into a
 * frozen object. Nothing else in the code base reads `process.env`.
 */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly publicUrl: string;
  readonly dataDir: string;
  /** Undefined → SQLite in `dataDir`. */
  readonly databaseUrl: string | undefined;
  /** Undefined → generated on first start and kept in `dataDir` (see kept-secret.ts). */
  readonly studentSecret: string | undefined;
  readonly llm: {
    /** The primary provider (`LLM_BACKEND`). */
    readonly backend: LlmProviderName;
    /** `LLM_FALLBACKS`, in order. */
    readonly fallbacks: readonly LlmProviderName[];
    /** The chain, primary first; empty when no model is configured (no `VLLM_ENDPOINT` and no fallbacks). */
    readonly providers: readonly LlmProviderConfig[];
    readonly vllmEndpoint: string | undefined;
    readonly vllmModel: string;
    readonly vllmApiKey: string | undefined;
    /** Per attempt. */
    readonly timeoutMs: number;
    /** Extra attempts per provider for retryable failures. */
    readonly retries: number;
    /** Consecutive retryable failures that open a provider's circuit. */
    readonly breakerThreshold: number;
    readonly breakerCooldownMs: number;
    /** Whether pipeline calls stream (deltas become `llm-delta` events). */
    readonly stream: boolean;
    readonly prices: PriceTable;
    /** Every configured provider key, for the secret scan. */
    readonly apiKeys: readonly string[];
  };
  readonly roundDeadlineMs: number;
  /** Model answers one round may use (unusable and gate-blocked ones count). */
  readonly buildMaxAttempts: number;
  readonly verify: {
    /** Run the evaluator's checks in Chromium before deploying (and on the live page after). */
    readonly enabled: boolean;
    readonly chromiumPath: string;
    readonly cdnCacheDir: string;
    /** Refuse a page's requests to hosts other than this machine (CDNs are mirrored either way). */
    readonly blockOutsideRequests: boolean;
    readonly checkTimeoutMs: number;
    readonly browserContexts: number;
    readonly repairMaxAttempts: number;
    /** Python for repository checks: a name looked up in the system PATH, or an absolute path. */
    readonly pythonCommand: string;
    /** Cap on one Python compile or script run during verification. */
    readonly scriptTimeoutMs: number;
  };
  /** Ask the model to write the README's prose (one extra call per round); else the template's. */
  readonly readmeProse: boolean;
  readonly workerConcurrency: number;
  /** Whether this process runs workers (false: API only, e.g. a dedicated intake instance). */
  readonly runWorkers: boolean;
  readonly jobLeaseMs: number;
  readonly allowPrivateUrls: boolean;
  /** Build-time fetches (the contract's prefetch and `fetch_url`). */
  readonly outbound: {
    /** FETCH_USER_AGENT; undefined → `briefwright/<version> (+mailto:<the request's email>)`. `{email}` is replaced. */
    readonly userAgent: string | undefined;
    /** HTTPS_PROXY, HTTP_PROXY, NO_PROXY (the lower-case spellings too). */
    readonly proxy: { readonly httpsProxy?: string; readonly httpProxy?: string; readonly noProxy?: string };
  };
  readonly maxBodyBytes: number;
  readonly maxAttachmentBytes: number;
  readonly gitAuthor: { readonly name: string; readonly email: string };
  readonly licenseHolder: string;
  readonly logLevel: string;
  /** Where repositories and Pages live (`FORGE`). */
  readonly forge: ForgeConfig;
  readonly security: SecurityConfig;
}

/** `FORGE=local` (default): briefwright's own bare repositories and Pages host. `github`: GitHub. */
export type ForgeConfig = { readonly kind: "local" } | { readonly kind: "github"; readonly github: GitHubConfig };

export interface GitHubConfig {
  /** `GITHUB_API_URL`, no trailing slash. */
  readonly apiUrl: string;
  /** `GITHUB_PAGES_BASE`: where sites live (`${pagesBase}/${repo}/`); undefined → `https://<owner>.github.io`. */
  readonly pagesBase: string | undefined;
  /** `GITHUB_USERNAME`: the user or organisation owning the repositories. */
  readonly owner: string;
  readonly auth:
    | { readonly kind: "app"; readonly appId: string; readonly privateKey: string; readonly installationId: number | undefined }
    | { readonly kind: "token"; readonly token: string };
}

/** Access, origins and limits (issue 11; SECURITY.md says what each one stops). */
export interface SecurityConfig {
  /** Undefined → generated on first start and kept in `dataDir` (see kept-secret.ts). */
  readonly apiKey: string | undefined;
  /** The Pages host's own listener, so no page shares an origin with the API (0: any free port). */
  readonly pagesPort: number;
  /** Base URL of Pages sites in reported links; undefined → `http://<HOST>:<bound pages port>`. */
  readonly pagesPublicUrl: string | undefined;
  /** Requests per client address per window on the API listener; 0 turns the limit off. */
  readonly rateLimitMax: number;
  readonly rateLimitWindowMs: number;
  /** Output-token cap sent with every model call. */
  readonly maxOutputTokens: number;
  /** Size the CDN mirror's package cache is trimmed to (least recently used first). */
  readonly cdnCacheMaxBytes: number;
}

export type LlmProviderName = "vllm" | "openai" | "gemini" | "anthropic";
const providerNames: readonly LlmProviderName[] = ["vllm", "openai", "gemini", "anthropic"];

/** One provider of the chain, ready for its adapter. */
export interface LlmProviderConfig {
  readonly name: LlmProviderName;
  readonly protocol: "openai-compatible" | "gemini" | "anthropic";
  /** API base: `…/v1` for OpenAI-compatible servers and Anthropic, `…/v1beta` for Gemini. */
  readonly baseUrl: string;
  readonly model: string;
  readonly apiKey: string | undefined;
  /** Whether its model gets images as image parts (`LLM_IMAGE_PROVIDERS`). */
  readonly supportsImages: boolean;
  /** Whether its model is offered tools such as `fetch_url` (`LLM_TOOL_PROVIDERS`). */
  readonly supportsTools: boolean;
}

const boolean = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ["1", "0", "true", "false", "yes", "no", "on", "off"].includes(v), "must be true or false")
  .transform((v) => ["1", "true", "yes", "on"].includes(v));

const positiveInt = z.coerce.number().int().positive();

function isHttpUrl(value: string): boolean {
  try {
    return ["http:", "https:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

const httpUrl = z
  .string()
  .trim()
  .refine(isHttpUrl, "must be an http(s) URL")
  .transform((v) => v.replace(/\/+$/, ""));

const proxyUrl = z.string().trim().refine(isHttpUrl, "must be an http(s) proxy URL such as http://proxy.internal:3128");

/** Each variable: its schema and default. Keys are the environment variable names. */
const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HOST: z.string().trim().min(1).default("127.0.0.1"),
  PUBLIC_URL: httpUrl.optional(),
  DATA_DIR: z.string().trim().min(1).default("./data"),
  DATABASE_URL: z
    .string()
    .trim()
    .refine((v) => /^postgres(ql)?:\/\//.test(v) || /^(sqlite:|file:)/.test(v), "must be postgres://… or sqlite:<path>")
    .optional(),
  STUDENT_SECRET: z.string().min(8, "must be at least 8 characters").optional(),
  LLM_BACKEND: z.enum(providerNames).default("vllm"),
  LLM_FALLBACKS: z.string().optional(),
  VLLM_ENDPOINT: httpUrl.optional(),
  VLLM_MODEL: z.string().trim().min(1).default("deepseek-coder"),
  VLLM_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: httpUrl.default("https://api.openai.com/v1"),
  OPENAI_MODEL: z.string().trim().min(1).default("gpt-4o-mini"),
  OPENAI_API_KEY: z.string().optional(),
  GEMINI_API_KEY: z.string().optional(),
  GEMINI_MODEL: z.string().trim().min(1).default("gemini-2.5-flash"),
  GEMINI_BASE_URL: httpUrl.default("https://generativelanguage.googleapis.com/v1beta"),
  ANTHROPIC_API_KEY: z.string().optional(),
  ANTHROPIC_MODEL: z.string().trim().min(1).default("claude-sonnet-4-5"),
  ANTHROPIC_BASE_URL: httpUrl.default("https://api.anthropic.com/v1"),
  // Every Claude model takes images and tool use, so a fallback to Claude sees and uses them too.
  LLM_IMAGE_PROVIDERS: z.string().default("gemini,anthropic"),
  LLM_TOOL_PROVIDERS: z.string().default("openai,gemini,anthropic"),
  LLM_TIMEOUT_SECONDS: positiveInt.default(120),
  LLM_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  LLM_BREAKER_THRESHOLD: positiveInt.max(100).default(3),
  LLM_BREAKER_COOLDOWN_SECONDS: positiveInt.default(30),
  LLM_STREAM: boolean.default(true),
  LLM_PRICES: z.string().optional(),
  ROUND_DEADLINE_SECONDS: positiveInt.default(600),
  BUILD_MAX_ATTEMPTS: positiveInt.max(10).default(3),
  README_PROSE: boolean.default(true),
  VERIFY: boolean.default(true),
  CHROMIUM_PATH: z.string().trim().min(1).default("/usr/bin/chromium"),
  CDN_CACHE_DIR: z.string().trim().min(1).optional(),
  VERIFY_BLOCK_OUTSIDE: boolean.default(false),
  CHECK_TIMEOUT_SECONDS: positiveInt.max(120).default(10),
  BROWSER_CONTEXTS: positiveInt.max(16).default(2),
  REPAIR_MAX_ATTEMPTS: z.coerce.number().int().min(0).max(10).default(3),
  PYTHON_COMMAND: z.string().trim().min(1).default("python3"),
  SCRIPT_TIMEOUT_SECONDS: positiveInt.max(300).default(30),
  WORKER_CONCURRENCY: positiveInt.max(64).default(2),
  RUN_WORKERS: boolean.default(true),
  JOB_LEASE_SECONDS: positiveInt.default(30),
  ALLOW_PRIVATE_URLS: boolean.default(false),
  // A header value: printable ASCII only, so it can neither break the request nor smuggle a line.
  FETCH_USER_AGENT: z.string().trim().min(1).max(300).regex(/^[\x20-\x7e]+$/, "must be printable ASCII (it is sent as a header)").optional(),
  HTTPS_PROXY: proxyUrl.optional(),
  HTTP_PROXY: proxyUrl.optional(),
  NO_PROXY: z.string().trim().optional(),
  MAX_BODY_BYTES: positiveInt.default(16 * 1024 * 1024),
  MAX_ATTACHMENT_BYTES: positiveInt.default(5 * 1024 * 1024),
  GIT_AUTHOR_NAME: z.string().trim().min(1).default("briefwright"),
  GIT_AUTHOR_EMAIL: z.string().trim().email().default("briefwright@localhost"),
  LICENSE_HOLDER: z.string().trim().min(1).optional(),
  GITHUB_USERNAME: z.string().trim().min(1).optional(),
  // The forge (issue 10): read together by githubConfig() below.
  FORGE: z.enum(["local", "github"]).default("local"),
  GITHUB_APP_ID: z.string().trim().regex(/^[0-9]+$/, "must be the App's numeric id").optional(),
  GITHUB_PRIVATE_KEY_B64: z.string().trim().min(1).optional(),
  GITHUB_INSTALLATION_ID: z.string().trim().regex(/^[0-9]+$/, "must be a numeric installation id").optional(),
  GITHUB_TOKEN: z.string().trim().min(1).optional(),
  GITHUB_API_URL: httpUrl.default("https://api.github.com"),
  GITHUB_PAGES_BASE: httpUrl.optional(),
  API_KEY: z.string().min(16, "must be at least 16 characters").optional(),
  PAGES_PORT: z.coerce.number().int().min(0).max(65535).default(8010),
  PAGES_PUBLIC_URL: httpUrl.optional(),
  RATE_LIMIT_MAX: z.coerce.number().int().min(0).default(600),
  RATE_LIMIT_WINDOW_SECONDS: positiveInt.default(60),
  LLM_MAX_OUTPUT_TOKENS: positiveInt.max(1_000_000).default(16_384),
  CDN_CACHE_MAX_MB: positiveInt.default(512),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/** Reads `.env` in the working directory into `env` without overriding what is set. */
function withDotEnv(env: NodeJS.ProcessEnv, cwd: string): NodeJS.ProcessEnv {
  const path = resolve(cwd, ".env");
  if (!existsSync(path)) return env;
  const fromFile = parseEnv(readFileSync(path, "utf8"));
  return { ...fromFile, ...env };
}

/** Parses the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  options: { cwd?: string; readDotEnv?: boolean; /** Command-line settings, e.g. `serve --port`: they win over both. */ overrides?: Readonly<Record<string, string>> } = {},
): Config {
  const cwd = options.cwd ?? process.cwd();
  const source = { ...withLowerCaseProxies(options.readDotEnv === false ? env : withDotEnv(env, cwd)), ...options.overrides };
  // Empty strings mean "unset", as in most shells' `VAR= cmd`.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? "environment"), issue.message, { cause: parsed.error });
  }
  const e = parsed.data;
  const fallbacks = nameList("LLM_FALLBACKS", e.LLM_FALLBACKS);
  const providers = llmProviders(e, fallbacks);
  const publicHost = e.HOST === "0.0.0.0" || e.HOST === "::" ? "127.0.0.1" : e.HOST;
  const publicUrl = e.PUBLIC_URL ?? `http://${publicHost.includes(":") ? `[${publicHost}]` : publicHost}:${e.PORT}`;
  if (e.PAGES_PUBLIC_URL && new URL(e.PAGES_PUBLIC_URL).origin === new URL(publicUrl).origin) {
    // The whole point of the Pages listener: a page on the API's origin could read the API.
    throw new ConfigError("PAGES_PUBLIC_URL", "must be another origin (host or port) than the API's PUBLIC_URL");
  }
  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    dataDir: resolve(cwd, e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    studentSecret: e.STUDENT_SECRET,
    llm: {
      backend: e.LLM_BACKEND,
      fallbacks,
      providers,
      vllmEndpoint: e.VLLM_ENDPOINT,
      vllmModel: e.VLLM_MODEL,
      vllmApiKey: e.VLLM_API_KEY,
      timeoutMs: e.LLM_TIMEOUT_SECONDS * 1000,
      retries: e.LLM_RETRIES,
      breakerThreshold: e.LLM_BREAKER_THRESHOLD,
      breakerCooldownMs: e.LLM_BREAKER_COOLDOWN_SECONDS * 1000,
      stream: e.LLM_STREAM,
      prices: loadPriceTable(e.LLM_PRICES, cwd),
      apiKeys: [e.VLLM_API_KEY, e.OPENAI_API_KEY, e.GEMINI_API_KEY, e.ANTHROPIC_API_KEY].filter((key): key is string => Boolean(key)),
    },
    roundDeadlineMs: e.ROUND_DEADLINE_SECONDS * 1000,
    buildMaxAttempts: e.BUILD_MAX_ATTEMPTS,
    readmeProse: e.README_PROSE,
    verify: {
      enabled: e.VERIFY,
      chromiumPath: e.CHROMIUM_PATH,
      cdnCacheDir: resolve(cwd, e.CDN_CACHE_DIR ?? `${e.DATA_DIR}/cdn-cache`),
      blockOutsideRequests: e.VERIFY_BLOCK_OUTSIDE,
      checkTimeoutMs: e.CHECK_TIMEOUT_SECONDS * 1000,
      browserContexts: e.BROWSER_CONTEXTS,
      repairMaxAttempts: e.REPAIR_MAX_ATTEMPTS,
      pythonCommand: e.PYTHON_COMMAND,
      scriptTimeoutMs: e.SCRIPT_TIMEOUT_SECONDS * 1000,
    },
    workerConcurrency: e.WORKER_CONCURRENCY,
    runWorkers: e.RUN_WORKERS,
    jobLeaseMs: e.JOB_LEASE_SECONDS * 1000,
    allowPrivateUrls: e.ALLOW_PRIVATE_URLS,
    outbound: {
      userAgent: e.FETCH_USER_AGENT,
      proxy: {
        ...(e.HTTPS_PROXY ? { httpsProxy: e.HTTPS_PROXY } : {}),
        ...(e.HTTP_PROXY ? { httpProxy: e.HTTP_PROXY } : {}),
        ...(e.NO_PROXY ? { noProxy: e.NO_PROXY } : {}),
      },
    },
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxAttachmentBytes: e.MAX_ATTACHMENT_BYTES,
    gitAuthor: { name: e.GIT_AUTHOR_NAME, email: e.GIT_AUTHOR_EMAIL },
    licenseHolder: e.LICENSE_HOLDER ?? e.GITHUB_USERNAME ?? e.GIT_AUTHOR_NAME,
    logLevel: e.LOG_LEVEL,
    forge: e.FORGE === "github" ? { kind: "github", github: githubConfig(e) } : { kind: "local" },
    security: {
      apiKey: e.API_KEY,
      pagesPort: e.PAGES_PORT,
      pagesPublicUrl: e.PAGES_PUBLIC_URL,
      rateLimitMax: e.RATE_LIMIT_MAX,
      rateLimitWindowMs: e.RATE_LIMIT_WINDOW_SECONDS * 1000,
      maxOutputTokens: e.LLM_MAX_OUTPUT_TOKENS,
      cdnCacheMaxBytes: e.CDN_CACHE_MAX_MB * 1024 * 1024,
    },
  };
  return deepFreeze(config);
}

/** `https_proxy`, `http_proxy`, `no_proxy` (curl's spellings) stand in for unset upper-case ones. */
function withLowerCaseProxies(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const filled = { ...env };
  for (const name of ["HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"]) {
    if (!filled[name] && filled[name.toLowerCase()]) filled[name] = filled[name.toLowerCase()];
  }
  return filled;
}

/** A comma list of provider names; unknown or repeated names are errors naming `variable`. */
function nameList(variable: string, value: string | undefined): LlmProviderName[] {
  const names = (value ?? "").split(",").map((name) => name.trim().toLowerCase()).filter(Boolean);
  // An empty value means unset (the default); `none` is how to say "no provider".
  if (names.length === 1 && names[0] === "none") return [];
  for (const name of names) {
    if (!providerNames.includes(name as LlmProviderName)) throw new ConfigError(variable, `unknown provider "${name}"; use ${providerNames.join(", ")}`);
  }
  if (new Set(names).size !== names.length) throw new ConfigError(variable, "names a provider twice");
  return names as LlmProviderName[];
}

/**
 * The chain: LLM_BACKEND, then LLM_FALLBACKS. A named provider without what it needs is an
 * error naming the missing variable, except the out-of-the-box case (the default `vllm`, no
 * VLLM_ENDPOINT, no fallbacks), which means "no model", so `npm start` works without one.
 */
function llmProviders(e: z.infer<typeof schema>, fallbacks: readonly LlmProviderName[]): LlmProviderConfig[] {
  if (fallbacks.includes(e.LLM_BACKEND)) throw new ConfigError("LLM_FALLBACKS", `repeats LLM_BACKEND (${e.LLM_BACKEND})`);
  const chain = [e.LLM_BACKEND, ...fallbacks];
  if (chain.length === 1 && e.LLM_BACKEND === "vllm" && !e.VLLM_ENDPOINT) return [];
  const images = nameList("LLM_IMAGE_PROVIDERS", e.LLM_IMAGE_PROVIDERS);
  const tools = nameList("LLM_TOOL_PROVIDERS", e.LLM_TOOL_PROVIDERS);
  return chain.map((name): LlmProviderConfig => {
    const supportsImages = images.includes(name);
    const supportsTools = tools.includes(name);
    switch (name) {
      case "vllm":
        if (!e.VLLM_ENDPOINT) throw new ConfigError("VLLM_ENDPOINT", "is required when the LLM chain includes vllm");
        return { name, protocol: "openai-compatible", baseUrl: e.VLLM_ENDPOINT, model: e.VLLM_MODEL, apiKey: e.VLLM_API_KEY, supportsImages, supportsTools };
      case "openai":
        return { name, protocol: "openai-compatible", baseUrl: e.OPENAI_BASE_URL, model: e.OPENAI_MODEL, apiKey: e.OPENAI_API_KEY, supportsImages, supportsTools };
      case "gemini":
        if (!e.GEMINI_API_KEY) throw new ConfigError("GEMINI_API_KEY", "is required when the LLM chain includes gemini");
        return { name, protocol: "gemini", baseUrl: e.GEMINI_BASE_URL, model: e.GEMINI_MODEL, apiKey: e.GEMINI_API_KEY, supportsImages, supportsTools };
      case "anthropic":
        if (!e.ANTHROPIC_API_KEY) throw new ConfigError("ANTHROPIC_API_KEY", "is required when the LLM chain includes anthropic");
        return { name, protocol: "anthropic", baseUrl: e.ANTHROPIC_BASE_URL, model: e.ANTHROPIC_MODEL, apiKey: e.ANTHROPIC_API_KEY, supportsImages, supportsTools };
    }
  });
}

/**
 * FORGE=github: an owner and one way in. A GitHub App (GITHUB_APP_ID + GITHUB_PRIVATE_KEY_B64,
 * optionally GITHUB_INSTALLATION_ID) comes first; else GITHUB_TOKEN. Half an App, or an
 * installation id without an App, is contradictory and names the variable.
 */
function githubConfig(e: z.infer<typeof schema>): GitHubConfig {
  if (!e.GITHUB_USERNAME) throw new ConfigError("GITHUB_USERNAME", "is required when FORGE=github (the user or organisation that owns the repositories)");
  if (e.GITHUB_APP_ID && !e.GITHUB_PRIVATE_KEY_B64) throw new ConfigError("GITHUB_PRIVATE_KEY_B64", "is required with GITHUB_APP_ID (the App's private key, base64 of the PEM)");
  if (e.GITHUB_PRIVATE_KEY_B64 && !e.GITHUB_APP_ID) throw new ConfigError("GITHUB_APP_ID", "is required with GITHUB_PRIVATE_KEY_B64");
  if (e.GITHUB_INSTALLATION_ID && !e.GITHUB_APP_ID) throw new ConfigError("GITHUB_INSTALLATION_ID", "needs GITHUB_APP_ID and GITHUB_PRIVATE_KEY_B64 (an installation belongs to an App)");
  const base = { apiUrl: e.GITHUB_API_URL, pagesBase: e.GITHUB_PAGES_BASE, owner: e.GITHUB_USERNAME };
  if (e.GITHUB_APP_ID && e.GITHUB_PRIVATE_KEY_B64) {
    const privateKey = decodePrivateKey(e.GITHUB_PRIVATE_KEY_B64);
    const installationId = e.GITHUB_INSTALLATION_ID ? Number(e.GITHUB_INSTALLATION_ID) : undefined;
    return { ...base, auth: { kind: "app", appId: e.GITHUB_APP_ID, privateKey, installationId } };
  }
  if (e.GITHUB_TOKEN) return { ...base, auth: { kind: "token", token: e.GITHUB_TOKEN } };
  throw new ConfigError("GITHUB_TOKEN", "or GITHUB_APP_ID with GITHUB_PRIVATE_KEY_B64 is required when FORGE=github");
}

/** The App's key: base64 of the PEM (a raw PEM is tolerated). Never echoed in the error. */
function decodePrivateKey(value: string): string {
  const pem = value.startsWith("-----BEGIN") ? value : Buffer.from(value, "base64").toString("utf8");
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----[\s\S]+-----END (RSA )?PRIVATE KEY-----/.test(pem)) {
    throw new ConfigError("GITHUB_PRIVATE_KEY_B64", "is not the base64 of a PEM private key (base64 -w0 your-app.private-key.pem)");
  }
  return pem;
}

/** LLM_PRICES: inline JSON, or the path of a JSON file (relative to the working directory). */
function loadPriceTable(value: string | undefined, cwd: string): PriceTable {
  if (value === undefined) return {};
  const trimmed = value.trim();
  let json: unknown;
  try {
    json = JSON.parse(trimmed.startsWith("{") ? trimmed : readFileSync(resolve(cwd, trimmed), "utf8"));
  } catch (cause) {
    const what = trimmed.startsWith("{") ? "is not valid JSON" : `cannot read a JSON file at ${trimmed}`;
    throw new ConfigError("LLM_PRICES", `${what} (${(cause as Error).message})`, { cause });
  }
  try {
    return parsePriceTable(json);
  } catch (cause) {
    throw new ConfigError("LLM_PRICES", (cause as Error).message, { cause });
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
