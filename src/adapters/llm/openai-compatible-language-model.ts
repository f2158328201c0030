import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import {
  APICallError,
  EmptyResponseBodyError,
  generateText,
  InvalidResponseDataError,
  JSONParseError,
  streamText,
  TypeValidationError,
  type LanguageModelUsage,
  type OutputInterface,
} from "ai";
import { describeError, LanguageModelError } from "../../domain/errors.ts";
import type { LanguageModel, ModelAnswer, ModelCall } from "../../ports/language-model.ts";

export interface OpenAICompatibleLanguageModelSettings {
  /** Name for records, events and errors, e.g. `vllm`. */
  readonly provider: string;
  /** Base URL including `/v1`, e.g. `http://127.0.0.1:8001/v1`. */
  readonly baseUrl: string;
  /** Model id sent on the wire. */
  readonly model: string;
  /** Sent as `Authorization: Bearer …` when set; never appears in an error message. */
  readonly apiKey?: string;
  /** Budget for one whole call, streamed or not. */
  readonly timeoutMs: number;
  /** For tests and proxies; the global fetch by default. */
  readonly fetch?: typeof fetch;
}

/**
 * The language-model port over any OpenAI-compatible chat-completions server (vLLM, Ollama,
 * the scripted fake-llm), built on the Vercel AI SDK so the wire details stay its problem.
 * One attempt per call: retries belong to the resilience policy wrapped around this adapter,
 * which is why failures carry `isRetryable` and `retryAfterMs` instead of being retried here.
 */
export function createOpenAICompatibleLanguageModel(settings: OpenAICompatibleLanguageModelSettings): LanguageModel {
  const chatModel = createOpenAICompatible({
    name: settings.provider,
    baseURL: settings.baseUrl,
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
    // Without it the server sends no usage in streams, and token accounting would go blind.
    includeUsage: true,
    ...(settings.fetch ? { fetch: settings.fetch } : {}),
  }).chatModel(settings.model);

  return {
    provider: settings.provider,
    modelId: settings.model,
    async generate(call: ModelCall): Promise<ModelAnswer> {
      const started = performance.now();
      const timeout = AbortSignal.timeout(settings.timeoutMs);
      const abortSignal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
      const request = {
        model: chatModel,
        system: call.system,
        messages: call.messages.map((message) => ({ role: message.role, content: message.content })),
        maxOutputTokens: call.maxOutputTokens,
        temperature: call.temperature,
        maxRetries: 0,
        abortSignal,
        ...(call.format === "json" ? { output: rawJsonOutput } : {}),
      };
      try {
        // Streamed errors arrive as stream parts and are mapped like any other; the SDK's
        // default onError would also print them to the console.
        const { text, usage, finishReason } = call.stream
          ? await streamAnswer(streamText({ ...request, onError: () => {} }), call.onDelta, abortSignal)
          : await generateText(request);
        return {
          text,
          usage: { inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0 },
          provider: settings.provider,
          modelId: settings.model,
          latencyMs: Math.round(performance.now() - started),
          finishReason,
        };
      } catch (error) {
        if (error instanceof DeltaObserverFailure) throw error.error;
        throw toLanguageModelError(error, { settings, timeout, callerSignal: call.signal });
      }
    },
  };
}

/**
 * Asks for the provider's JSON mode (`response_format: {type: "json_object"}`) but hands back the
 * raw text: the caller parses, so it can repair or re-ask instead of losing the answer to an
 * SDK parse error.
 */
const rawJsonOutput: OutputInterface<string, string, never> = {
  name: "json",
  responseFormat: Promise.resolve({ type: "json" }),
  parseCompleteOutput: async ({ text }) => text,
  parsePartialOutput: async ({ text }) => ({ partial: text }),
  createElementStreamTransform: () => undefined,
};

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
  readonly settings: OpenAICompatibleLanguageModelSettings;
  readonly timeout: AbortSignal;
  readonly callerSignal: AbortSignal | undefined;
}

/** Sorts a failure into retryable or not and strips anything that could leak the key. */
function toLanguageModelError(error: unknown, context: FailureContext): LanguageModelError {
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

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** `retry-after-ms` (OpenAI's) or `retry-after` in seconds or as an HTTP date, in milliseconds. */
function retryAfter(headers: Record<string, string> | undefined): number | undefined {
  if (!headers) return undefined;
  const milliseconds = Number.parseFloat(headers["retry-after-ms"] ?? "");
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return Math.round(milliseconds);
  const value = headers["retry-after"]?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
