import {
  APICallError,
  dynamicTool,
  EmptyResponseBodyError,
  generateText,
  jsonSchema,
  stepCountIs,
  InvalidResponseDataError,
  JSONParseError,
  LoadAPIKeyError,
  streamText,
  TypeValidationError,
  type LanguageModel as AiSdkModel,
  type LanguageModelUsage,
  type ModelMessage as AiSdkMessage,
  type JSONSchema7,
  type OutputInterface,
  type ToolSet,
} from "ai";
import { describeImage, isVisionImage } from "../../domain/image-info.ts";
import { describeError, LanguageModelError } from "../../domain/errors.ts";
import type { JsonSchemaObject, LanguageModel, ModelAnswer, ModelCall, ModelEvent, ModelImage, ModelTool } from "../../ports/language-model.ts";

/** What every AI SDK-backed adapter needs besides the SDK model itself. */
export interface AiSdkLanguageModelSettings {
  /** Name for records, events and errors, e.g. `vllm`, `gemini`. */
  readonly provider: string;
  /** Model id sent on the wire. */
  readonly model: string;
  /** Where requests go, named in "cannot reach" messages (never carries a key). */
  readonly baseUrl: string;
  /** Removed from every message should a server echo it. */
  readonly apiKey?: string;
  /** Budget for one whole call, streamed or not. */
  readonly timeoutMs: number;
  /** Whether images go to the model as image parts (else as a text description). */
  readonly supportsImages: boolean;
  /** Whether `ModelCall.tools` are sent (else dropped, and the model answers without them). */
  readonly supportsTools?: boolean;
  /**
   * Whether JSON mode may go with tools. Gemini 2.x answers 400 to function declarations with
   * `responseMimeType: application/json`; there, a call with tools asks for JSON in the prompt only.
   */
  readonly jsonModeWithTools?: boolean;
}

/** Tool-calling steps a call may take before the model must answer in text, unless the call says. */
export const DEFAULT_MAX_TOOL_STEPS = 4;

/**
 * The language-model port over any AI SDK provider model. The provider packages own the wire
 * details; this owns what is ours and the same for all of them: one attempt per call, the raw
 * JSON-mode text, streaming with the same result, images or their description, and the sorting
 * of failures into retryable or not, with the key stripped. Retrying is the chain's job, which
 * is why failures carry `isRetryable` and `retryAfterMs` instead of being retried here.
 */
export function createAiSdkLanguageModel(settings: AiSdkLanguageModelSettings, sdkModel: Exclude<AiSdkModel, string>): LanguageModel {
  return {
    provider: settings.provider,
    modelId: settings.model,
    supportsImages: settings.supportsImages,
    supportsTools: settings.supportsTools ?? false,
    async generate(call: ModelCall): Promise<ModelAnswer> {
      const started = performance.now();
      const timeout = AbortSignal.timeout(settings.timeoutMs);
      const abortSignal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
      const tools = settings.supportsTools && call.tools?.length ? call.tools : undefined;
      const jsonMode = call.format === "json" && (tools === undefined || settings.jsonModeWithTools !== false);
      const maxToolSteps = Math.max(1, call.maxToolSteps ?? DEFAULT_MAX_TOOL_STEPS);
      const request = {
        model: sdkModel,
        system: call.system,
        messages: toSdkMessages(call, settings.supportsImages),
        maxOutputTokens: call.maxOutputTokens,
        temperature: call.temperature,
        maxRetries: 0,
        abortSignal,
        ...(jsonMode ? { output: call.schema ? rawJsonOutputWithSchema(call.schema) : rawJsonOutput } : {}),
        ...(tools
          ? {
              tools: toSdkTools(tools, settings, call.onEvent, abortSignal),
              // Tool steps, then one more in which the model may only answer.
              stopWhen: stepCountIs(maxToolSteps + 1),
              prepareStep: ({ stepNumber }: { stepNumber: number }) => (stepNumber >= maxToolSteps ? { toolChoice: "none" as const } : undefined),
            }
          : {}),
      };
      try {
        // Streamed errors arrive as stream parts and are mapped like any other; the SDK's
        // default onError would also print them to the console.
        const { text, usage, finishReason } = call.stream
          ? await streamAnswer(streamText({ ...request, onError: () => {} }), call.onDelta, abortSignal)
          : await generateText(request).then((result) => ({ text: result.text, usage: result.totalUsage, finishReason: result.finishReason }));
        return {
          text,
          usage: { inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0 },
          provider: settings.provider,
          modelId: settings.model,
          latencyMs: Math.round(performance.now() - started),
          finishReason,
          attempts: 1,
        };
      } catch (error) {
        if (error instanceof DeltaObserverFailure) throw error.error;
        throw toLanguageModelError(error, { settings, timeout, callerSignal: call.signal });
      }
    },
  };
}

/**
 * The call's tools as AI SDK tools whose `execute` the SDK runs in its step loop; each run is
 * reported as a `tool-call` event, its arguments shortened and masked.
 */
