import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { loadConfig } from "../../src/config.ts";
import { startService, type Service } from "../../src/main.ts";
import { startFakeLlm, type FakeLlm } from "../../src/fake-llm/start-fake-llm.ts";
import type { FixtureFile } from "../../src/fake-llm/fixture-file.ts";
import { startCallbackReceiver, type CallbackReceiver } from "./callback-receiver.ts";
import { freePort } from "./free-port.ts";
import { sharedFixtures } from "./shared-dir.ts";

export { sharedDir, sharedFixtures } from "./shared-dir.ts";
import type { StoreDialectFixture, TestDatabase } from "./store-dialects.ts";
import pino, { type Logger } from "pino";

const run = promisify(execFile);

export const repoRoot = resolve(import.meta.dirname, "../..");
export const studentSecret = "dev-secret-change-me";
/** The API key of services under test; `get` sends it, raw fetches add `apiKeyHeaders`. */
export const apiKey = "test-api-key-0123456789";
export const apiKeyHeaders = { "x-api-key": apiKey } as const;

export async function loadTaskRequest(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(sharedFixtures, "tasks", `${name}.json`), "utf8"));
}

export interface Harness {
  readonly service: Service;
  readonly llm: FakeLlm;
  readonly receiver: CallbackReceiver;
  readonly database: TestDatabase;
  readonly env: Record<string, string>;
  post(body: unknown, path?: string): Promise<{ status: number; body: any }>;
  get(path: string): Promise<{ status: number; body: any }>;
  /** A fixture request pointed at this harness's receiver. */
  request(name: string, overrides?: Record<string, unknown>): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  readonly dialect: StoreDialectFixture;
  readonly fixtures: string | readonly (string | FixtureFile)[];
  readonly env?: Record<string, string>;
  readonly receiverAnswer?: (n: number) => number;
  /** The service's logger; silent by default. */
  readonly logger?: Logger;
}

/** Environment for a service under test: scripted LLM, loopback allowed, quiet logs. */
export function serviceEnv(database: TestDatabase, llmUrl: string, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: database.dataDir,
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    STUDENT_SECRET: studentSecret,
    API_KEY: apiKey,
    // Any free port; a test that restarts the service passes a fixed one so page links stay valid.
    PAGES_PORT: "0",
    LLM_BACKEND: "vllm",
    VLLM_ENDPOINT: `${llmUrl}/v1`,
    VLLM_MODEL: "scripted",
    ALLOW_PRIVATE_URLS: "true",
    WORKER_CONCURRENCY: "2",
    // Nothing leaves the machine in tests; CDN libraries come from npm packages cached across runs.
    VERIFY_BLOCK_OUTSIDE: "true",
    CDN_CACHE_DIR: join(tmpdir(), "briefwright-cdn-cache"),
    LOG_LEVEL: "silent",
    ...extra,
  };
}

/** Starts scripted LLM, callback receiver and the service (in this process) on a fresh database. */
export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const database = await options.dialect.databaseUrl();
  const llm = await startFakeLlm({ fixtures: options.fixtures });
  const receiver = await startCallbackReceiver(options.receiverAnswer);
  const port = await freePort();
  const env = serviceEnv(database, llm.url, port, options.env);
  const config = loadConfig(env, { readDotEnv: false });
  const service = await startService(config, { logger: options.logger ?? pino({ level: "silent" }) });
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: { ...apiKeyHeaders, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep the text
    }
    return { status: response.status, body: parsed as any };
  };
  return {
    service,
    llm,
    receiver,
    database,
    env,
    post: (body, path = "/api/v1/tasks/ready") => call("POST", path, body),
    get: (path) => call("GET", path),
    async request(name, overrides = {}) {
      return { ...(await loadTaskRequest(name)), evaluation_url: receiver.url, ...overrides };
    },
    async stop() {
      await service.stop();
      await receiver.close();
      await llm.close();
      await database.cleanup();
    },
  };
}

/** `git clone` of a URL at a commit into a temp dir; returns the directory. */
export async function cloneAt(repoUrl: string, commitSha: string): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "briefwright-clone-"));
  const env = { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_NOSYSTEM: "1" };
  await run("git", ["clone", "--quiet", repoUrl, dir], { env });
  await run("git", ["-C", dir, "checkout", "--quiet", commitSha], { env });
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function git(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run("git", ["-C", dir, ...args]);
  return stdout.trim();
}
