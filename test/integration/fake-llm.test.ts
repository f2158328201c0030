import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createAnthropic } from "@ai-sdk/anthropic";
import { createGoogleGenerativeAI } from "@ai-sdk/google";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { APICallError, embedMany, generateText, jsonSchema, Output, stepCountIs, streamText, tool } from "ai";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { outputFormatLine, type OutputFormat } from "../../src/domain/output-format.ts";
import type { FixtureFile } from "../../src/fake-llm/fixture-file.ts";
import { startFakeLlm, type FakeLlm } from "../../src/fake-llm/start-fake-llm.ts";
import { sharedFixtures } from "../support/shared-dir.ts";

const SHARED_LLM_FIXTURES = join(sharedFixtures, "llm");
const SHARED_TASKS = join(sharedFixtures, "tasks");

let fake: FakeLlm | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(fixtures: Parameters<typeof startFakeLlm>[0]["fixtures"], requireKey = false): Promise<FakeLlm> {
  fake = await startFakeLlm({ fixtures, requireKey });
  return fake;
}

function openai(server: FakeLlm, settings: { structured?: boolean } = {}) {
  return createOpenAICompatible({
    name: "vllm",
    baseURL: `${server.url}/v1`,
    apiKey: "test-key",
    includeUsage: true,
    supportsStructuredOutputs: settings.structured ?? false,
  });
}

function gemini(server: FakeLlm) {
  return createGoogleGenerativeAI({ baseURL: `${server.url}/v1beta`, apiKey: "test-key" });
}

function anthropic(server: FakeLlm) {
  return createAnthropic({ baseURL: `${server.url}/v1`, apiKey: "test-key" });
}

function system(format: OutputFormat): string {
  return `You write web apps.\n${outputFormatLine(format)}\nAnswer with the files only.`;
}

const files = (name: string): FixtureFile["fixtures"][number]["responses"][number] => ({
  files: { "index.html": `<!doctype html><title>${name}</title>\n` },
});

