import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGeminiLanguageModel } from "../../src/adapters/llm/gemini-language-model.ts";
import { createOpenAICompatibleLanguageModel } from "../../src/adapters/llm/openai-compatible-language-model.ts";
import { LanguageModelError } from "../../src/domain/errors.ts";
import { outputFormatLine } from "../../src/domain/output-format.ts";
import type { FixtureFile } from "../../src/fake-llm/fixture-file.ts";
import { startFakeLlm, type FakeLlm } from "../../src/fake-llm/start-fake-llm.ts";
import type { LanguageModel, ModelCall } from "../../src/ports/language-model.ts";
import { tinyPng } from "../support/tiny-png.ts";

/**
 * One contract for every LanguageModel adapter, run against the scripted LLM over real HTTP.
 * Each adapter speaks its own wire protocol to the same fake, so the assertions stay
 * protocol-neutral. Narrow the run with LLM_ADAPTERS=openai-compatible,gemini.
 */
interface LanguageModelAdapter {
  readonly name: string;
  create(fake: { url: string }, options: { timeoutMs?: number; apiKey?: string; supportsImages?: boolean }): LanguageModel;
}

const openAICompatibleAdapter: LanguageModelAdapter = {
  name: "openai-compatible",
  create: (fake, options) =>
    createOpenAICompatibleLanguageModel({
      provider: "vllm",
      baseUrl: `${fake.url}/v1`,
      model: "coder-7b",
      apiKey: options.apiKey ?? "contract-key",
      timeoutMs: options.timeoutMs ?? 10_000,
      ...(options.supportsImages === undefined ? {} : { supportsImages: options.supportsImages }),
    }),
};

const geminiAdapter: LanguageModelAdapter = {
  name: "gemini",
  create: (fake, options) =>
    createGeminiLanguageModel({
      baseUrl: `${fake.url}/v1beta`,
      model: "gemini-2.5-flash",
      apiKey: options.apiKey ?? "contract-key",
      timeoutMs: options.timeoutMs ?? 10_000,
      ...(options.supportsImages === undefined ? {} : { supportsImages: options.supportsImages }),
    }),
};

const wanted = process.env.LLM_ADAPTERS?.split(",").map((name) => name.trim());
const languageModelAdapters = [openAICompatibleAdapter, geminiAdapter].filter((adapter) => !wanted || wanted.includes(adapter.name));

const page = "<!doctype html><title>Sales Summary 7f3a9</title>\n";
const BUILD_SYSTEM = `You build static web apps.\n${outputFormatLine("files-json")}\nAnswer with the JSON object only.`;

const script: FixtureFile = {
  fixtures: [
    { match: ["case:build"], responses: [{ files: { "index.html": page } }] },
    { match: ["case:unparseable"], responses: [{ text: "Sorry, here is some prose instead of JSON." }] },
    { match: ["case:server-error"], responses: [{ status: 500 }] },
    { match: ["case:bad-request"], responses: [{ status: 400, message: "context length exceeded" }] },
    { match: ["case:rate-limited"], responses: [{ status: 429, retry_after: 3 }] },
    { match: ["case:leaky"], responses: [{ status: 401, message: "invalid api key secret-key-123 for this model" }] },
    { match: ["case:hang"], responses: [{ hang: true }] },
    { match: ["case:slow"], responses: [{ delay_ms: 5_000, files: { "index.html": page } }] },
    { match: ["case:flaky"], responses: [{ status: 503 }, { files: { "index.html": page } }] },
    { match: ["earlier assistant turn"], responses: [{ files: { "index.html": page } }] },
  ],
};

function buildCall(marker: string, overrides: Partial<ModelCall> = {}): ModelCall {
  return {
    purpose: "generate",
    system: BUILD_SYSTEM,
    messages: [{ role: "user", content: `Build the app. ${marker}` }],
    format: "json",
    ...overrides,
  };
}

const proseCall: ModelCall = {
  purpose: "readme",
  system: "You write README prose.",
  messages: [{ role: "user", content: "Describe the sales summary page for its README" }],
  format: "text",
};

async function failure(promise: Promise<unknown>): Promise<LanguageModelError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LanguageModelError);
  return error as LanguageModelError;
}

