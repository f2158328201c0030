import { afterEach, describe, expect, it } from "vitest";
import { createLanguageModel } from "../../src/adapters/llm/create-language-model.ts";
import { loadConfig } from "../../src/config.ts";
import { createGeminiLanguageModel } from "../../src/adapters/llm/gemini-language-model.ts";
import { createOpenAICompatibleLanguageModel } from "../../src/adapters/llm/openai-compatible-language-model.ts";
import { createResilientLanguageModel, type ProviderPolicy } from "../../src/adapters/llm/resilient-language-model.ts";
import { AllProvidersFailedError, LanguageModelError } from "../../src/domain/errors.ts";
import { outputFormatLine } from "../../src/domain/output-format.ts";
import type { FixtureResponse } from "../../src/fake-llm/fixture-file.ts";
import { startFakeLlm, type FakeLlm } from "../../src/fake-llm/start-fake-llm.ts";
import type { ModelCall, ModelEvent } from "../../src/ports/language-model.ts";

// The fallback chain over real HTTP: an OpenAI-protocol primary and a Gemini fallback, both scripted
// (and once an Anthropic fallback built from the configuration, as `LLM_FALLBACKS=anthropic` does).

const page = "<!doctype html><title>Chain</title>\n";
const fast: ProviderPolicy = { timeoutMs: 5_000, retries: 2, breakerThreshold: 3, breakerCooldownMs: 60_000, backoffBaseMs: 20, backoffMaxMs: 50 };
const call = (overrides: Partial<ModelCall> = {}): ModelCall => ({
  purpose: "generate",
  system: `Build it.\n${outputFormatLine("files-json")}`,
  messages: [{ role: "user", content: "Build the chain page" }],
  format: "json",
  ...overrides,
});