function toSdkTools(tools: readonly ModelTool[], settings: AiSdkLanguageModelSettings, onEvent: ModelCall["onEvent"], callSignal: AbortSignal): ToolSet {
  const redact = (text: string) => (settings.apiKey ? text.replaceAll(settings.apiKey, "[redacted]") : text);
  const report = (event: ModelEvent) => {
    try {
      onEvent?.(event);
    } catch {
      // Observing is best effort.
    }
  };
  return Object.fromEntries(
    tools.map((modelTool) => [
      modelTool.name,
      dynamicTool({
        description: modelTool.description,
        inputSchema: isJsonSchema(modelTool.parameters) ? jsonSchema(modelTool.parameters) : modelTool.parameters,
        execute: async (input, { abortSignal }) => {
          const started = performance.now();
          const event = { type: "tool-call" as const, provider: settings.provider, model: settings.model, tool: modelTool.name, arguments: redact(previewToolArguments(input)) };
          try {
            const result = await modelTool.execute(input, { signal: abortSignal ?? callSignal });
            const refusal = refusalOf(result);
            report({ ...event, outcome: refusal === undefined ? "ok" : "refused", detail: refusal === undefined ? null : redact(refusal), durationMs: Math.round(performance.now() - started) });
            return result;
          } catch (error) {
            report({ ...event, outcome: "error", detail: redact(describeError(error)), durationMs: Math.round(performance.now() - started) });
            throw error;
          }
        },
      }),
    ]),
  );
}

/** A zod schema carries the Standard Schema marker; a plain JSON Schema does not. */
function isJsonSchema(parameters: ModelTool["parameters"]): parameters is JsonSchemaObject {
  return !("~standard" in parameters);
}

/** `{ok: false, error}` is a tool's refusal by the port's convention. */
function refusalOf(result: unknown): string | undefined {
  if (typeof result !== "object" || result === null || (result as { ok?: unknown }).ok !== false) return undefined;
  const error = (result as { error?: unknown }).error;
  return typeof error === "string" ? error : "refused";
}

/**
 * A tool call's arguments for the record: JSON, at most 300 characters, with URL credentials and
 * the values of key-, token-, secret- or password-like query parameters masked.
 */