/** Asks for files in `files-json` and returns the parsed file map. */
async function askFiles(server: FakeLlm, prompt: string): Promise<Record<string, string>> {
  const { text } = await generateText({
    model: openai(server)("coder"),
    system: system("files-json"),
    prompt,
    maxRetries: 0,
  });
  return (JSON.parse(text) as { files: Record<string, string> }).files;
}

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe("fake-llm matching and scripting", () => {
  it("serves the first fixture whose match strings all occur, in file order then fixture order", async () => {
    const server = await start([
      {
        fixtures: [
          { match: ["alpha"], responses: [files("first")] },
          { match: ["alpha", "beta"], responses: [files("second")] },
        ],
      },
      { fixtures: [{ match: [], responses: [files("catch-all")] }] },
    ]);
    expect((await askFiles(server, "alpha and beta"))["index.html"]).toContain("first");
    expect((await askFiles(server, "only beta"))["index.html"]).toContain("catch-all");
    expect(server.requests.map((r) => [r.fixtureIndex, r.fixtureSource])).toEqual([
      [0, "fixtures[0]#0"],
      [2, "fixtures[1]#0"],
    ]);
  });

  it("matches against the system message too, and needs every match string", async () => {
    const server = await start([
      { fixtures: [{ match: ["write web apps", "gamma"], responses: [files("system-matched")] }] },
    ]);
    expect((await askFiles(server, "gamma"))["index.html"]).toContain("system-matched");
    const missing = await generateText({ model: openai(server)("coder"), system: system("files-json"), prompt: "delta", maxRetries: 0 }).catch(
      (error: unknown) => error,
    );
    expect(APICallError.isInstance(missing) && missing.statusCode).toBe(404);
  });

  it("loads a directory's *.json files in name order", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fake-llm-"));
    try {
      await writeFile(join(dir, "b.json"), JSON.stringify({ fixtures: [{ match: [], responses: [files("from-b")] }] }));
      await writeFile(join(dir, "a.json"), JSON.stringify({ fixtures: [{ match: [], responses: [files("from-a")] }] }));
      await writeFile(join(dir, "notes.txt"), "not a fixture");
      const server = await start(dir);
      expect((await askFiles(server, "anything"))["index.html"]).toContain("from-a");
      expect(server.requests[0]?.fixtureSource).toBe("a.json#0");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a malformed fixture file and names the field", async () => {
    await expect(startFakeLlm({ fixtures: [{ fixtures: [{ match: [], responses: [{ delay_ms: 5 }] }] }] })).rejects.toThrow(
      /fixtures\[0\]:fixtures\.0\.responses\.0/,
    );
    await expect(
      startFakeLlm({ fixtures: [{ fixtures: [{ match: [], response: [files("typo")] }] } as unknown as FixtureFile] }),
    ).rejects.toThrow(/responses/);
  });

  it("serves responses in turn and repeats the last", async () => {
    const server = await start([{ fixtures: [{ match: [], responses: [files("one"), files("two")] }] }]);
    const titles = [];
    for (let i = 0; i < 3; i += 1) titles.push((await askFiles(server, "go"))["index.html"]);
    expect(titles.map((t) => /<title>(\w+)</.exec(t!)?.[1])).toEqual(["one", "two", "two"]);
    expect(server.requests.map((r) => r.responseIndex)).toEqual([0, 1, 1]);
  });

  it("answers a scripted status in the provider's error shape, with Retry-After", async () => {
    const server = await start([
      { fixtures: [{ match: [], responses: [{ status: 429, retry_after: 7 }, { status: 503, message: "overloaded" }, files("ok")] }] },
    ]);
    const body = {
      model: "coder",
      messages: [
        { role: "system", content: system("files-json") },
        { role: "user", content: "go" },
      ],
    };
    const limited = await postJson(`${server.url}/v1/chat/completions`, body);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    expect(JSON.parse(limited.text)).toMatchObject({ error: { type: "rate_limit_error", message: expect.any(String) } });

    const unavailable = await generateText({ model: openai(server)("coder"), system: system("files-json"), prompt: "go", maxRetries: 0 }).catch(
      (error: unknown) => error,
    );
    expect(APICallError.isInstance(unavailable)).toBe(true);
    expect((unavailable as APICallError).statusCode).toBe(503);
    expect((unavailable as APICallError).message).toBe("overloaded");
    expect(server.requests.map((r) => r.status)).toEqual([429, 503]);
  });

  it("answers Gemini errors in Google's shape", async () => {
    const server = await start([{ fixtures: [{ match: [], responses: [{ status: 503 }] }] }]);
    const response = await postJson(`${server.url}/v1beta/models/gemini-2.0-flash:generateContent`, {
      systemInstruction: { parts: [{ text: system("files-json") }] },
      contents: [{ role: "user", parts: [{ text: "go" }] }],
    });
    expect(response.status).toBe(503);
    expect(JSON.parse(response.text)).toMatchObject({ error: { code: 503, status: "UNAVAILABLE", message: expect.any(String) } });
  });

  it("waits delay_ms before answering, plain and before the first streamed byte", async () => {
    const server = await start([{ fixtures: [{ match: [], responses: [{ delay_ms: 300, ...files("slow") }] }] }]);
    let started = Date.now();
    await askFiles(server, "go");
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    started = Date.now();
    const result = streamText({ model: openai(server)("coder"), system: system("files-json"), prompt: "go", maxRetries: 0 });
    let firstDeltaAt: number | undefined;
    for await (const _delta of result.textStream) firstDeltaAt ??= Date.now();
    expect(firstDeltaAt! - started).toBeGreaterThanOrEqual(290);
  });

  it("holds a hung request until the client gives up", async () => {
    const server = await start([{ fixtures: [{ match: [], responses: [{ hang: true }] }] }]);
    const started = Date.now();
    const error = await generateText({
      model: openai(server)("coder"),
      system: system("files-json"),
      prompt: "go",
      maxRetries: 0,
      abortSignal: AbortSignal.timeout(200),
    }).catch((e: unknown) => e);
    expect((error as Error).name).toMatch(/TimeoutError|AbortError/);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(server.requests[0]?.status).toBeUndefined();
  });

  it("answers 404 naming the match lists when no fixture matches", async () => {
    const server = await start([
      {
        fixtures: [
          { match: ["needle-one"], responses: [files("x")] },
          { match: ["needle-two", "x"], responses: [files("x")] },
        ],
      },
    ]);
    const response = await postJson(`${server.url}/v1/chat/completions`, {
      model: "coder",
      messages: [
        { role: "system", content: system("file-blocks") },
        { role: "user", content: "haystack" },
      ],
    });
    expect(response.status).toBe(404);
    const message = (JSON.parse(response.text) as { error: { message: string } }).error.message;
    expect(message).toContain("no fixture matches");
    expect(message).toContain('["needle-one"]');
    expect(message).toContain('["needle-two","x"]');
  });

  it("does not consume fixture responses for requests that produce no files", async () => {
    const server = await start([{ fixtures: [{ match: [], responses: [files("one"), files("two")] }] }]);
    const prose = await generateText({ model: openai(server)("coder"), system: "You write READMEs.", prompt: "Describe the sales dashboard", maxRetries: 0 });
    expect(prose.text).toContain("sales");
    const again = await generateText({ model: openai(server)("coder"), system: "You write READMEs.", prompt: "Describe the sales dashboard", maxRetries: 0 });
    expect(again.text).toBe(prose.text);
    expect((await askFiles(server, "go"))["index.html"]).toContain("one");
    expect(server.requests.map((r) => r.fileProducing)).toEqual([false, false, true]);
    expect(server.requests[2]?.responseIndex).toBe(0);
  });

  it("rejects an unknown output format name instead of guessing", async () => {
    const server = await start([{ fixtures: [{ match: [], responses: [files("x")] }] }]);
    const response = await postJson(`${server.url}/v1/chat/completions`, {
      model: "coder",
      messages: [{ role: "system", content: "OUTPUT FORMAT: yaml-files" }, { role: "user", content: "go" }],
    });
    expect(response.status).toBe(400);
    expect(response.text).toContain("files-json, file-blocks, edit-blocks");
  });
});

