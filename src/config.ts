import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { resolve } from "node:path";
import { z } from "zod";
import { ConfigError } from "./domain/errors.ts";

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
  /** Undefined → generated on first start and kept in `dataDir` (see student-secret.ts). */
  readonly studentSecret: string | undefined;
  readonly llm: {
    readonly backend: "vllm";
    readonly vllmEndpoint: string | undefined;
    readonly vllmModel: string;
    readonly vllmApiKey: string | undefined;
    readonly timeoutMs: number;
  };
  readonly roundDeadlineMs: number;
  /** Model answers one round may use (unusable and gate-blocked ones count). */
  readonly buildMaxAttempts: number;
  readonly workerConcurrency: number;
  /** Whether this process runs workers (false: API only, e.g. a dedicated intake instance). */
  readonly runWorkers: boolean;
  readonly jobLeaseMs: number;
  readonly allowPrivateUrls: boolean;
  readonly maxBodyBytes: number;
  readonly maxAttachmentBytes: number;
  readonly gitAuthor: { readonly name: string; readonly email: string };
  readonly licenseHolder: string;
  readonly logLevel: string;
}

const boolean = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ["1", "0", "true", "false", "yes", "no", "on", "off"].includes(v), "must be true or false")
  .transform((v) => ["1", "true", "yes", "on"].includes(v));

const positiveInt = z.coerce.number().int().positive();

const httpUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      return ["http:", "https:"].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, "must be an http(s) URL")
  .transform((v) => v.replace(/\/+$/, ""));

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
  LLM_BACKEND: z.enum(["vllm"]).default("vllm"),
  VLLM_ENDPOINT: httpUrl.optional(),
  VLLM_MODEL: z.string().trim().min(1).default("deepseek-coder"),
  VLLM_API_KEY: z.string().optional(),
  LLM_TIMEOUT_SECONDS: positiveInt.default(120),
  ROUND_DEADLINE_SECONDS: positiveInt.default(600),
  BUILD_MAX_ATTEMPTS: positiveInt.max(10).default(3),
  WORKER_CONCURRENCY: positiveInt.max(64).default(2),
  RUN_WORKERS: boolean.default(true),
  JOB_LEASE_SECONDS: positiveInt.default(30),
  ALLOW_PRIVATE_URLS: boolean.default(false),
  MAX_BODY_BYTES: positiveInt.default(16 * 1024 * 1024),
  MAX_ATTACHMENT_BYTES: positiveInt.default(5 * 1024 * 1024),
  GIT_AUTHOR_NAME: z.string().trim().min(1).default("briefwright"),
  GIT_AUTHOR_EMAIL: z.string().trim().email().default("briefwright@localhost"),
  LICENSE_HOLDER: z.string().trim().min(1).optional(),
  GITHUB_USERNAME: z.string().trim().min(1).optional(),
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
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: { cwd?: string; readDotEnv?: boolean } = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const source = options.readDotEnv === false ? env : withDotEnv(env, cwd);
  // Empty strings mean "unset", as in most shells' `VAR= cmd`.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? "environment"), issue.message, { cause: parsed.error });
  }
  const e = parsed.data;
  const publicHost = e.HOST === "0.0.0.0" || e.HOST === "::" ? "127.0.0.1" : e.HOST;
  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.PUBLIC_URL ?? `http://${publicHost.includes(":") ? `[${publicHost}]` : publicHost}:${e.PORT}`,
    dataDir: resolve(cwd, e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    studentSecret: e.STUDENT_SECRET,
    llm: {
      backend: e.LLM_BACKEND,
      vllmEndpoint: e.VLLM_ENDPOINT,
      vllmModel: e.VLLM_MODEL,
      vllmApiKey: e.VLLM_API_KEY,
      timeoutMs: e.LLM_TIMEOUT_SECONDS * 1000,
    },
    roundDeadlineMs: e.ROUND_DEADLINE_SECONDS * 1000,
    buildMaxAttempts: e.BUILD_MAX_ATTEMPTS,
    workerConcurrency: e.WORKER_CONCURRENCY,
    runWorkers: e.RUN_WORKERS,
    jobLeaseMs: e.JOB_LEASE_SECONDS * 1000,
    allowPrivateUrls: e.ALLOW_PRIVATE_URLS,
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxAttachmentBytes: e.MAX_ATTACHMENT_BYTES,
    gitAuthor: { name: e.GIT_AUTHOR_NAME, email: e.GIT_AUTHOR_EMAIL },
    licenseHolder: e.LICENSE_HOLDER ?? e.GITHUB_USERNAME ?? e.GIT_AUTHOR_NAME,
    logLevel: e.LOG_LEVEL,
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
