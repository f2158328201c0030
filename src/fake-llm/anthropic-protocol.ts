import { z } from "zod";
import type { AnswerContent, ChatRequest, ResponseFormat, TokenUsage } from "./chat-request.ts";
import { invalidBody, splitForStreaming, type ServerSentEvent } from "./http-helpers.ts";
import { hasFilesProperty } from "./openai-protocol.ts";

/**
 * Anthropic's Messages API (`POST /v1/messages`), as the AI SDK's Anthropic provider speaks it:
 * a top-level `system`, content blocks (`text`, `image`, `tool_use`, `tool_result`), `tools` with
 * `input_schema`, and SSE events named by their `type`. Only the fields the scripted LLM reads are
 * checked; the rest pass through untouched.
 */

const blockSchema = z.looseObject({
  type: z.string(),
  text: z.string().nullish(),
  input: z.unknown().optional(),
  // A tool result's content is a string or a list of blocks (text, images).
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string(), text: z.string().nullish() }))]).nullish(),
});

const contentSchema = z.union([z.string(), z.array(blockSchema)]);

const messagesBodySchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  system: contentSchema.nullish(),
  messages: z.array(z.looseObject({ role: z.enum(["user", "assistant"]), content: contentSchema })).min(1),
  stream: z.boolean().nullish(),
  tools: z.array(z.looseObject({ name: z.string(), type: z.string().nullish(), input_schema: z.unknown().optional() })).nullish(),
  tool_choice: z.looseObject({ type: z.string(), name: z.string().nullish() }).nullish(),
  output_config: z.looseObject({ format: z.looseObject({ type: z.string(), schema: z.unknown().optional() }).nullish() }).nullish(),
});

/**
 * The tool the AI SDK sends for structured output where Anthropic's `output_config.format` cannot
 * carry the schema (an open object, older models): the model "calls" it with the answer as input.
 */
const JSON_TOOL_NAME = "json";

export interface AnthropicChatRequest extends ChatRequest {
  /** Set when the request offers the SDK's `json` tool: a JSON answer goes back as a call to it. */
  readonly jsonToolName: string | undefined;
}

export function parseAnthropicRequest(body: unknown): AnthropicChatRequest {
  const result = messagesBodySchema.safeParse(body);
  if (!result.success) {
    throw invalidBody("messages request", result.error.issues);
  }
  const parsed = result.data;
  const systemText = contentText(parsed.system ?? "");
  const texts = parsed.messages.map((message) => contentText(message.content));
  // A user turn that only returns tool results is the client talking, not the user asking.
  const lastUserIndex = parsed.messages.findLastIndex((message) => message.role === "user" && hasOwnText(message.content));
  const toolsOff = parsed.tool_choice?.type === "none";
  // Server tools (web search, code execution …) carry a `type` and are not ours to call.
  const functions = toolsOff ? [] : (parsed.tools ?? []).filter((tool) => (tool.type ?? "custom") === "custom");
  const jsonTool = functions.find((tool) => tool.name === JSON_TOOL_NAME);
  const callable = functions.filter((tool) => tool !== jsonTool);
  return {
    model: parsed.model,
    systemText,
    conversationText: [systemText, ...texts].filter((text) => text !== "").join("\n"),
    lastUserText: texts[lastUserIndex] ?? "",
    stream: parsed.stream === true,
    responseFormat: responseFormat(parsed.output_config?.format, jsonTool?.input_schema),
    filesToolName: callable.find((tool) => hasFilesProperty(tool.input_schema))?.name,
    offeredTools: callable.map((tool) => tool.name),
    jsonToolName: jsonTool?.name,
  };
}

function contentText(content: z.infer<typeof contentSchema>): string {
  if (typeof content === "string") return content;
  return content
    .map((block) => {
      if (block.type === "text") return block.text ?? "";
      if (block.type === "tool_use") return JSON.stringify(block.input ?? {});
      if (block.type === "tool_result") return typeof block.content === "string" ? block.content : (block.content ?? []).map((part) => part.text ?? "").join("");
      return "";
    })
    .join("");
}

function hasOwnText(content: z.infer<typeof contentSchema>): boolean {
  return typeof content === "string" || content.some((block) => block.type === "text");
}