describe("fake-llm output formats", () => {
  const content = {
    "index.html": "<!doctype html>\n<pre>```js\nx\n```</pre>\n",
    "app.js": "console.log(1);",
  };
  const fixtures: FixtureFile[] = [{ fixtures: [{ match: [], responses: [{ files: content }] }] }];

  async function answer(format: OutputFormat): Promise<string> {
    const server = fake ?? (await start(fixtures));
    const { text } = await generateText({ model: openai(server)("coder"), system: system(format), prompt: "go", maxRetries: 0 });
    return text;
  }

  it("files-json: one JSON object with every file", async () => {
    expect(JSON.parse(await answer("files-json"))).toEqual({ files: content });
  });

  it("file-blocks: FILE: lines, each followed by one fenced block that survives backticks inside", async () => {
    const text = await answer("file-blocks");
    const parsed: Record<string, string> = {};
    for (const match of text.matchAll(/^FILE: (.+)\n(`{3,})[^\n]*\n([\s\S]*?)^\2$/gm)) parsed[match[1]!] = match[3]!;
    expect(parsed).toEqual({ "index.html": content["index.html"], "app.js": `${content["app.js"]}\n` });
  });

  it("edit-blocks: FILE: lines, each with an empty SEARCH that replaces the whole file", async () => {
    const text = await answer("edit-blocks");
    const parsed: Record<string, string> = {};
    for (const match of text.matchAll(/^FILE: (.+)\n<<<<<<< SEARCH\n([\s\S]*?)^=======\n([\s\S]*?)^>>>>>>> REPLACE$/gm)) {
      expect(match[2]).toBe("");
      parsed[match[1]!] = match[3]!;
    }
    expect(parsed).toEqual({ "index.html": content["index.html"], "app.js": `${content["app.js"]}\n` });
  });

  const writeFiles = tool({
    description: "Write the app's files",
    inputSchema: jsonSchema<{ files: Record<string, string> }>({
      type: "object",
      properties: { files: { type: "object", additionalProperties: { type: "string" } } },
      required: ["files"],
    }),
  });

  it("tool call: a function with a files parameter is called with {files}, plain and streamed", async () => {
    const server = await start(fixtures);
    const plain = await generateText({ model: openai(server)("coder"), tools: { write_files: writeFiles }, prompt: "go", maxRetries: 0 });
    expect(plain.finishReason).toBe("tool-calls");
    expect(plain.toolCalls).toHaveLength(1);
    expect(plain.toolCalls[0]).toMatchObject({ toolName: "write_files", input: { files: content } });

    const streamed = streamText({ model: openai(server)("coder"), tools: { write_files: writeFiles }, prompt: "go", maxRetries: 0 });
    const calls = await streamed.toolCalls;
    expect(calls[0]).toMatchObject({ toolName: "write_files", input: { files: content } });
    expect(server.requests.map((r) => r.delivery)).toEqual(["tool-call", "tool-call"]);
  });

  it("tool call on Gemini: a functionDeclaration with files gets a functionCall part", async () => {
    const server = await start(fixtures);
    const result = await generateText({ model: gemini(server)("gemini-2.0-flash"), tools: { write_files: writeFiles }, prompt: "go", maxRetries: 0 });
    expect(result.toolCalls[0]).toMatchObject({ toolName: "write_files", input: { files: content } });
  });
});

describe("fake-llm scripted tool calls", () => {
  const lookUp = tool({
    description: "Look a word up",
    inputSchema: z.object({ word: z.string() }),
    execute: async ({ word }) => ({ meaning: `${word} means tested` }),
  });
  const script: FixtureFile = {
    fixtures: [
      {
        match: ["define"],
        responses: [
          {
            tool_calls: [
              { name: "look_up", arguments: { word: "alpha" } },
              { name: "look_up", arguments: { word: "beta" } },
            ],
          },
          files("defined"),
        ],
      },
    ],
  };

  it("answers with the calls, runs the SDK loop, and serves the next response to the request carrying the results", async () => {
    for (const stream of [false, true]) {
      const server = await start([script]);
      const request = { system: system("files-json"), prompt: "define two words", tools: { look_up: lookUp }, stopWhen: stepCountIs(3), maxRetries: 0 };
      const result = stream
        ? await (async () => {
            const streamed = streamText({ model: openai(server)("coder"), ...request });
            return { text: await streamed.text, steps: await streamed.steps };
          })()
        : await generateText({ model: openai(server)("coder"), ...request });
      expect(result.steps).toHaveLength(2);
      expect(result.steps[0]!.toolCalls.map((call) => call.input)).toEqual([{ word: "alpha" }, { word: "beta" }]);
      expect(JSON.parse(result.text).files["index.html"]).toContain("defined");
      expect(server.requests.map((r) => [r.responseIndex, r.toolCalls])).toEqual([
        [0, ["look_up", "look_up"]],
        [1, []],
      ]);
      // The follow-up carries both results back, as tool messages.
      const messages = (server.requests[1]!.body as { messages: { role: string; content: unknown }[] }).messages;
      expect(messages.filter((m) => m.role === "tool").map((m) => m.content)).toEqual([
        JSON.stringify({ meaning: "alpha means tested" }),
        JSON.stringify({ meaning: "beta means tested" }),
      ]);
      await server.close();
      fake = undefined;
    }
  });

  it("on Gemini: functionCall parts, plain and streamed, and functionResponse parts back", async () => {
    for (const stream of [false, true]) {
      const server = await start([script]);
      const request = { system: system("files-json"), prompt: "define two words", tools: { look_up: lookUp }, stopWhen: stepCountIs(3), maxRetries: 0 };
      const model = gemini(server)("gemini-2.5-flash");
      const text = stream ? await streamText({ model, ...request }).text : (await generateText({ model, ...request })).text;
      expect(JSON.parse(text).files["index.html"]).toContain("defined");
      expect(server.requests.map((r) => [r.route, r.toolCalls.length])).toEqual([
        [stream ? "gemini-stream-generate-content" : "gemini-generate-content", 2],
        [stream ? "gemini-stream-generate-content" : "gemini-generate-content", 0],
      ]);
      expect(JSON.stringify(server.requests[1]!.body)).toContain("beta means tested");
      await server.close();
      fake = undefined;
    }
  });

  it("answers 400 when the fixture calls a tool the request does not offer, or tools are turned off", async () => {
    const server = await start([script]);
    const refused = await generateText({ model: openai(server)("coder"), system: system("files-json"), prompt: "define", maxRetries: 0 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(APICallError.isInstance(refused) && refused.statusCode).toBe(400);
    expect((refused as Error).message).toMatch(/scripts a call to look_up, but the request offers none/);
    // The refused request used up its response, as any answered request does; start afresh.
    await server.close();
    const again = await start([script]);
    const off = await generateText({ model: openai(again)("coder"), system: system("files-json"), prompt: "define", tools: { look_up: lookUp }, toolChoice: "none", maxRetries: 0 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(APICallError.isInstance(off) && off.statusCode).toBe(400);
  });

  it("refuses JSON mode with function declarations on Gemini, as Gemini 2.x does", async () => {
    const server = await start([script]);
    const error = await generateText({
      model: gemini(server)("gemini-2.5-flash"),
      prompt: "define",
      tools: { look_up: lookUp },
      output: Output.object({ schema: z.object({ files: z.record(z.string(), z.string()) }) }),
      maxRetries: 0,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(APICallError.isInstance(error) && error.statusCode).toBe(400);
    expect((error as Error).message).toMatch(/response mime type/);
  });

  it("validates tool_calls: a name, an arguments object, and nothing else in the same response", async () => {
    const bad = (response: unknown) => startFakeLlm({ fixtures: [{ fixtures: [{ match: [], responses: [response] }] } as FixtureFile] });
    await expect(bad({ tool_calls: [] })).rejects.toThrow(/tool_calls/);
    await expect(bad({ tool_calls: [{ name: "x" }] })).rejects.toThrow(/tool_calls\.0\.arguments/);
    await expect(bad({ tool_calls: [{ name: "x", arguments: {}, args: {} }] })).rejects.toThrow(/tool_calls\.0/);
    await expect(bad({ tool_calls: [{ name: "x", arguments: {} }], text: "t" })).rejects.toThrow(/exclude each other/);
  });
});

/** Streams `request` and expects the plain answer's text, in several deltas, with its usage. */
async function expectStreamedLikePlain(
  request: Parameters<typeof streamText>[0],
  plain: { readonly text: string; readonly usage: { readonly inputTokens?: number; readonly outputTokens?: number } },
): Promise<void> {
  const streamed = streamText(request);
  const deltas: string[] = [];
  for await (const delta of streamed.textStream) deltas.push(delta);
  expect(deltas.length).toBeGreaterThan(1);
  expect(deltas.join("")).toBe(plain.text);
  expect(await streamed.usage).toMatchObject({ inputTokens: plain.usage.inputTokens, outputTokens: plain.usage.outputTokens });
}

describe("fake-llm wire protocols", () => {
  it("streams the same text as the plain answer, in several deltas, with the same usage", async () => {
    const server = await start(SHARED_LLM_FIXTURES);
    const request = { model: openai(server)("coder"), system: system("file-blocks"), prompt: "Add #product-sales", maxRetries: 0 };
    const plain = await generateText(request);
    await expectStreamedLikePlain(request, plain);
    expect(plain.usage.inputTokens).toBe(server.requests[0]?.usage?.promptTokens);
    expect(plain.usage.outputTokens).toBe(server.requests[0]?.usage?.completionTokens);
  });

  it("speaks raw OpenAI SSE: role delta first, chat.completion.chunk objects, usage chunk, [DONE]", async () => {
    const server = await start(SHARED_LLM_FIXTURES);
    const response = await postJson(`${server.url}/v1/chat/completions`, {
      model: "coder",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "Say hello" }],
    });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events = response.text.split("\n\n").filter(Boolean).map((e) => e.replace(/^data: /, ""));
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks.every((c) => c.object === "chat.completion.chunk")).toBe(true);
    expect(chunks[0].choices[0].delta.role).toBe("assistant");
    expect(chunks.at(-2).choices[0].finish_reason).toBe("stop");
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 3, total_tokens: expect.any(Number) } });
  });

  it("lists models", async () => {
    const server = await start([]);
    const response = await fetch(`${server.url}/v1/models`);
    expect(await response.json()).toMatchObject({ object: "list", data: [{ id: "fake-llm", object: "model" }] });
  });

  it("answers json_object mode with an {answer} object", async () => {
    const server = await start([]);
    const result = await generateText({ model: openai(server)("coder"), output: Output.json(), prompt: "Summarise the brief", maxRetries: 0 });
    expect(server.requests[0]?.body).toMatchObject({ response_format: { type: "json_object" } });
    expect(result.output).toEqual({ answer: "Answer about summarise and brief." });
  });

  it("synthesises an object that satisfies a json_schema", async () => {
    const server = await start([]);
    const schema = z.object({
      summary: z.string(),
      score: z.number().min(1).max(10),
      passed: z.boolean(),
      tags: z.array(z.string()).min(2),
      verdict: z.enum(["good", "bad"]),
      note: z.string().nullable(),
    });
    const result = await generateText({
      model: openai(server, { structured: true })("coder"),
      output: Output.object({ schema }),
      prompt: "Judge the README quality",
      maxRetries: 0,
    });
    expect(server.requests[0]?.body).toMatchObject({ response_format: { type: "json_schema" } });
    expect(result.output).toMatchObject({ score: 1, passed: true, verdict: "good" });
    expect(result.output.tags).toHaveLength(2);
    expect(result.output.summary).toContain("judge");
  });

  it("Gemini: plain, streamed (same text, several chunks), structured, usage", async () => {
    const server = await start(SHARED_LLM_FIXTURES);
    const model = gemini(server)("gemini-2.0-flash");
    const request = { model, system: system("files-json"), prompt: "Add a Bootstrap table #product-sales", maxRetries: 0 };
    const plain = await generateText(request);
    expect(JSON.parse(plain.text).files["index.html"]).toContain('id="product-sales"');
    expect(plain.usage.outputTokens).toBe(server.requests[0]?.usage?.completionTokens);

    const streamed = streamText(request);
    const deltas: string[] = [];
    for await (const delta of streamed.textStream) deltas.push(delta);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join("")).toBe(plain.text);
    expect((await streamed.usage).inputTokens).toBe(plain.usage.inputTokens);
    expect(server.requests.map((r) => r.route)).toEqual(["gemini-generate-content", "gemini-stream-generate-content"]);

    const structured = await generateText({
      model,
      output: Output.object({ schema: z.object({ expression: z.string(), confidence: z.number() }) }),
      prompt: "Turn the check into an assertion",
      maxRetries: 0,
    });
    expect(structured.output).toMatchObject({ expression: expect.any(String), confidence: 0 });
  });

  it("embeds deterministically into unit vectors where shared words mean closeness", async () => {
    const server = await start([]);
    const values = ["sales summary table", "sales summary chart", "markdown viewer"];
    const { embeddings, usage } = await embedMany({ model: openai(server).embeddingModel("minilm"), values, maxRetries: 0 });
    expect(embeddings).toHaveLength(3);
    for (const vector of embeddings) {
      expect(vector).toHaveLength(384);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 6);
    }
    const dot = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);
    expect(dot(embeddings[0]!, embeddings[1]!)).toBeGreaterThan(dot(embeddings[0]!, embeddings[2]!));
    expect(usage.tokens).toBeGreaterThan(0);
    const again = await embedMany({ model: openai(server).embeddingModel("minilm"), values: [values[0]!], maxRetries: 0 });
    expect(again.embeddings[0]).toEqual(embeddings[0]);
  });

  it("answers malformed bodies with 400 in each provider's error shape", async () => {
    const server = await start([]);
    const openaiBad = await postJson(`${server.url}/v1/chat/completions`, "{not json");
    expect(openaiBad.status).toBe(400);
    expect(JSON.parse(openaiBad.text)).toMatchObject({ error: { type: "invalid_request_error" } });
    const missing = await postJson(`${server.url}/v1/chat/completions`, { model: "coder" });
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.text).error.message).toContain("messages");
    const geminiBad = await postJson(`${server.url}/v1beta/models/g:generateContent`, { contents: "nope" });
    expect(geminiBad.status).toBe(400);
    expect(JSON.parse(geminiBad.text)).toMatchObject({ error: { code: 400, status: "INVALID_ARGUMENT" } });
  });

  it("checks only that a key is present, and only with requireKey", async () => {
    const server = await start([], true);
    const body = { model: "coder", messages: [{ role: "user", content: "hi" }] };
    expect((await postJson(`${server.url}/v1/chat/completions`, body)).status).toBe(401);
    expect((await postJson(`${server.url}/v1/chat/completions`, body, { authorization: "Bearer anything" })).status).toBe(200);
    const geminiBody = { contents: [{ role: "user", parts: [{ text: "hi" }] }] };
    expect((await postJson(`${server.url}/v1beta/models/g:generateContent`, geminiBody)).status).toBe(401);
    expect((await postJson(`${server.url}/v1beta/models/g:generateContent`, geminiBody, { "x-goog-api-key": "k" })).status).toBe(200);
  });
});

describe("fake-llm Anthropic Messages API", () => {
  /** Raw SSE frames as `[event name, parsed data]`. */
  function sseFrames(text: string): [string, { type: string } & Record<string, any>][] {
    return text
      .split("\n\n")
      .filter(Boolean)
      .map((frame) => {
        const [eventLine, dataLine] = frame.split("\n");
        return [eventLine!.replace(/^event: /, ""), JSON.parse(dataLine!.replace(/^data: /, ""))];
      });
  }
  const messagesBody = (fields: Record<string, unknown> = {}) => ({
    model: "claude-sonnet-4-5",
    max_tokens: 1024,
    system: system("files-json"),
    messages: [{ role: "user", content: "Add a Bootstrap table #product-sales" }],
    ...fields,
  });

  it("plain and streamed through the SDK: the same files, several deltas, usage as reported", async () => {
    const server = await start(SHARED_LLM_FIXTURES);
    const request = { model: anthropic(server)("claude-sonnet-4-5"), system: system("files-json"), prompt: "Add a Bootstrap table #product-sales", maxRetries: 0 };
    const plain = await generateText(request);
    expect(JSON.parse(plain.text).files["index.html"]).toContain('id="product-sales"');
    expect(plain.finishReason).toBe("stop");
    expect(plain.usage).toMatchObject({ inputTokens: server.requests[0]?.usage?.promptTokens, outputTokens: server.requests[0]?.usage?.completionTokens });

    await expectStreamedLikePlain(request, plain);
    expect(server.requests.map((r) => [r.route, r.stream, r.fileProducing])).toEqual([
      ["anthropic-messages", false, true],
      ["anthropic-messages", true, true],
    ]);
  });

  it("streams named events: message_start, ping, text blocks of text_delta, message_delta with stop reason and usage, message_stop", async () => {
    const server = await start(SHARED_LLM_FIXTURES);
    const response = await postJson(`${server.url}/v1/messages`, messagesBody({ stream: true }), { "x-api-key": "k", "anthropic-version": "2023-06-01" });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const frames = sseFrames(response.text);
    // The `event:` line names the data's own type, as Anthropic sends it (its SDK dispatches on it).
    expect(frames.every(([event, data]) => event === data.type)).toBe(true);
    const types = frames.map(([event]) => event);
    expect(types.slice(0, 3)).toEqual(["message_start", "ping", "content_block_start"]);
    expect(types.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    expect(types.filter((type) => type === "content_block_delta").length).toBeGreaterThan(1);
    const data = frames.map(([, d]) => d);
    expect(data[0]).toMatchObject({ message: { role: "assistant", model: "claude-sonnet-4-5", content: [], usage: { input_tokens: server.requests[0]!.usage!.promptTokens } } });
    expect(data[2]).toMatchObject({ index: 0, content_block: { type: "text", text: "" } });
    const text = data.filter((d) => d.type === "content_block_delta").map((d) => (d.delta.type === "text_delta" ? d.delta.text : ""));
    expect(JSON.parse(text.join("")).files["index.html"]).toContain('id="product-sales"');
    expect(data.at(-2)).toMatchObject({ delta: { stop_reason: "end_turn" }, usage: { output_tokens: server.requests[0]!.usage!.completionTokens } });
  });

  it("answers a files tool and scripted tool_calls with tool_use blocks (input_json_delta when streamed), and reads tool_result blocks back", async () => {
    const server = await start([
      {
        fixtures: [
          { match: ["define"], responses: [{ tool_calls: [{ name: "look_up", arguments: { word: "alpha" } }] }, files("defined")] },
          { match: ["write"], responses: [files("tool")] },
        ],
      },
    ]);
    const writeFiles = { name: "write_files", input_schema: { type: "object", properties: { files: { type: "object" } } } };
    const plain = await postJson(`${server.url}/v1/messages`, messagesBody({ messages: [{ role: "user", content: "write" }], tools: [writeFiles] }));
    expect(JSON.parse(plain.text)).toMatchObject({
      type: "message",
      stop_reason: "tool_use",
      content: [{ type: "tool_use", id: expect.stringMatching(/^toolu_/), name: "write_files", input: { files: { "index.html": expect.stringContaining("tool") } } }],
      usage: { input_tokens: expect.any(Number), output_tokens: expect.any(Number) },
    });

    const lookUp = tool({ description: "Look a word up", inputSchema: z.object({ word: z.string() }), execute: async ({ word }) => ({ meaning: `${word} means tested` }) });
    const streamed = streamText({ model: anthropic(server)("claude-sonnet-4-5"), system: system("files-json"), prompt: "define alpha", tools: { look_up: lookUp }, stopWhen: stepCountIs(3), maxRetries: 0 });
    expect(JSON.parse(await streamed.text).files["index.html"]).toContain("defined");
    expect((await streamed.steps)[0]!.toolCalls.map((call) => call.input)).toEqual([{ word: "alpha" }]);
    expect(server.requests.slice(1).map((r) => r.toolCalls)).toEqual([["look_up"], []]);
    const followUp = server.requests[2]!.body as { messages: { role: string; content: { type: string; content?: unknown }[] }[] };
    const results = followUp.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).filter((block) => block.type === "tool_result");
    expect(JSON.stringify(results)).toContain("alpha means tested");
  });

  it("gives a schema the SDK's structured output: output_config.format where the model takes it, else the json tool", async () => {
    const server = await start([]);
    const schema = z.object({ expression: z.string(), confidence: z.number() });
    for (const modelId of ["claude-sonnet-4-5", "claude-3-haiku-20240307"]) {
      const result = await generateText({ model: anthropic(server)(modelId), output: Output.object({ schema }), prompt: "Turn the check into an assertion", maxRetries: 0 });
      expect(result.output).toMatchObject({ expression: expect.stringContaining("check"), confidence: 0 });
    }
    const [native, viaTool] = server.requests.map((r) => r.body as Record<string, any>);
    expect(native).toMatchObject({ output_config: { format: { type: "json_schema" } } });
    expect(viaTool).toMatchObject({ tools: [{ name: "json" }], tool_choice: { type: "any" } });
    expect(server.requests.map((r) => r.responseFormat)).toEqual(["json-schema", "json-schema"]);
  });

  it("answers errors in Anthropic's shape, with retry-after on 429, and checks x-api-key with requireKey", async () => {
    const server = await start([{ fixtures: [{ match: [], responses: [{ status: 429, retry_after: 7 }, { status: 529, message: "Overloaded" }, files("ok")] }] }], true);
    const headers = { "x-api-key": "k" };
    const limited = await postJson(`${server.url}/v1/messages`, messagesBody(), headers);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    expect(JSON.parse(limited.text)).toEqual({ type: "error", error: { type: "rate_limit_error", message: expect.any(String) } });
    const overloaded = await generateText({ model: anthropic(server)("claude-sonnet-4-5"), system: system("files-json"), prompt: "go", maxRetries: 0 }).catch((e: unknown) => e);
    expect(APICallError.isInstance(overloaded) && [overloaded.statusCode, overloaded.message]).toEqual([529, "Overloaded"]);

    const unauthenticated = await postJson(`${server.url}/v1/messages`, messagesBody());
    expect(unauthenticated.status).toBe(401);
    expect(JSON.parse(unauthenticated.text)).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    const malformed = await postJson(`${server.url}/v1/messages`, { model: "claude-sonnet-4-5", messages: [] }, headers);
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.text)).toMatchObject({ type: "error", error: { type: "invalid_request_error", message: expect.stringContaining("max_tokens") } });
  });

  it("waits delay_ms before the first streamed byte, and holds a hung request until the client gives up", async () => {
    const server = await start([{ fixtures: [{ match: [], responses: [{ delay_ms: 300, ...files("slow") }, { hang: true }] }] }]);
    const model = anthropic(server)("claude-sonnet-4-5");
    let started = Date.now();
    let firstDeltaAt: number | undefined;
    for await (const _delta of streamText({ model, system: system("files-json"), prompt: "go", maxRetries: 0 }).textStream) firstDeltaAt ??= Date.now();
    expect(firstDeltaAt! - started).toBeGreaterThanOrEqual(290);

    started = Date.now();
    const error = await generateText({ model, system: system("files-json"), prompt: "go", maxRetries: 0, abortSignal: AbortSignal.timeout(200) }).catch((e: unknown) => e);
    expect((error as Error).name).toMatch(/TimeoutError|AbortError/);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(server.requests[1]?.status).toBeUndefined();
  });
});

describe("fake-llm with the shared sum-of-sales fixtures", () => {
  async function brief(name: string): Promise<string> {
    const { readFile } = await import("node:fs/promises");
    return (JSON.parse(await readFile(join(SHARED_TASKS, name), "utf8")) as { brief: string }).brief;
  }

  it("serves the round-1 and round-2 index.html for prompts carrying each round's brief", async () => {
    const server = await start(SHARED_LLM_FIXTURES);
    const round1 = await askFiles(server, `Brief: ${await brief("sum-of-sales-r1.json")}\nAttachments: data.csv`);
    expect(round1["index.html"]).toContain("<title>Sales Summary 7f3a9</title>");
    expect(round1["index.html"]).not.toContain("product-sales");

    // Round 2 carries the round-1 files too, so its prompt matches both fixtures; the first wins.
    const round2 = await askFiles(
      server,
      `Current files:\n${round1["index.html"]}\nNew brief: ${await brief("sum-of-sales-r2.json")}`,
    );
    expect(round2["index.html"]).toContain('<table id="product-sales"');
    expect(server.requests.map((r) => r.fixtureSource)).toEqual(["sum-of-sales.json#1", "sum-of-sales.json#0"]);
  });
});

describe("briefwright fake-llm command", () => {
  it("prints the listening line, serves, and stops on SIGTERM", async () => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        `import { runFakeLlmCommand } from "./src/cli/fake-llm-command.ts";
         await runFakeLlmCommand(["--fixtures", ${JSON.stringify(SHARED_LLM_FIXTURES)}, "--port", "0"]);`,
      ],
      { cwd: process.cwd(), stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once("line", resolve);
        child.once("exit", (code) => reject(new Error(`exited early with ${code}`)));
      });
      const match = /^fake-llm listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      expect(match).not.toBeNull();
      const response = await fetch(`${match![1]}/v1/models`);
      expect(response.status).toBe(200);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  });
});
