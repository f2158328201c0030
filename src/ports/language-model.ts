/**
 * The language-model port, version 1. One adapter per wire protocol (OpenAI-compatible today;
 * Gemini and a fallback chain later). Adapters turn transport failures into LanguageModelError
 * with `isRetryable` set from the status (429, 5xx, network, timeout) and never log keys.
 */
export interface LanguageModel {
  /** Provider name for records and events, e.g. `vllm`, `gemini`. */
  readonly provider: string;
  /** Model id sent on the wire. */
  readonly modelId: string;
  /** One call. Rejects with LanguageModelError. */
  generate(call: ModelCall): Promise<ModelAnswer>;
}

export interface ModelMessage {
  readonly role: "user" | "assistant";
  readonly content: string;
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
  /** Stream the answer (deltas go to `onDelta`); the result is the same either way. */
  readonly stream?: boolean;
  /** Receives text deltas while streaming. */
  readonly onDelta?: (delta: string) => void;
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
  readonly provider: string;
  readonly modelId: string;
  readonly latencyMs: number;
  readonly finishReason: string;
}