const fakes: FakeLlm[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

async function fake(...responses: FixtureResponse[]): Promise<FakeLlm> {
  const started = await startFakeLlm({ fixtures: [{ fixtures: [{ match: [], responses }] }] });
  fakes.push(started);
  return started;
}

async function chain(primaryResponses: FixtureResponse[], options: { primary?: Partial<ProviderPolicy>; stream?: boolean } = {}) {
  const primaryFake = await fake(...primaryResponses);
  const geminiFake = await fake({ files: { "index.html": page } });
  const primaryPolicy = { ...fast, ...options.primary };
  const model = createResilientLanguageModel({
    providers: [
      {
        model: createOpenAICompatibleLanguageModel({ provider: "vllm", baseUrl: `${primaryFake.url}/v1`, model: "coder", apiKey: "k1", timeoutMs: primaryPolicy.timeoutMs }),
        policy: primaryPolicy,
      },
      {
        model: createGeminiLanguageModel({ baseUrl: `${geminiFake.url}/v1beta`, model: "gemini-2.5-flash", apiKey: "k2", timeoutMs: fast.timeoutMs }),
        policy: fast,
      },
    ],
    ...(options.stream === undefined ? {} : { stream: options.stream }),
  });
  return { model, primaryFake, geminiFake };
}

function recorder() {
  const events: ModelEvent[] = [];
  return { events, onEvent: (event: ModelEvent) => events.push(event), types: () => events.map((e) => e.type) };
}

describe("resilient language model", () => {
  it("retries a failing primary, opens its breaker, falls back, then skips it at once", async () => {
    const { model, primaryFake, geminiFake } = await chain([{ status: 500 }]);
    expect(model.provider).toBe("vllm>gemini");
    const first = recorder();
    const answer = await model.generate(call({ onEvent: first.onEvent }));
    expect(JSON.parse(answer.text).files["index.html"]).toBe(page);
    expect(answer.provider).toBe("gemini");
    expect(answer.attempts).toBe(4);
    expect(primaryFake.requests).toHaveLength(3);
    expect(first.types()).toEqual(["attempt-fail", "retry", "attempt-fail", "retry", "attempt-fail", "breaker-open", "fallback"]);
    expect(first.events[0]).toMatchObject({ provider: "vllm", attempt: 1, statusCode: 500, retryable: true });
    expect(first.events[5]).toMatchObject({ provider: "vllm", cooldownMs: 60_000 });
    expect(first.events[6]).toMatchObject({ from: "vllm", to: "gemini" });
    expect(model.status().map((s) => [s.provider, s.breaker])).toEqual([
      ["vllm", "open"],
      ["gemini", "closed"],
    ]);

    const second = recorder();
    const started = performance.now();
    await model.generate(call({ onEvent: second.onEvent }));
    expect(performance.now() - started).toBeLessThan(500);
    expect(primaryFake.requests).toHaveLength(3);
    expect(geminiFake.requests).toHaveLength(2);
    expect(second.types()).toEqual(["fallback"]);
    expect((second.events[0] as { reason: string }).reason).toMatch(/circuit open/);
  });

  it("honours Retry-After of a 429 and stays on the primary", async () => {
    const { model, primaryFake, geminiFake } = await chain([{ status: 429, retry_after: 1 }, { files: { "index.html": page } }]);
    const seen = recorder();
    const started = performance.now();
    const answer = await model.generate(call({ onEvent: seen.onEvent }));
    const elapsed = performance.now() - started;
    expect(answer.provider).toBe("vllm");
    expect(answer.attempts).toBe(2);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(2_500);
    expect(seen.events.find((e) => e.type === "retry")).toMatchObject({ delayMs: 1000, delaySource: "retry-after", attempt: 2 });
    expect(primaryFake.requests).toHaveLength(2);
    expect(geminiFake.requests).toHaveLength(0);
  });

  it("does not retry a 400 or count it against the breaker, but lets the next provider try", async () => {
    const { model, primaryFake } = await chain([{ status: 400, message: "context length exceeded" }], { primary: { breakerThreshold: 1 } });
    const seen = recorder();
    const answer = await model.generate(call({ onEvent: seen.onEvent }));
    expect(answer.provider).toBe("gemini");
    expect(primaryFake.requests).toHaveLength(1);
    expect(seen.types()).toEqual(["attempt-fail", "fallback"]);
    expect(model.status()[0]!.breaker).toBe("closed");
  });

  it("times a hanging primary out and falls back within the timeout plus a second", async () => {
    // Retries stay at 2: a timeout moves on to the fallback instead of spending another timeout.
    const { model } = await chain([{ hang: true }], { primary: { timeoutMs: 500 } });
    const seen = recorder();
    const started = performance.now();
    const answer = await model.generate(call({ onEvent: seen.onEvent }));
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(answer.provider).toBe("gemini");
    expect(seen.events[0]).toMatchObject({ type: "attempt-fail", code: "llm-timeout", retryable: true });
    expect(seen.types()).toEqual(["attempt-fail", "fallback"]);
  });

  it("retries a timeout on the last provider, where there is no fallback to spend it on", async () => {
    const primaryFake = await fake({ hang: true }, { files: { "index.html": page } });
    const model = createResilientLanguageModel({
      providers: [{ model: createOpenAICompatibleLanguageModel({ provider: "vllm", baseUrl: `${primaryFake.url}/v1`, model: "a", timeoutMs: 5_000 }), policy: { ...fast, timeoutMs: 300 } }],
    });
    const seen = recorder();
    const answer = await model.generate(call({ onEvent: seen.onEvent }));
    expect(answer.provider).toBe("vllm");
    expect(seen.types()).toEqual(["attempt-fail", "retry"]);
  });

  it("lets one trial call through after the cool-down and closes the breaker when it succeeds", async () => {
    const { model, primaryFake } = await chain([{ status: 503 }, { files: { "index.html": page } }], {
      primary: { retries: 0, breakerThreshold: 1, breakerCooldownMs: 200 },
    });
    const first = recorder();
    expect((await model.generate(call({ onEvent: first.onEvent }))).provider).toBe("gemini");
    expect(first.types()).toEqual(["attempt-fail", "breaker-open", "fallback"]);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(model.status()[0]!.breaker).toBe("half-open");
    const second = recorder();
    expect((await model.generate(call({ onEvent: second.onEvent }))).provider).toBe("vllm");
    expect(second.types()).toEqual(["breaker-half-open", "breaker-close"]);
    expect(primaryFake.requests).toHaveLength(2);
    expect(model.status()[0]!.breaker).toBe("closed");
  });

  it("attributes a breaker change to the call that caused it when calls run concurrently", async () => {
    const { model } = await chain([{ status: 500, delay_ms: 50 }], { primary: { retries: 0, breakerThreshold: 1 } });
    const [a, b] = [recorder(), recorder()];
    await Promise.all([model.generate(call({ onEvent: a.onEvent })), model.generate(call({ onEvent: b.onEvent }))]);
    const opened = [a, b].map((r) => r.types().filter((type) => type === "breaker-open").length);
    expect(opened.sort()).toEqual([0, 1]);
  });

  it("fails with every provider's error when all of them fail", async () => {
    const primaryFake = await fake({ status: 500 });
    const secondFake = await fake({ status: 401, message: "bad key" });
    const model = createResilientLanguageModel({
      providers: [
        { model: createOpenAICompatibleLanguageModel({ provider: "vllm", baseUrl: `${primaryFake.url}/v1`, model: "a", timeoutMs: 5_000 }), policy: { ...fast, retries: 1 } },
        { model: createGeminiLanguageModel({ baseUrl: `${secondFake.url}/v1beta`, model: "b", apiKey: "k", timeoutMs: 5_000 }), policy: fast },
      ],
    });
    const error = await model.generate(call()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AllProvidersFailedError);
    const all = error as AllProvidersFailedError;
    expect(all.errors.map((e) => [e.provider, e.statusCode])).toEqual([
      ["vllm", 500],
      ["gemini", 401],
    ]);
    expect(all.isRetryable).toBe(true);
    expect(all.cause).toBeInstanceOf(AggregateError);
    expect(secondFake.requests).toHaveLength(1);
  });

  it("stops at the caller's abort without falling back", async () => {
    const { model, geminiFake } = await chain([{ hang: true }]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await model.generate(call({ signal: controller.signal })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LanguageModelError);
    expect((error as LanguageModelError).code).toBe("llm-aborted");
    expect(geminiFake.requests).toHaveLength(0);
  });

  it("streams by default when configured, with the same text as a plain call", async () => {
    const { model, primaryFake } = await chain([{ files: { "index.html": page } }], { stream: true });
    const deltas: string[] = [];
    const streamed = await model.generate(call({ onDelta: (delta) => deltas.push(delta) }));
    const plain = await model.generate(call({ stream: false }));
    expect(primaryFake.requests.map((r) => r.stream)).toEqual([true, false]);
    expect(deltas.join("")).toBe(streamed.text);
    expect(streamed.text).toBe(plain.text);
  });

  it("passes the call's tools to each provider: a fallback gets the same tools and its tool calls are reported", async () => {
    const primaryFake = await fake({ status: 500 });
    const geminiFake = await fake({ tool_calls: [{ name: "look_up", arguments: { word: "chain" } }] }, { files: { "index.html": page } });
    const model = createResilientLanguageModel({
      providers: [
        {
          model: createOpenAICompatibleLanguageModel({ provider: "vllm", baseUrl: `${primaryFake.url}/v1`, model: "coder", timeoutMs: 5_000, supportsTools: true }),
          policy: { ...fast, retries: 0 },
        },
        { model: createGeminiLanguageModel({ baseUrl: `${geminiFake.url}/v1beta`, model: "gemini-2.5-flash", apiKey: "k2", timeoutMs: 5_000 }), policy: fast },
      ],
    });
    expect(model.supportsTools).toBe(true);
    expect(model.status().map((p) => p.supportsTools)).toEqual([true, true]);
    const looked: unknown[] = [];
    const seen = recorder();
    const answer = await model.generate(
      call({
        onEvent: seen.onEvent,
        tools: [
          {
            name: "look_up",
            description: "Look a word up",
            parameters: { type: "object", properties: { word: { type: "string" } }, required: ["word"] },
            execute: async (args: unknown) => {
              looked.push(args);
              return { meaning: "a row of links" };
            },
          },
        ],
      }),
    );
    expect(answer.provider).toBe("gemini");
    expect(JSON.parse(answer.text).files["index.html"]).toBe(page);
    expect(JSON.stringify(primaryFake.requests[0]!.body)).toContain('"name":"look_up"');
    expect(JSON.stringify(geminiFake.requests[0]!.body)).toContain('"name":"look_up"');
    expect(looked).toEqual([{ word: "chain" }]);
    expect(seen.types()).toEqual(["attempt-fail", "fallback", "tool-call"]);
    expect(seen.events[2]).toMatchObject({ provider: "gemini", tool: "look_up", outcome: "ok" });
  });

  it("falls back to Anthropic when LLM_FALLBACKS=anthropic: a primary 500 is served by Claude over the Messages API", async () => {
    const primaryFake = await fake({ status: 500 });
    // requireKey: the Anthropic route answers 401 unless the configured key arrives (as x-api-key).
    const anthropicFake = await startFakeLlm({ fixtures: [{ fixtures: [{ match: [], responses: [{ files: { "index.html": page } }] }] }], requireKey: true });
    fakes.push(anthropicFake);
    const { llm } = loadConfig(
      {
        VLLM_ENDPOINT: `${primaryFake.url}/v1`,
        LLM_FALLBACKS: "anthropic",
        ANTHROPIC_API_KEY: "k-anthropic",
        ANTHROPIC_BASE_URL: `${anthropicFake.url}/v1`,
        LLM_RETRIES: "0",
        LLM_TIMEOUT_SECONDS: "5",
      },
      { readDotEnv: false },
    );
    const model = createLanguageModel(llm)!;
    expect(model.provider).toBe("vllm>anthropic");
    const seen = recorder();
    for (const stream of [false, true]) {
      const answer = await model.generate(call({ stream, onEvent: seen.onEvent }));
      expect(answer).toMatchObject({ provider: "anthropic", modelId: "claude-sonnet-4-5" });
      expect(JSON.parse(answer.text).files["index.html"]).toBe(page);
    }
    expect(seen.events.filter((e) => e.type === "fallback")[0]).toMatchObject({ from: "vllm", to: "anthropic" });
    expect(anthropicFake.requests.map((r) => [r.route, r.status, r.stream, r.responseFormat])).toEqual([
      ["anthropic-messages", 200, false, "json-object"],
      ["anthropic-messages", 200, true, "json-object"],
    ]);
  });
});
