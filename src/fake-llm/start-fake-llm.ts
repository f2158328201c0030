import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { anthropicErrorBody, anthropicMessage, anthropicStreamEvents, parseAnthropicRequest } from "./anthropic-protocol.ts";
import type { AnswerContent, ChatRequest, ResponseFormat, TokenUsage } from "./chat-request.ts";
import { answerEmbeddings } from "./embeddings.ts";
import { loadFixtureFiles, parseFixtureFile, type FixtureFile, type LoadedFixtureFile } from "./fixture-file.ts";
import { FixtureScript } from "./fixture-script.ts";
import { geminiErrorBody, geminiModelList, geminiResponse, geminiStreamChunks, parseGeminiRequest } from "./gemini-protocol.ts";
import { BadRequest, readJsonBody, sendEventStream, sendJson, waitUnlessClosed, whenClosed } from "./http-helpers.ts";
import {
  openAIChatCompletion,
  openAIErrorBody,
  openAIModelList,
  openAIStreamEvents,
  parseOpenAIChatRequest,
} from "./openai-protocol.ts";
import { planAnswer, type FileDelivery } from "./plan-answer.ts";

export type FakeLlmRoute =
  | "chat-completions"
  | "models"
  | "embeddings"
  | "gemini-generate-content"
  | "gemini-stream-generate-content"
  | "gemini-models"
  | "anthropic-messages"
  | "health"
  | "unknown";

/** One request the scripted LLM received and how it answered; tests count calls with these. */
export interface RecordedRequest {
  readonly route: FakeLlmRoute;
  readonly method: string;
  /** Path and query as received. */
  readonly path: string;
  readonly model: string | undefined;
  readonly stream: boolean;
  /** Whether it asked for files (format line or files tool) and so consumed a fixture response. */
  readonly fileProducing: boolean;
  /** The structured-output mode asked for, whichever protocol carried it. */
  readonly responseFormat: ResponseFormat["type"] | undefined;
  /** How the files were asked for: an OUTPUT FORMAT name or `tool-call`. */
  readonly delivery: FileDelivery | undefined;
  /** Which fixture served it, counted across all files in matching order. */
  readonly fixtureIndex: number | undefined;
  /** The same fixture as `<file>#<index in file>`. */
  readonly fixtureSource: string | undefined;
  /** Which of that fixture's responses served it. */
  readonly responseIndex: number | undefined;
  /** HTTP status answered (or about to be, after `delay_ms`); undefined for a scripted hang. */
  readonly status: number | undefined;
  /** Token usage reported in the answer. */
  readonly usage: TokenUsage | undefined;
  /** Tools the answer called (the files tool or a fixture's `tool_calls`); empty for a text answer. */
  readonly toolCalls: readonly string[];
  /** The parsed JSON body, for assertions about what the product sent. */
  readonly body: unknown;
}

export interface FakeLlmOptions {
  /** Fixture files or directories (their `*.json` in name order), or fixture objects. */
  readonly fixtures: string | readonly (string | FixtureFile)[];
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Refuse requests without an API key header (401); by default any request is accepted. */
  readonly requireKey?: boolean;
}

export interface FakeLlm {
  /** Base URL, e.g. `http://127.0.0.1:41234`; OpenAI and Anthropic base is `${url}/v1`, Gemini's `${url}/v1beta`. */
  readonly url: string;
  readonly port: number;
  /** Every request so far, in arrival order (a live array). */
  readonly requests: RecordedRequest[];
  /** Stops listening and drops open connections, hung ones included. */
  close(): Promise<void>;
}