describe.each(languageModelAdapters)("LanguageModel contract: $name", (adapter) => {
  let fake: FakeLlm;
  let model: LanguageModel;

  beforeEach(async () => {
    fake = await startFakeLlm({ fixtures: [script] });
    model = adapter.create(fake, {});
  });
  afterEach(async () => {
    await fake.close();
  });

  it("answers a plain call with text, usage as reported, and its own identity", async () => {
    const answer = await model.generate(proseCall);
    expect(answer.text).toContain("sales");
    expect(answer.provider).toBe(model.provider);
    expect(answer.modelId).toBe(model.modelId);
    expect(answer.finishReason).toBe("stop");
    expect(answer.latencyMs).toBeGreaterThanOrEqual(0);
    const reported = fake.requests[0]?.usage;
    expect(answer.usage).toEqual({ inputTokens: reported?.promptTokens, outputTokens: reported?.completionTokens });
    expect(answer.usage.inputTokens).toBeGreaterThan(0);
    expect(fake.requests[0]?.model).toBe(model.modelId);
  });

  it("streams the same text in several deltas, with the same usage", async () => {
    const plain = await model.generate(buildCall("case:build"));
    const deltas: string[] = [];
    const streamed = await model.generate(buildCall("case:build", { stream: true, onDelta: (delta) => deltas.push(delta) }));
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join("")).toBe(streamed.text);
    expect(streamed.text).toBe(plain.text);
    expect(streamed.usage).toEqual(plain.usage);
    expect(streamed.finishReason).toBe("stop");
    expect(fake.requests.map((r) => r.stream)).toEqual([false, true]);
  });

  it("asks for the provider's JSON mode when format is json, and returns the raw text", async () => {
    const answer = await model.generate(buildCall("case:build"));
    expect(JSON.parse(answer.text)).toEqual({ files: { "index.html": page } });
    expect(fake.requests[0]?.responseFormat).toBe("json-object");

    const prose = await model.generate({ ...proseCall, format: "json" });
    expect(JSON.parse(prose.text)).toHaveProperty("answer");

    await model.generate(proseCall);
    expect(fake.requests[2]?.responseFormat).toBe("text");
  });

  it("leaves parsing to the caller: an answer that is not JSON comes back as text", async () => {
    const answer = await model.generate(buildCall("case:unparseable"));
    expect(answer.text).toBe("Sorry, here is some prose instead of JSON.");
    const streamed = await model.generate(buildCall("case:unparseable", { stream: true }));
    expect(streamed.text).toBe(answer.text);
  });

  it("sends the whole conversation, assistant turns included", async () => {
    const answer = await model.generate(
      buildCall("", {
        messages: [
          { role: "user", content: "first request" },
          { role: "assistant", content: "an earlier assistant turn" },
          { role: "user", content: "now fix it" },
        ],
      }),
    );
    expect(JSON.parse(answer.text).files["index.html"]).toBe(page);
  });

  it("sends images as image parts when the model takes them, else a description", async () => {
    const png = tinyPng(3, 2);
    const images = [{ name: "logo.png", mimeType: "image/png", data: png }];
    const seeing = adapter.create(fake, { supportsImages: true });
    const blind = adapter.create(fake, { supportsImages: false });
    expect([seeing.supportsImages, blind.supportsImages]).toEqual([true, false]);
    for (const stream of [false, true]) {
      await seeing.generate(buildCall("case:build", { images, stream }));
      await blind.generate(buildCall("case:build", { images, stream }));
    }
    const bodies = fake.requests.map((request) => JSON.stringify(request.body));
    const base64 = png.toString("base64");
    expect(bodies.map((body) => body.includes(base64))).toEqual([true, false, true, false]);
    expect(bodies.map((body) => body.includes(`logo.png (image/png, ${png.length} bytes, 3×2 px)`))).toEqual([false, true, false, true]);
  });

  it("turns a 500 into a retryable error with the status code", async () => {
    for (const stream of [false, true]) {
      const error = await failure(model.generate(buildCall("case:server-error", { stream })));
      expect(error.isRetryable).toBe(true);
      expect(error.statusCode).toBe(500);
      expect(error.provider).toBe(model.provider);
      expect(error.cause).toBeDefined();
    }
  });

  it("turns a 400 into a non-retryable error that keeps the provider's message", async () => {
    const error = await failure(model.generate(buildCall("case:bad-request")));
    expect(error.isRetryable).toBe(false);
    expect(error.statusCode).toBe(400);
    expect(error.message).toContain("context length exceeded");
  });

  it("exposes Retry-After of a 429 in milliseconds", async () => {
    const error = await failure(model.generate(buildCall("case:rate-limited", { stream: true })));
    expect(error.isRetryable).toBe(true);
    expect(error.statusCode).toBe(429);
    expect(error.retryAfterMs).toBe(3000);
  });

  it("makes one attempt only: retrying is the policy layer's job", async () => {
    const error = await failure(model.generate(buildCall("case:flaky")));
    expect(error.statusCode).toBe(503);
    expect(fake.requests).toHaveLength(1);
    const answer = await model.generate(buildCall("case:flaky"));
    expect(JSON.parse(answer.text).files["index.html"]).toBe(page);
  });

  it("never puts the API key into an error message", async () => {
    const leaky = adapter.create(fake, { apiKey: "secret-key-123" });
    const error = await failure(leaky.generate(buildCall("case:leaky")));
    expect(error.isRetryable).toBe(false);
    expect(error.statusCode).toBe(401);
    expect(error.message).not.toContain("secret-key-123");
    expect(error.message).toContain("[redacted]");
  });

  it("times out quickly with a retryable error, plain and streamed", async () => {
    const impatient = adapter.create(fake, { timeoutMs: 300 });
    for (const [marker, stream] of [
      ["case:hang", false],
      ["case:slow", true],
    ] as const) {
      const started = Date.now();
      const error = await failure(impatient.generate(buildCall(marker, { stream })));
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(error.isRetryable).toBe(true);
      expect(error.code).toBe("llm-timeout");
      expect(error.statusCode).toBeUndefined();
    }
  });

  it("stops at the caller's signal without suggesting a retry", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await failure(model.generate(buildCall("case:hang", { signal: controller.signal })));
    expect(error.isRetryable).toBe(false);
    expect(error.code).toBe("llm-aborted");
  });

  it("reports an unreachable server as a retryable error without a status", async () => {
    const gone = await startFakeLlm({ fixtures: [] });
    await gone.close();
    const error = await failure(adapter.create(gone, {}).generate(proseCall));
    expect(error.isRetryable).toBe(true);
    expect(error.statusCode).toBeUndefined();
  });
});