/** Native `output_config.format`, else the `json` tool's schema; an open object is plain JSON mode. */
function responseFormat(format: { type: string; schema?: unknown } | null | undefined, jsonToolSchema: unknown): ResponseFormat {
  if (format?.type === "json_schema") return { type: "json-schema", schema: format.schema };
  if (jsonToolSchema === undefined) return { type: "text" };
  const properties = (jsonToolSchema as { properties?: unknown } | null)?.properties;
  const open = typeof properties !== "object" || properties === null || Object.keys(properties).length === 0;
  return open ? { type: "json-object" } : { type: "json-schema", schema: jsonToolSchema };
}

interface ContentBlock {
  readonly type: "text" | "tool_use";
  readonly text?: string;
  readonly id?: string;
  readonly name?: string;
  readonly input?: unknown;
}

/**
 * The answer as content blocks. With the `json` tool offered, a JSON-object answer goes as a call
 * to it, as Claude answers a forced tool; anything else (a scripted non-JSON text) stays text.
 */
function contentBlocks(request: AnthropicChatRequest, content: AnswerContent, id: string): ContentBlock[] {
  if (content.type === "tool-calls") {
    return content.calls.map((call, index) => ({ type: "tool_use", id: toolUseId(id, index), name: call.toolName, input: call.arguments }));
  }
  const json = request.jsonToolName === undefined ? undefined : jsonObject(content.text);
  if (json !== undefined) return [{ type: "tool_use", id: toolUseId(id, 0), name: request.jsonToolName, input: json }];
  return [{ type: "text", text: content.text }];
}

function jsonObject(text: string): object | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function toolUseId(id: string, index: number): string {
  return `toolu_${id}_${index}`;
}

function stopReason(blocks: readonly ContentBlock[]): string {
  return blocks.some((block) => block.type === "tool_use") ? "tool_use" : "end_turn";
}

/** The `message` body of a plain (non-streamed) answer. */
export function anthropicMessage(request: AnthropicChatRequest, content: AnswerContent, usage: TokenUsage, id: string): unknown {
  const blocks = contentBlocks(request, content, id);
  return {
    id: `msg_${id}`,
    type: "message",
    role: "assistant",
    model: request.model,
    content: blocks,
    stop_reason: stopReason(blocks),
    stop_sequence: null,
    usage: { input_tokens: usage.promptTokens, output_tokens: usage.completionTokens },
  };
}

/**
 * The named SSE events of a streamed answer: `message_start` (input tokens), a `ping`, per block
 * a start, its pieces (`text_delta` or `input_json_delta`) and a stop, then `message_delta` with
 * the stop reason and output tokens, and `message_stop`.
 */
export function anthropicStreamEvents(request: AnthropicChatRequest, content: AnswerContent, usage: TokenUsage, id: string): ServerSentEvent[] {
  const events: ServerSentEvent[] = [];
  const emit = (data: { type: string } & Record<string, unknown>) => events.push({ event: data.type, data: JSON.stringify(data) });
  const blocks = contentBlocks(request, content, id);
  emit({
    type: "message_start",
    message: {
      id: `msg_${id}`,
      type: "message",
      role: "assistant",
      model: request.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      // As Anthropic does: the output count here is a placeholder that message_delta replaces.
      usage: { input_tokens: usage.promptTokens, output_tokens: 1 },
    },
  });
  emit({ type: "ping" });
  for (const [index, block] of blocks.entries()) {
    if (block.type === "text") {
      emit({ type: "content_block_start", index, content_block: { type: "text", text: "" } });
      for (const text of splitForStreaming(block.text ?? "")) emit({ type: "content_block_delta", index, delta: { type: "text_delta", text } });
    } else {
      emit({ type: "content_block_start", index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } });
      for (const partial_json of splitForStreaming(JSON.stringify(block.input))) {
        emit({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json } });
      }
    }
    emit({ type: "content_block_stop", index });
  }
  emit({ type: "message_delta", delta: { stop_reason: stopReason(blocks), stop_sequence: null }, usage: { output_tokens: usage.completionTokens } });
  emit({ type: "message_stop" });
  return events;
}

/** Anthropic's error body: `{type: "error", error: {type, message}}` with its error type names. */
export function anthropicErrorBody(status: number, message: string): unknown {
  return { type: "error", error: { type: anthropicErrorType(status), message } };
}

function anthropicErrorType(status: number): string {
  const types: Record<number, string> = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
  };
  return types[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
}