/** Loads the fixtures, then serves the scripted LLM until `close()`. */
export async function startFakeLlm(options: FakeLlmOptions): Promise<FakeLlm> {
  const script = new FixtureScript(await resolveFixtures(options.fixtures));
  const requests: RecordedRequest[] = [];
  const models = new Set<string>();
  let answers = 0;

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      // A bug in the fake must not look like a scripted failure: say so loudly.
      console.error("fake-llm: internal error", error);
      if (!response.headersSent) sendJson(response, 500, openAIErrorBody(500, "fake_llm_bug", `fake-llm internal error: ${String(error)}`));
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? "GET";
    const path = request.url ?? "/";
    const url = new URL(path, "http://fake-llm.invalid");
    const { route, model: pathModel, stream: pathStream } = resolveRoute(method, url.pathname);
    // Refusals go out in the error shape of the protocol the client speaks.
    const errorBody: Dialect["errorBody"] = url.pathname.startsWith("/v1beta/")
      ? (status, _code, message) => geminiErrorBody(status, message)
      : route === "anthropic-messages"
        ? (status, _code, message) => anthropicErrorBody(status, message)
        : openAIErrorBody;
    let body: unknown;
    const record = (fields: Partial<RecordedRequest>) =>
      requests.push({
        route,
        method,
        path,
        model: pathModel,
        stream: pathStream,
        fileProducing: false,
        responseFormat: undefined,
        delivery: undefined,
        fixtureIndex: undefined,
        fixtureSource: undefined,
        responseIndex: undefined,
        status: 200,
        usage: undefined,
        toolCalls: [],
        body,
        ...fields,
      });

    try {
      if (route === "unknown") throw new BadRequest(404, `fake-llm: no route for ${method} ${url.pathname}`, "unknown_route");
      if (options.requireKey === true && !hasApiKey(request, url)) {
        throw new BadRequest(401, "missing API key (Authorization: Bearer …, x-goog-api-key or x-api-key)", "missing_api_key");
      }
      switch (route) {
        case "health":
          record({});
          return sendJson(response, 200, { status: "ok", service: "fake-llm" });
        case "models":
          record({});
          return sendJson(response, 200, openAIModelList(models));
        case "gemini-models":
          record({});
          return sendJson(response, 200, geminiModelList(models));
        case "embeddings": {
          body = await readJsonBody(request);
          const { model, answer, promptTokens } = answerEmbeddings(body);
          models.add(model);
          record({ model, usage: { promptTokens, completionTokens: 0, totalTokens: promptTokens } });
          return sendJson(response, 200, answer);
        }
        case "chat-completions": {
          body = await readJsonBody(request);
          const chat = parseOpenAIChatRequest(body);
          const identity = { id: `chatcmpl-fake-${++answers}`, created: Math.floor(Date.now() / 1000) };
          return await serveChat(response, chat, record, {
            send: (content, usage) =>
              chat.stream
                ? sendEventStream(response, openAIStreamEvents(chat, content, usage, identity))
                : sendJson(response, 200, openAIChatCompletion(chat, content, usage, identity)),
            errorBody,
          });
        }
        case "gemini-generate-content":
        case "gemini-stream-generate-content": {
          body = await readJsonBody(request);
          const chat = parseGeminiRequest(body, pathModel!, pathStream);
          const id = `fake-${++answers}`;
          return await serveChat(response, chat, record, {
            send: (content, usage) => {
              if (!chat.stream) return sendJson(response, 200, geminiResponse(chat, content, usage, id));
              const chunks = geminiStreamChunks(chat, content, usage, id);
              // Without `alt=sse` Gemini streams one JSON array; the AI SDK always asks for SSE.
              if (url.searchParams.get("alt") !== "sse") return sendJson(response, 200, chunks);
              // Gemini separates events with CRLF pairs; clients must cope with that.
              return sendEventStream(response, chunks.map((chunk) => JSON.stringify(chunk)), "\r\n\r\n");
            },
            errorBody,
          });
        }
        case "anthropic-messages": {
          body = await readJsonBody(request);
          const chat = parseAnthropicRequest(body);
          const id = `fake_${++answers}`;
          return await serveChat(response, chat, record, {
            send: (content, usage) =>
              chat.stream
                ? sendEventStream(response, anthropicStreamEvents(chat, content, usage, id))
                : sendJson(response, 200, anthropicMessage(chat, content, usage, id)),
            errorBody,
          });
        }
      }
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      record({ status: error.status });
      sendJson(response, error.status, errorBody(error.status, error.code, error.message));
    }
  }

  interface Dialect {
    send(content: AnswerContent, usage: TokenUsage): Promise<void> | void;
    errorBody(status: number, code: string, message: string): unknown;
  }

  async function serveChat(
    response: ServerResponse,
    chat: ChatRequest,
    record: (fields: Partial<RecordedRequest>) => void,
    dialect: Dialect,
  ): Promise<void> {
    models.add(chat.model);
    const plan = planAnswer(chat, script);
    record({
      model: chat.model,
      stream: chat.stream,
      fileProducing: plan.delivery !== undefined,
      responseFormat: chat.responseFormat.type,
      delivery: plan.delivery,
      fixtureIndex: plan.scripted?.fixtureIndex,
      fixtureSource: plan.scripted?.fixtureSource,
      responseIndex: plan.scripted?.responseIndex,
      status: plan.kind === "hang" ? undefined : plan.kind === "error" ? plan.status : 200,
      usage: plan.kind === "content" ? plan.usage : undefined,
      toolCalls: plan.kind === "content" && plan.content.type === "tool-calls" ? plan.content.calls.map((call) => call.toolName) : [],
    });
    if (!(await waitUnlessClosed(response, plan.delayMs))) return;
    switch (plan.kind) {
      case "hang":
        return whenClosed(response);
      case "error":
        return sendJson(
          response,
          plan.status,
          dialect.errorBody(plan.status, plan.code, plan.message),
          plan.retryAfterSeconds === undefined ? {} : { "retry-after": String(plan.retryAfterSeconds) },
        );
      case "content":
        return dialect.send(plan.content, plan.usage);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Hung and keep-alive connections would hold close() open forever.
        server.closeAllConnections();
      }),
  };
}

