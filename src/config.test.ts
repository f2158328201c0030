import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";
import { ConfigError } from "./domain/errors.ts";

const load = (env: Record<string, string>, cwd?: string) => loadConfig(env, { readDotEnv: false, ...(cwd ? { cwd } : {}) });

function configError(env: Record<string, string>): ConfigError {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("LLM configuration", () => {
  it("has no model out of the box, and defaults that stream, retry and break", () => {
    const { llm } = load({});
    expect(llm.providers).toEqual([]);
    expect(llm).toMatchObject({ backend: "vllm", fallbacks: [], retries: 2, breakerThreshold: 3, breakerCooldownMs: 30_000, stream: true, prices: {} });
    expect(Object.isFrozen(llm.providers)).toBe(true);
  });

  it("builds the chain from LLM_BACKEND and LLM_FALLBACKS, in order", () => {
    const { llm } = load({
      VLLM_ENDPOINT: "http://gpu:8001/v1/",
      VLLM_API_KEY: "k-vllm",
      LLM_FALLBACKS: " gemini , openai",
      GEMINI_API_KEY: "k-gemini",
      OPENAI_API_KEY: "k-openai",
      OPENAI_BASE_URL: "http://127.0.0.1:11434/v1",
      OPENAI_MODEL: "qwen2.5-coder:7b",
      LLM_IMAGE_PROVIDERS: "gemini,openai",
    });
    expect(llm.providers).toEqual([
      { name: "vllm", protocol: "openai-compatible", baseUrl: "http://gpu:8001/v1", model: "deepseek-coder", apiKey: "k-vllm", supportsImages: false, supportsTools: false },
      { name: "gemini", protocol: "gemini", baseUrl: "https://generativelanguage.googleapis.com/v1beta", model: "gemini-2.5-flash", apiKey: "k-gemini", supportsImages: true, supportsTools: true },
      { name: "openai", protocol: "openai-compatible", baseUrl: "http://127.0.0.1:11434/v1", model: "qwen2.5-coder:7b", apiKey: "k-openai", supportsImages: true, supportsTools: true },
    ]);
    expect(llm.apiKeys).toEqual(["k-vllm", "k-openai", "k-gemini"]);
  });

  it("offers tools to openai, gemini and anthropic by default, and to the providers LLM_TOOL_PROVIDERS names", () => {
    const chain = { VLLM_ENDPOINT: "http://gpu:8001/v1", LLM_FALLBACKS: "gemini,openai,anthropic", GEMINI_API_KEY: "k", ANTHROPIC_API_KEY: "k2" };
    expect(load(chain).llm.providers.map((p) => [p.name, p.supportsTools])).toEqual([["vllm", false], ["gemini", true], ["openai", true], ["anthropic", true]]);
    expect(load({ ...chain, LLM_TOOL_PROVIDERS: "vllm" }).llm.providers.map((p) => p.supportsTools)).toEqual([true, false, false, false]);
    expect(load({ ...chain, LLM_TOOL_PROVIDERS: "none" }).llm.providers.map((p) => p.supportsTools)).toEqual([false, false, false, false]);
    expect(() => load({ ...chain, LLM_TOOL_PROVIDERS: "claude" })).toThrow(/LLM_TOOL_PROVIDERS/);
  });

  it("takes Gemini as the primary with its own base URL and model", () => {
    const { llm } = load({ LLM_BACKEND: "gemini", GEMINI_API_KEY: "k", GEMINI_MODEL: "gemini-2.5-pro", GEMINI_BASE_URL: "http://127.0.0.1:9/v1beta" });
    expect(llm.providers.map((p) => [p.name, p.model, p.baseUrl])).toEqual([["gemini", "gemini-2.5-pro", "http://127.0.0.1:9/v1beta"]]);
  });

  it("takes Anthropic as a fallback: Claude defaults, images and tools on, its key kept as a secret", () => {
    const { llm } = load({ VLLM_ENDPOINT: "http://gpu:8001/v1", LLM_FALLBACKS: "anthropic", ANTHROPIC_API_KEY: "k-anthropic" });
    expect(llm.fallbacks).toEqual(["anthropic"]);
    expect(llm.providers[1]).toEqual({
      name: "anthropic",
      protocol: "anthropic",
      baseUrl: "https://api.anthropic.com/v1",
      model: "claude-sonnet-4-5",
      apiKey: "k-anthropic",
      supportsImages: true,
      supportsTools: true,
    });
    expect(llm.apiKeys).toEqual(["k-anthropic"]);
    const primary = load({ LLM_BACKEND: "anthropic", ANTHROPIC_API_KEY: "k", ANTHROPIC_MODEL: "claude-haiku-4-5", ANTHROPIC_BASE_URL: "http://127.0.0.1:9/v1/" });
    expect(primary.llm.providers.map((p) => [p.name, p.model, p.baseUrl])).toEqual([["anthropic", "claude-haiku-4-5", "http://127.0.0.1:9/v1"]]);
  });

  it("names the variable that is missing or wrong", () => {
    expect(configError({ LLM_BACKEND: "claude" }).variable).toBe("LLM_BACKEND");
    expect(configError({ VLLM_ENDPOINT: "http://x/v1", LLM_FALLBACKS: "gemini" }).variable).toBe("GEMINI_API_KEY");
    expect(configError({ LLM_BACKEND: "anthropic" }).message).toBe("ANTHROPIC_API_KEY: is required when the LLM chain includes anthropic");
    expect(configError({ LLM_BACKEND: "anthropic", ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: "api.anthropic.com" }).variable).toBe("ANTHROPIC_BASE_URL");
    expect(configError({ LLM_FALLBACKS: "gemini", GEMINI_API_KEY: "k" }).variable).toBe("VLLM_ENDPOINT");
    expect(configError({ VLLM_ENDPOINT: "http://x/v1", LLM_FALLBACKS: "gemini,mystery" }).message).toMatch(/^LLM_FALLBACKS: unknown provider "mystery"/);
    expect(configError({ VLLM_ENDPOINT: "http://x/v1", LLM_FALLBACKS: "vllm" }).variable).toBe("LLM_FALLBACKS");
    expect(configError({ LLM_RETRIES: "-1" }).variable).toBe("LLM_RETRIES");
    expect(configError({ LLM_BREAKER_THRESHOLD: "0" }).variable).toBe("LLM_BREAKER_THRESHOLD");
    expect(configError({ LLM_BREAKER_COOLDOWN_SECONDS: "soon" }).variable).toBe("LLM_BREAKER_COOLDOWN_SECONDS");
    expect(configError({ LLM_STREAM: "maybe" }).variable).toBe("LLM_STREAM");
    expect(configError({ LLM_PRICES: "{not json" }).variable).toBe("LLM_PRICES");
    expect(configError({ LLM_PRICES: '{"m": {"input": "cheap", "output": 1}}' }).message).toMatch(/^LLM_PRICES: m\.input/);
    expect(configError({ LLM_PRICES: "./no-such-prices.json" }).message).toMatch(/^LLM_PRICES: cannot read a JSON file/);
  });

  it("reads LLM_PRICES inline or from a file", async () => {
    const inline = load({ LLM_PRICES: '{"gemini/gemini-2.5-flash": {"input": 0.3, "output": 2.5}}' });
    expect(inline.llm.prices).toEqual({ "gemini/gemini-2.5-flash": { input: 0.3, output: 2.5 } });
    const dir = await mkdtemp(join(tmpdir(), "briefwright-prices-"));
    try {
      await writeFile(join(dir, "prices.json"), JSON.stringify({ scripted: { input: 1, output: 2 } }));
      expect(load({ LLM_PRICES: "prices.json" }, dir).llm.prices).toEqual({ scripted: { input: 1, output: 2 } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("build-time fetch configuration", () => {
  it("has no User-Agent override and no proxy by default", () => {
    expect(load({}).outbound).toEqual({ userAgent: undefined, proxy: {} });
  });

  it("reads FETCH_USER_AGENT and the proxies, the lower-case spellings standing in for unset upper-case ones", () => {
    const config = load({ FETCH_USER_AGENT: "acme-bot/2 (+mailto:{email})", https_proxy: "http://proxy.internal:3128", HTTP_PROXY: "http://plain.internal:8080", no_proxy: "localhost,.corp" });
    expect(config.outbound).toEqual({
      userAgent: "acme-bot/2 (+mailto:{email})",
      proxy: { httpsProxy: "http://proxy.internal:3128", httpProxy: "http://plain.internal:8080", noProxy: "localhost,.corp" },
    });
    expect(load({ HTTPS_PROXY: "http://upper:1", https_proxy: "http://lower:2" }).outbound.proxy.httpsProxy).toBe("http://upper:1");
  });

  it.each([
    [{ HTTPS_PROXY: "socks5://proxy:1080" }, "HTTPS_PROXY"],
    [{ HTTP_PROXY: "not a url" }, "HTTP_PROXY"],
    [{ FETCH_USER_AGENT: "bot\r\nX-Injected: 1" }, "FETCH_USER_AGENT"],
  ])("names the bad variable: %j", (env, variable) => {
    expect(configError(env).variable).toBe(variable);
  });
});

describe("forge configuration", () => {
  const pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n";
  const b64 = Buffer.from(pem).toString("base64");

  it("is the local forge by default", () => {
    expect(load({}).forge).toEqual({ kind: "local" });
    expect(load({ GITHUB_USERNAME: "octo" }).forge).toEqual({ kind: "local" });
  });

  it("takes a GitHub App first, decoding its key, with GitHub's hosts unless overridden", () => {
    const { forge } = load({ FORGE: "github", GITHUB_USERNAME: "course-org", GITHUB_APP_ID: "4242", GITHUB_PRIVATE_KEY_B64: b64, GITHUB_TOKEN: "ghp_x" });
    expect(forge).toEqual({
      kind: "github",
      github: { apiUrl: "https://api.github.com", pagesBase: undefined, owner: "course-org", auth: { kind: "app", appId: "4242", privateKey: pem, installationId: undefined } },
    });
    const pinned = load({ FORGE: "github", GITHUB_USERNAME: "o", GITHUB_APP_ID: "1", GITHUB_PRIVATE_KEY_B64: b64, GITHUB_INSTALLATION_ID: "77", GITHUB_API_URL: "http://127.0.0.1:9/", GITHUB_PAGES_BASE: "http://127.0.0.1:8/o/" }).forge;
    expect(pinned).toMatchObject({ github: { apiUrl: "http://127.0.0.1:9", pagesBase: "http://127.0.0.1:8/o", auth: { installationId: 77 } } });
  });

  it("takes a token when there is no App", () => {
    expect(load({ FORGE: "github", GITHUB_USERNAME: "octo", GITHUB_TOKEN: "ghp_abc" }).forge).toMatchObject({ github: { auth: { kind: "token", token: "ghp_abc" } } });
  });

  it("names the variable that is missing, malformed or contradictory, without echoing a secret", () => {
    expect(configError({ FORGE: "gitlab" }).variable).toBe("FORGE");
    expect(configError({ FORGE: "github", GITHUB_TOKEN: "ghp_x" }).variable).toBe("GITHUB_USERNAME");
    expect(configError({ FORGE: "github", GITHUB_USERNAME: "o" }).variable).toBe("GITHUB_TOKEN");
    expect(configError({ FORGE: "github", GITHUB_USERNAME: "o", GITHUB_APP_ID: "1" }).variable).toBe("GITHUB_PRIVATE_KEY_B64");
    expect(configError({ FORGE: "github", GITHUB_USERNAME: "o", GITHUB_PRIVATE_KEY_B64: b64 }).variable).toBe("GITHUB_APP_ID");
    expect(configError({ FORGE: "github", GITHUB_USERNAME: "o", GITHUB_TOKEN: "ghp_x", GITHUB_INSTALLATION_ID: "5" }).variable).toBe("GITHUB_INSTALLATION_ID");
    expect(configError({ FORGE: "github", GITHUB_USERNAME: "o", GITHUB_APP_ID: "my-app", GITHUB_PRIVATE_KEY_B64: b64 }).variable).toBe("GITHUB_APP_ID");
    const badKey = configError({ FORGE: "github", GITHUB_USERNAME: "o", GITHUB_APP_ID: "1", GITHUB_PRIVATE_KEY_B64: "bm90LWEta2V5LXNlY3JldC12YWx1ZQ==" });
    expect(badKey.variable).toBe("GITHUB_PRIVATE_KEY_B64");
    expect(badKey.message).not.toContain("bm90LWEta2V5");
    expect(configError({ FORGE: "github", GITHUB_USERNAME: "o", GITHUB_TOKEN: "t", GITHUB_API_URL: "ftp://x" }).variable).toBe("GITHUB_API_URL");
  });
});

describe("security configuration", () => {
  it("has generous defaults: a rate limit, a Pages port of its own, output-token and CDN cache caps", () => {
    expect(load({}).security).toEqual({
      apiKey: undefined,
      pagesPort: 8010,
      pagesPublicUrl: undefined,
      rateLimitMax: 600,
      rateLimitWindowMs: 60_000,
      maxOutputTokens: 16_384,
      cdnCacheMaxBytes: 512 * 1024 * 1024,
    });
  });

  it("refuses a short API key and a Pages URL on the API's origin, naming the variable", () => {
    expect(configError({ API_KEY: "short" }).variable).toBe("API_KEY");
    expect(configError({ PORT: "9000", PAGES_PUBLIC_URL: "http://127.0.0.1:9000/" }).variable).toBe("PAGES_PUBLIC_URL");
    expect(configError({ PUBLIC_URL: "https://bw.example", PAGES_PUBLIC_URL: "https://bw.example/pages" }).variable).toBe("PAGES_PUBLIC_URL");
    expect(load({ PUBLIC_URL: "https://bw.example", PAGES_PUBLIC_URL: "https://pages.bw.example" }).security.pagesPublicUrl).toBe("https://pages.bw.example");
  });
});
