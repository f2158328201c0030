/**
 * The language-model port, version 2.
 *
 * One adapter per wire protocol (OpenAI-compatible, Gemini), and a resilient chain that wraps
 * several of them and is itself a LanguageModel. Adapters turn transport failures into
 * LanguageModelError with `isRetryable` set from the status (408, 429, 5xx, network, timeout),
 * make one attempt per call and never put a key into a message.
 *
 * Version 2 (from 1): `supportsImages`, `ModelCall.images`, `ModelCall.onEvent` and the
 * `ModelEvent` union, so a chain can say what happened inside one call (failed attempts,
 * retries, fallbacks, breaker changes) without knowing about rounds or the event bus.
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
  | { /** The trial call succeeded; the provider is back in use. */ readonly type: "breaker-close"; readonly provider: string };
