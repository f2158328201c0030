import type { ZodType } from "zod";

/**
 * The language-model port, version 3.
 *
 * One adapter per wire protocol (OpenAI-compatible, Gemini), and a resilient chain that wraps
 * several of them and is itself a LanguageModel. Adapters turn transport failures into
 * LanguageModelError with `isRetryable` set from the status (408, 429, 5xx, network, timeout),
 * make one attempt per call and never put a key into a message.
 *
 * Version 2 (from 1): `supportsImages`, `ModelCall.images`, `ModelCall.onEvent` and the
 * `ModelEvent` union, so a chain can say what happened inside one call (failed attempts,
 * retries, fallbacks, breaker changes) without knowing about rounds or the event bus.
 *
 * Version 3 (from 2): `supportsTools`, `ModelCall.tools` and `maxToolSteps`, and the `tool-call`
 * ModelEvent. The model may call the tools; the adapter runs them and loops until the model
 * answers with text, which is what `generate` returns.
 */
export interface LanguageModel {
  /** Provider name for records and events, e.g. `vllm`, `gemini`; a chain joins its providers with `>`. */
  readonly provider: string;
  /** Model id sent on the wire (a chain: its first provider's). */
  readonly modelId: string;
  /**
   * Whether `ModelCall.images` reach the model as image parts. When false the adapter still
   * accepts them, and sends a text description (name, type, size, dimensions) instead.
   */
  readonly supportsImages: boolean;
  /**
   * Whether `ModelCall.tools` reach the model. When false the adapter accepts them and sends
   * none (a chain: true when any of its providers takes tools; each provider decides for itself).
   */
  readonly supportsTools: boolean;
  /** One call. Rejects with LanguageModelError (or a subclass, e.g. AllProvidersFailedError). */
  generate(call: ModelCall): Promise<ModelAnswer>;
}

export interface ModelMessage {
  readonly role: "user" | "assistant";
  readonly content: string;
}

/** An image for the model to look at, e.g. an attachment of the brief. */
export interface ModelImage {
  /** File name, used in the text description for models without image input. */
  readonly name: string;
  /** `image/png`, `image/jpeg`, … */
  readonly mimeType: string;
  readonly data: Buffer;
}

/**
 * A function the model may call during one `generate`. The adapter checks the arguments against
 * `parameters`, runs `execute` and hands its result back to the model as JSON.
 */
export interface ModelTool<Args = any> {
  /** What the model calls it, e.g. `fetch_url`. */
  readonly name: string;
  /** When and why to call it, for the model. */
  readonly description: string;
  /** The arguments object: a zod schema, or a JSON Schema with `type: "object"`. */
  readonly parameters: ZodType<Args> | JsonSchemaObject;
  /**
   * Runs one call. A refusal the model should read (bad argument, address not allowed) is best
   * returned as `{ ok: false, error: "<reason>" }`, which is reported as outcome `refused`; a
   * throw is reported as `error` and the model sees its message. `signal` aborts with the call.
   */
  execute(args: Args, context: { readonly signal: AbortSignal }): Promise<unknown>;
}

/** A JSON Schema for a tool's arguments. */
export interface JsonSchemaObject {
  readonly type: "object";
  readonly [keyword: string]: unknown;
}

export interface ModelCall {
  /** Why the call is made (`generate`, `revise`, `repair` …); recorded with usage. */
  readonly purpose: string;
  readonly system: string;
  readonly messages: readonly ModelMessage[];
  /**
   * `json`: ask the provider for a JSON object (its JSON / structured-output mode);
   * `text`: free text.
   */
  readonly format: "json" | "text";
  /**
   * With `json`: the one shape the answer must have, for calls that never answer otherwise
   * (README prose, not files, which may come as edit blocks). Adapters send it where the
   * provider constrains output to a schema (OpenAI-compatible `json_schema`, Gemini
   * `responseSchema`); the caller still validates what comes back.
   */
  readonly schema?: JsonSchemaObject;
  /** Images that go with the first user message. */
  readonly images?: readonly ModelImage[];
  /**
   * Stream the answer (deltas go to `onDelta`); the result is the same either way. Undefined
   * leaves the choice to the model (a chain streams when configured to).
   */
  readonly stream?: boolean;
  /** Receives text deltas while streaming. */
  readonly onDelta?: (delta: string) => void;
  /** Receives what happens inside the call; single-attempt adapters may say nothing. Must not throw. */
  readonly onEvent?: (event: ModelEvent) => void;
  /**
   * Tools the model may call before it answers (sent only when the model `supportsTools`). The
   * answer is the text of the model's last step; usage is summed over every step.
   */
  readonly tools?: readonly ModelTool[];
  /** Model steps that may call tools before the model must answer in text. Default 4. */
  readonly maxToolSteps?: number;
  readonly maxOutputTokens?: number;
  readonly temperature?: number;
  readonly signal?: AbortSignal;
}

export interface ModelUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

export interface ModelAnswer {
  readonly text: string;
  /** Summed over every step of the call when tools were called. */
  readonly usage: ModelUsage;
  /** Who actually answered (in a chain, possibly a fallback). */
  readonly provider: string;
  readonly modelId: string;
  /** Time of the attempt that answered. */
  readonly latencyMs: number;
  readonly finishReason: string;
  /** Attempts the whole call took, across providers, this one included (1 without a chain). */
  readonly attempts?: number;
}

/** What happened inside one call, as a chain reports it. Free of keys and of prompt text. */
export type ModelEvent =
  | {
      /** One attempt failed (it may be retried, or the next provider tried). */
      readonly type: "attempt-fail";
      readonly provider: string;
      readonly model: string;
      /** 1-based, per provider. */
      readonly attempt: number;
      readonly error: string;
      readonly code: string;
      readonly statusCode: number | null;
      readonly retryable: boolean;
      readonly latencyMs: number;
    }
  | {
      /** The same provider is tried again after `delayMs`. */
      readonly type: "retry";
      readonly provider: string;
      readonly model: string;
      /** The attempt about to be made, 2 or more. */
      readonly attempt: number;
      readonly delayMs: number;
      /** `retry-after` when the provider's Retry-After set the delay, else `backoff`. */
      readonly delaySource: "retry-after" | "backoff";
      readonly reason: string;
    }
  | {
      /** A provider gave up (or was skipped) and the next one takes over. */
      readonly type: "fallback";
      readonly from: string;
      readonly to: string;
      readonly reason: string;
    }
  | {
      /** The provider's circuit opened: it is skipped until the cool-down ends. */
      readonly type: "breaker-open";
      readonly provider: string;
      readonly cooldownMs: number;
      readonly reason: string;
    }
  | { /** The cool-down ended; one trial call decides. */ readonly type: "breaker-half-open"; readonly provider: string }
  | { /** The trial call succeeded; the provider is back in use. */ readonly type: "breaker-close"; readonly provider: string }
  | {
      /** The model called a tool and the adapter ran it. */
      readonly type: "tool-call";
      readonly provider: string;
      readonly model: string;
      readonly tool: string;
      /** The arguments as JSON, shortened, with the provider's key and URL credentials masked. */
      readonly arguments: string;
      /** `refused`: the tool returned `{ok: false}`; `error`: it threw. */
      readonly outcome: "ok" | "refused" | "error";
      /** The refusal or error, null when ok. */
      readonly detail: string | null;
      readonly durationMs: number;
    };