export function previewToolArguments(input: unknown): string {
  let json: string;
  try {
    json = JSON.stringify(input) ?? "null";
  } catch {
    json = String(input);
  }
  const masked = json
    .replace(/(\/\/)[^/\s"@?#]*@/g, "$1***@")
    .replace(/([?&][^=&\s"]*(?:key|token|secret|password|passwd|auth|signature|sig|credential)[^=&\s"]*=)[^&\s"#]*/gi, "$1***");
  return masked.length > 300 ? `${masked.slice(0, 299)}…` : masked;
}

/** The call's conversation in the SDK's shape, images on the first user message. */
function toSdkMessages(call: ModelCall, supportsImages: boolean): AiSdkMessage[] {
  const images = call.images ?? [];
  const shown = supportsImages ? images.filter((image) => isVisionImage(image.mimeType)) : [];
  const described = images.filter((image) => !shown.includes(image));
  const firstUser = call.messages.findIndex((message) => message.role === "user");
  return call.messages.map((message, index): AiSdkMessage => {
    if (index !== firstUser || images.length === 0) return { role: message.role, content: message.content };
    const text = described.length === 0 ? message.content : `${message.content}\n\n${imageDescriptions(described)}`;
    if (shown.length === 0) return { role: "user", content: text };
    return {
      role: "user",
      content: [{ type: "text", text }, ...shown.map((image) => ({ type: "image" as const, image: image.data, mediaType: image.mimeType }))],
    };
  });
}

function imageDescriptions(images: readonly ModelImage[]): string {
  return `Images that come with this request (not shown to you; described instead):\n${images.map((image) => `- ${describeImage(image)}`).join("\n")}`;
}

/**
 * Asks for the provider's JSON mode (OpenAI `response_format: {type: "json_object"}`, Gemini
 * `responseMimeType: application/json`) but hands back the raw text: the caller parses, so it
 * can repair or re-ask instead of losing the answer to an SDK parse error.
 */
const rawJsonOutput: OutputInterface<string, string, never> = {
  name: "json",
  responseFormat: Promise.resolve({ type: "json" }),
  parseCompleteOutput: async ({ text }) => text,
  parsePartialOutput: async ({ text }) => ({ partial: text }),
  createElementStreamTransform: () => undefined,
};

/** The same, constrained to a schema where the provider supports it (see `ModelCall.schema`). */
function rawJsonOutputWithSchema(schema: JsonSchemaObject): OutputInterface<string, string, never> {
  return { ...rawJsonOutput, responseFormat: Promise.resolve({ type: "json", schema: schema as JSONSchema7, name: "answer" }) };
}

/** Marks an exception thrown by the caller's `onDelta`, which is the caller's to see unchanged. */
class DeltaObserverFailure {
  constructor(readonly error: unknown) {}
}

async function streamAnswer(
  result: ReturnType<typeof streamText>,
  onDelta: ModelCall["onDelta"],
  signal: AbortSignal,
): Promise<{ text: string; usage: LanguageModelUsage; finishReason: string }> {
  let text = "";
  let usage: LanguageModelUsage | undefined;
  let finishReason = "unknown";
  for await (const part of result.fullStream) {
    switch (part.type) {
      case "start-step":
        // With tools, the answer is the last step's text (as generateText's `text`).
        text = "";
        break;
      case "text-delta":
        text += part.text;
        try {
          onDelta?.(part.text);
        } catch (error) {
          throw new DeltaObserverFailure(error);
        }
        break;
      case "finish":
        usage = part.totalUsage;
        finishReason = part.finishReason;
        break;
      case "error":
        throw part.error;
      case "abort":
        throw signal.reason ?? new DOMException("The stream was aborted", "AbortError");
    }
  }
  if (signal.aborted) throw signal.reason;
  if (usage === undefined) throw new InvalidResponseDataError({ data: undefined, message: "the stream ended without a finish event" });
  return { text, usage, finishReason };
}

interface FailureContext {
  readonly settings: AiSdkLanguageModelSettings;
  readonly timeout: AbortSignal;
  readonly callerSignal: AbortSignal | undefined;
}

/** Sorts a failure into retryable or not and strips anything that could leak the key. */
export function toLanguageModelError(error: unknown, context: FailureContext): LanguageModelError {
  const { settings } = context;
  const redact = (text: string) => (settings.apiKey ? text.replaceAll(settings.apiKey, "[redacted]") : text);
  const fail = (message: string, options: { code?: string; isRetryable: boolean; statusCode?: number; retryAfterMs?: number }) =>
    new LanguageModelError(settings.provider, redact(message), { cause: error, ...options });

  // The caller's abort wins: it chose to stop, so trying again is not ours to suggest.
  if (context.callerSignal?.aborted) return fail("the call was aborted", { code: "llm-aborted", isRetryable: false });
  if (context.timeout.aborted) {
    return fail(`no complete answer from ${settings.model} within ${settings.timeoutMs} ms`, { code: "llm-timeout", isRetryable: true });
  }
  if (APICallError.isInstance(error)) {
    const statusCode = error.statusCode;
    if (statusCode === undefined) {
      return fail(`cannot reach ${settings.baseUrl}: ${error.message}`, { code: "llm-unreachable", isRetryable: true });
    }
    const retryAfterMs = retryAfter(error.responseHeaders);
    return fail(`HTTP ${statusCode} from ${settings.model}: ${error.message}`, {
      statusCode,
      isRetryable: isRetryableStatus(statusCode),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  const streamed = streamedErrorEvent(error);
  if (streamed) {
    // Anthropic reports failures after the first event (`overloaded_error` under load) as an SSE
    // `error` event; the SDK passes its bare `{type, message}` on, with no class and no status.
    const statusCode = STREAMED_ERROR_STATUS[streamed.type] ?? 500;
    return fail(`${streamed.type} from ${settings.model} mid-stream: ${streamed.message}`, { statusCode, isRetryable: isRetryableStatus(statusCode) });
  }
  if (LoadAPIKeyError.isInstance(error)) {
    return fail("no API key is configured", { code: "llm-unauthenticated", isRetryable: false });
  }
  if (
    InvalidResponseDataError.isInstance(error) ||
    JSONParseError.isInstance(error) ||
    TypeValidationError.isInstance(error) ||
    EmptyResponseBodyError.isInstance(error)
  ) {
    // A garbled answer from a server that otherwise works is usually transient.
    return fail(`malformed response: ${describeError(error)}`, { code: "llm-bad-response", isRetryable: true });
  }
  if (error instanceof TypeError) {
    // undici reports dropped connections and mid-stream resets as TypeErrors.
    return fail(`network failure: ${describeError(error)}`, { code: "llm-unreachable", isRetryable: true });
  }
  return fail(describeError(error), { isRetryable: false });
}

/** The HTTP status Anthropic gives each error type, for errors that arrive inside a stream. */
const STREAMED_ERROR_STATUS: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

function streamedErrorEvent(error: unknown): { type: string; message: string } | undefined {
  if (typeof error !== "object" || error === null || error instanceof Error) return undefined;
  const { type, message } = error as { type?: unknown; message?: unknown };
  return typeof type === "string" && typeof message === "string" ? { type, message } : undefined;
}

/** 408, 429 and 5xx may go away on their own; other 4xx are about the request or the key. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** `retry-after-ms` (OpenAI's) or `retry-after` in seconds or as an HTTP date, in milliseconds. */
export function retryAfter(headers: Record<string, string> | undefined): number | undefined {
  if (!headers) return undefined;
  const milliseconds = Number.parseFloat(headers["retry-after-ms"] ?? "");
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return Math.round(milliseconds);
  const value = headers["retry-after"]?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
