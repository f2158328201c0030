import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAnthropicLanguageModel } from "../../src/adapters/llm/anthropic-language-model.ts";
import { createGeminiLanguageModel } from "../../src/adapters/llm/gemini-language-model.ts";
import { createOpenAICompatibleLanguageModel } from "../../src/adapters/llm/openai-compatible-language-model.ts";
import { LanguageModelError } from "../../src/domain/errors.ts";
import { outputFormatLine } from "../../src/domain/output-format.ts";
import type { FixtureFile } from "../../src/fake-llm/fixture-file.ts";
import { startFakeLlm, type FakeLlm } from "../../src/fake-llm/start-fake-llm.ts";
import type { LanguageModel, ModelCall, ModelEvent, ModelTool } from "../../src/ports/language-model.ts";
import { z } from "zod";
import { tinyPng } from "../support/tiny-png.ts";

/**
 * One contract for every LanguageModel adapter, run against the scripted LLM over real HTTP.
 * Each adapter speaks its own wire protocol to the same fake, so the assertions stay
 * protocol-neutral. Narrow the run with LLM_ADAPTERS=openai-compatible,gemini,anthropic.
 */
interface LanguageModelAdapter {
  readonly name: string;
  create(fake: { url: string }, options: { timeoutMs?: number; apiKey?: string; supportsImages?: boolean; supportsTools?: boolean }): LanguageModel;
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
      ...(options.supportsTools === undefined ? {} : { supportsTools: options.supportsTools }),
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
      ...(options.supportsTools === undefined ? {} : { supportsTools: options.supportsTools }),
    }),
};

const anthropicAdapter: LanguageModelAdapter = {
  name: "anthropic",
  create: (fake, options) =>
    createAnthropicLanguageModel({
      baseUrl: `${fake.url}/v1`,
      // A model the SDK knows, so it sends its real max_tokens and takes output_config.format.
      model: "claude-sonnet-4-5",
      apiKey: options.apiKey ?? "contract-key",
      timeoutMs: options.timeoutMs ?? 10_000,
      ...(options.supportsImages === undefined ? {} : { supportsImages: options.supportsImages }),
      ...(options.supportsTools === undefined ? {} : { supportsTools: options.supportsTools }),
    }),
};

const wanted = process.env.LLM_ADAPTERS?.split(",").map((name) => name.trim());
const languageModelAdapters = [openAICompatibleAdapter, geminiAdapter, anthropicAdapter].filter((adapter) => !wanted || wanted.includes(adapter.name));

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
    ...[false, true].map((stream) => ({
      match: [`case:tools-${stream ? "streamed" : "plain"}`],
      responses: [
        { tool_calls: [{ name: "look_up", arguments: { word: "alpha", source: "https://reader:pw@dictionary.test/define?api_key=contract-key&q=alpha" } }] },
        { tool_calls: [{ name: "count", arguments: { text: "one two three" } }] },
        { files: { "index.html": page } },
      ],
    })),
    {
      match: ["case:tool-failures"],
      responses: [
        { tool_calls: [{ name: "look_up", arguments: { word: "forbidden" } }, { name: "count", arguments: { text: "boom" } }] },
        { files: { "index.html": page } },
      ],
    },
    { match: ["case:tool-forever"], responses: [{ tool_calls: [{ name: "count", arguments: { text: "again" } }] }] },
  ],
};

