import { z } from "zod";
import type { AnswerContent, ChatRequest, ResponseFormat, TokenUsage } from "./chat-request.ts";
import { invalidBody, splitForStreaming } from "./http-helpers.ts";

/**
 * The OpenAI chat-completions wire protocol, as vLLM and the AI SDK's openai-compatible provider
 * speak it. Only the fields the scripted LLM reads are checked; the rest pass through untouched.
 */

const contentSchema = z
  .union([z.string(), z.array(z.looseObject({ type: z.string().optional(), text: z.string().optional() }))])
  .nullish();

const chatBodySchema = z.looseObject({
  model: z.string().min(1),
  messages: z
    .array(
      z.looseObject({
        role: z.string(),
        content: contentSchema,
        tool_calls: z
          .array(z.looseObject({ function: z.looseObject({ arguments: z.string().nullish() }).optional() }))
          .nullish(),
      }),
    )
    .min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  response_format: z
    .looseObject({ type: z.string(), json_schema: z.looseObject({ schema: z.unknown().optional() }).nullish() })
    .nullish(),
  tools: z
    .array(z.looseObject({ type: z.string().optional(), function: z.looseObject({ name: z.string(), parameters: z.unknown().optional() }) }))
    .nullish(),
  tool_choice: z.unknown().optional(),
});

export interface OpenAIChatRequest extends ChatRequest {
  readonly includeUsage: boolean;
}

export function parseOpenAIChatRequest(body: unknown): OpenAIChatRequest {
  const result = chatBodySchema.safeParse(body);
  if (!result.success) {
    throw invalidBody("chat completion request", result.error.issues);
  }
  const parsed = result.data;
  const system: string[] = [];
  const all: string[] = [];
  let lastUserText = "";
  for (const message of parsed.messages) {
    const text = [messageText(message.content), ...(message.tool_calls ?? []).map((call) => call.function?.arguments ?? "")]
      .filter((part) => part !== "")
      .join("\n");
    if (message.role === "system" || message.role === "developer") system.push(text);
    if (message.role === "user") lastUserText = text;
    all.push(text);
  }
  return {
    model: parsed.model,
    systemText: system.join("\n"),
    conversationText: all.join("\n"),
    lastUserText,
    stream: parsed.stream === true,
    includeUsage: parsed.stream_options?.include_usage === true,
    responseFormat: responseFormat(parsed.response_format),
    filesToolName: parsed.tool_choice === "none" ? undefined : filesToolName(parsed.tools ?? []),
    offeredTools:
      parsed.tool_choice === "none" ? [] : (parsed.tools ?? []).filter((tool) => (tool.type ?? "function") === "function").map((tool) => tool.function.name),
  };
}

function messageText(content: z.infer<typeof contentSchema>): string {
  if (content == null) return "";
  if (typeof content === "string") return content;
  return content.map((part) => (typeof part.text === "string" ? part.text : "")).join("");
}

function responseFormat(format: z.infer<typeof chatBodySchema>["response_format"]): ResponseFormat {
  if (format?.type === "json_schema") return { type: "json-schema", schema: format.json_schema?.schema };
  if (format?.type === "json_object") return { type: "json-object" };
  return { type: "text" };
}

function filesToolName(tools: NonNullable<z.infer<typeof chatBodySchema>["tools"]>): string | undefined {
  return tools.find((tool) => (tool.type ?? "function") === "function" && hasFilesProperty(tool.function.parameters))?.function
    .name;
}

/** Whether a JSON-schema (or OpenAPI) parameter object declares a `files` property. */
export function hasFilesProperty(parameters: unknown): boolean {
  if (typeof parameters !== "object" || parameters === null) return false;
  const properties = (parameters as { properties?: unknown }).properties;
  return typeof properties === "object" && properties !== null && "files" in properties;
}

export interface AnswerIdentity {
  /** Unique per answer, e.g. `chatcmpl-fake-7`. */
  readonly id: string;
  readonly created: number;
}

/** The `chat.completion` body of a plain (non-streamed) answer. */
export function openAIChatCompletion(
  request: OpenAIChatRequest,
  content: AnswerContent,
  usage: TokenUsage,
  identity: AnswerIdentity,
): unknown {
  const message =
    content.type === "text"
      ? { role: "assistant", content: content.text }
      : {
          role: "assistant",
          content: null,
          tool_calls: content.calls.map((call, index) => ({
            id: callId(identity, index),
            type: "function",
            function: { name: call.toolName, arguments: JSON.stringify(call.arguments) },
          })),
        };
  return {
    id: identity.id,
    object: "chat.completion",
    created: identity.created,
    model: request.model,
    system_fingerprint: "fake-llm",
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(content) }],
    usage: wireUsage(usage),
  };
}

/** The SSE `data:` payloads of a streamed answer, ending with `[DONE]`. */
export function openAIStreamEvents(
  request: OpenAIChatRequest,
  content: AnswerContent,
  usage: TokenUsage,
  identity: AnswerIdentity,
): string[] {
  const chunk = (fields: { delta?: unknown; finish?: string; usage?: TokenUsage }) =>
    JSON.stringify({
      id: identity.id,
      object: "chat.completion.chunk",
      created: identity.created,
      model: request.model,
      system_fingerprint: "fake-llm",
      // OpenAI's usage chunk has no choices at all.
      choices:
        fields.usage === undefined
          ? [{ index: 0, delta: fields.delta ?? {}, logprobs: null, finish_reason: fields.finish ?? null }]
          : [],
      ...(fields.usage === undefined ? {} : { usage: wireUsage(fields.usage) }),
    });

  const events: string[] = [];
  if (content.type === "text") {
    events.push(chunk({ delta: { role: "assistant", content: "" } }));
    for (const piece of splitForStreaming(content.text)) events.push(chunk({ delta: { content: piece } }));
  } else {
    // As OpenAI does: per call, the first delta names it, later ones carry argument fragments.
    for (const [index, call] of content.calls.entries()) {
      const opening = { index, id: callId(identity, index), type: "function", function: { name: call.toolName, arguments: "" } };
      events.push(chunk({ delta: index === 0 ? { role: "assistant", content: null, tool_calls: [opening] } : { tool_calls: [opening] } }));
      for (const piece of splitForStreaming(JSON.stringify(call.arguments))) {
        events.push(chunk({ delta: { tool_calls: [{ index, function: { arguments: piece } }] } }));
      }
    }
  }
  events.push(chunk({ finish: finishReason(content) }));
  if (request.includeUsage) events.push(chunk({ usage }));
  events.push("[DONE]");
  return events;
}

/** `call_<answer id>` for the first call of an answer (as before multi-call answers), `_<n>` after it. */
function callId(identity: AnswerIdentity, index: number): string {
  return index === 0 ? `call_${identity.id}` : `call_${identity.id}_${index}`;
}

function finishReason(content: AnswerContent): string {
  return content.type === "text" ? "stop" : "tool_calls";
}

export function wireUsage(usage: TokenUsage) {
  return { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.totalTokens };
}

/** OpenAI's error body: `{error: {message, type, param, code}}`. */
export function openAIErrorBody(status: number, code: string, message: string): unknown {
  return { error: { message, type: openAIErrorType(status), param: null, code } };
}

function openAIErrorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** `GET /v1/models`: the scripted server serves any model id; it lists the ones it has seen. */
export function openAIModelList(models: Iterable<string>): unknown {
  return {
    object: "list",
    data: [...new Set(["fake-llm", ...models])].map((id) => ({ id, object: "model", created: 0, owned_by: "fake-llm" })),
  };
}