async function resolveFixtures(fixtures: FakeLlmOptions["fixtures"]): Promise<LoadedFixtureFile[]> {
  const items = typeof fixtures === "string" ? [fixtures] : fixtures;
  const loaded: LoadedFixtureFile[] = [];
  for (const [index, item] of items.entries()) {
    if (typeof item === "string") loaded.push(...(await loadFixtureFiles([item])));
    else loaded.push({ source: `fixtures[${index}]`, file: parseFixtureFile(item, `fixtures[${index}]`) });
  }
  return loaded;
}

const GEMINI_MODEL_PATH = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

function resolveRoute(method: string, pathname: string): { route: FakeLlmRoute; model?: string; stream: boolean } {
  if (method === "POST" && pathname === "/v1/chat/completions") return { route: "chat-completions", stream: false };
  if (method === "POST" && pathname === "/v1/messages") return { route: "anthropic-messages", stream: false };
  if (method === "POST" && pathname === "/v1/embeddings") return { route: "embeddings", stream: false };
  if (method === "GET" && pathname === "/v1/models") return { route: "models", stream: false };
  if (method === "GET" && pathname === "/v1beta/models") return { route: "gemini-models", stream: false };
  if (method === "GET" && (pathname === "/health" || pathname === "/")) return { route: "health", stream: false };
  const gemini = method === "POST" ? GEMINI_MODEL_PATH.exec(pathname) : null;
  if (gemini) {
    const stream = gemini[2] === "streamGenerateContent";
    return { route: stream ? "gemini-stream-generate-content" : "gemini-generate-content", model: decodeURIComponent(gemini[1]!), stream };
  }
  return { route: "unknown", stream: false };
}

function hasApiKey(request: IncomingMessage, url: URL): boolean {
  const bearer = /^Bearer\s+\S+/i.test(request.headers.authorization ?? "");
  const googleKey = (request.headers["x-goog-api-key"] ?? "") !== "" || (url.searchParams.get("key") ?? "") !== "";
  const anthropicKey = (request.headers["x-api-key"] ?? "") !== "";
  return bearer || googleKey || anthropicKey;
}