/** Two tools, one declared with zod and one with a JSON Schema; what they were called with is kept. */
function tools(): { tools: ModelTool[]; calls: unknown[] } {
  const calls: unknown[] = [];
  return {
    calls,
    tools: [
      {
        name: "look_up",
        description: "Look a word up in the dictionary",
        parameters: z.object({ word: z.string(), source: z.string().optional() }),
        async execute(args: { word: string }) {
          calls.push(args);
          if (args.word === "forbidden") return { ok: false, error: "that word is not allowed" };
          return { ok: true, meaning: `${args.word}: the first letter (looked up)` };
        },
      },
      {
        name: "count",
        description: "Count the words of a text",
        parameters: { type: "object", properties: { text: { type: "string" } }, required: ["text"], additionalProperties: false },
        async execute(args: { text: string }) {
          calls.push(args);
          if (args.text === "boom") throw new Error("the counter broke");
          return { words: args.text.split(" ").length };
        },
      },
    ],
  };
}

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

  it("sends a call's schema as the provider's schema mode and gets an answer of that shape, plain and streamed", async () => {
    const schema = {
      type: "object" as const,
      properties: { summary: { type: "string" }, steps: { type: "array", items: { type: "string" } } },
      required: ["summary", "steps"],
      additionalProperties: false,
    };
    const shape = z.object({ summary: z.string().min(1), steps: z.array(z.string()).min(1) }).strict();
    const plain = await model.generate({ ...proseCall, format: "json", schema });
    const streamed = await model.generate({ ...proseCall, format: "json", schema, stream: true });
    expect(shape.parse(JSON.parse(plain.text))).toEqual(shape.parse(JSON.parse(streamed.text)));
    expect(fake.requests.map((r) => [r.responseFormat, r.fileProducing])).toEqual([
      ["json-schema", false],
      ["json-schema", false],
    ]);
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

  it("runs the tools the model calls, sends their results back, and returns the final answer with usage summed", async () => {
    const toolModel = adapter.create(fake, { supportsTools: true, apiKey: "contract-key" });
    expect(toolModel.supportsTools).toBe(true);
    for (const stream of [false, true]) {
      const { tools: offered, calls } = tools();
      const events: ModelEvent[] = [];
      const deltas: string[] = [];
      const before = fake.requests.length;
      const answer = await toolModel.generate(
        buildCall(`case:tools-${stream ? "streamed" : "plain"}`, { tools: offered, stream, onEvent: (e) => events.push(e), onDelta: (d) => deltas.push(d) }),
      );
      const requests = fake.requests.slice(before);
      expect(requests.map((r) => r.toolCalls)).toEqual([["look_up"], ["count"], []]);
      expect(calls).toEqual([{ word: "alpha", source: "https://reader:pw@dictionary.test/define?api_key=contract-key&q=alpha" }, { text: "one two three" }]);
      // Each result reached the model in the request after the call.
      expect(JSON.stringify(requests[1]!.body)).toContain("alpha: the first letter (looked up)");
      expect(JSON.stringify(requests[2]!.body)).toMatch(/\\?"words\\?":3/);
      expect(JSON.parse(answer.text)).toEqual({ files: { "index.html": page } });
      expect(answer.finishReason).toBe("stop");
      expect(answer.usage).toEqual({
        inputTokens: requests.reduce((sum, r) => sum + r.usage!.promptTokens, 0),
        outputTokens: requests.reduce((sum, r) => sum + r.usage!.completionTokens, 0),
      });
      if (stream) expect(deltas.join("")).toContain(answer.text);
      const toolEvents = events.filter((e) => e.type === "tool-call");
      expect(toolEvents.map((e) => [e.tool, e.outcome, e.detail])).toEqual([
        ["look_up", "ok", null],
        ["count", "ok", null],
      ]);
      expect(toolEvents[0]).toMatchObject({ provider: toolModel.provider, model: toolModel.modelId });
      expect(toolEvents[0]!.durationMs).toBeGreaterThanOrEqual(0);
      // Credentials, key-like query values and the provider key never reach the record.
      expect(toolEvents[0]!.arguments).toBe('{"word":"alpha","source":"https://***@dictionary.test/define?api_key=***&q=alpha"}');
      expect(JSON.stringify(events)).not.toContain("contract-key");
    }
    // JSON mode goes with tools where the provider allows it (Gemini 2.x refuses the pair).
    expect(fake.requests[0]!.responseFormat).toBe(adapter.name === "gemini" ? "text" : "json-object");
  });

  it("hands a tool's refusal and a tool's error back to the model as results, and reports both", async () => {
    const { tools: offered } = tools();
    const events: ModelEvent[] = [];
    const answer = await adapter.create(fake, { supportsTools: true }).generate(buildCall("case:tool-failures", { tools: offered, onEvent: (e) => events.push(e) }));
    expect(JSON.parse(answer.text).files["index.html"]).toBe(page);
    const followUp = JSON.stringify(fake.requests[1]!.body);
    expect(followUp).toContain("that word is not allowed");
    expect(followUp).toContain("the counter broke");
    expect(events.filter((e) => e.type === "tool-call").map((e) => [e.tool, e.outcome, e.detail])).toEqual([
      ["look_up", "refused", "that word is not allowed"],
      ["count", "error", "the counter broke"],
    ]);
  });

  it("makes the model answer in text after maxToolSteps, with tools turned off for that step", async () => {
    const { tools: offered, calls } = tools();
    const error = await failure(adapter.create(fake, { supportsTools: true }).generate(buildCall("case:tool-forever", { tools: offered, maxToolSteps: 2 })));
    // Two tool steps ran; the third request turned tools off, and the fixture's tool call was refused for it.
    expect(calls).toHaveLength(2);
    expect(fake.requests).toHaveLength(3);
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(/tools turned off/);
  });

  it("sends no tools to a model without tool support", async () => {
    const { tools: offered, calls } = tools();
    const plain = adapter.create(fake, { supportsTools: false });
    expect(plain.supportsTools).toBe(false);
    const answer = await plain.generate(buildCall("case:build", { tools: offered }));
    expect(JSON.parse(answer.text).files["index.html"]).toBe(page);
    expect(calls).toEqual([]);
    // Not "no `tools` field": Anthropic's JSON mode is itself a tool (the SDK's `json` tool), so
    // what must hold everywhere is that none of the call's own tools reached the wire.
    const body = JSON.stringify(fake.requests[0]!.body);
    for (const tool of offered) expect(body).not.toContain(tool.description);
    expect(fake.requests[0]!.responseFormat).toBe("json-object");
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

describe("Anthropic adapter: an error event inside a stream", () => {
  // The scripted LLM fails before answering; Anthropic can also fail after the first event (an
  // `overloaded_error` under load), which the SDK hands on as a bare object. A fetch that plays
  // such a stream checks the adapter still sorts it as a retryable 529.
  it("is a retryable error with Anthropic's status for its type, key redacted", async () => {
    const events = [
      { type: "message_start", message: { id: "msg_1", type: "message", role: "assistant", model: "claude-sonnet-4-5", content: [], usage: { input_tokens: 5, output_tokens: 1 } } },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Half an ans" } },
      { type: "error", error: { type: "overloaded_error", message: "Overloaded (key secret-key-123)" } },
    ];
    const body = events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join("");
    const model = createAnthropicLanguageModel({
      apiKey: "secret-key-123",
      model: "claude-sonnet-4-5",
      timeoutMs: 5_000,
      fetch: async () => new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } }),
    });
    const error = await failure(model.generate({ ...proseCall, stream: true }));
    expect(error).toMatchObject({ provider: "anthropic", statusCode: 529, isRetryable: true });
    expect(error.message).toContain("overloaded_error");
    expect(error.message).not.toContain("secret-key-123");
  });
});
