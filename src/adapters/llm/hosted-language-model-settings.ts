/** What a hosted provider's adapter (Gemini, Anthropic) is built from. */
export interface HostedLanguageModelSettings {
  /** Name for records, events and errors; the provider's own name by default. */
  readonly provider?: string;
  /** Sent in the provider's key header (`x-goog-api-key`, `x-api-key`); never appears in an error message. */
  readonly apiKey: string;
  /** e.g. `gemini-2.5-flash`, `claude-sonnet-4-5`. */
  readonly model: string;
  /** API base including the version path; the provider's public API by default. */
  readonly baseUrl?: string;
  /** Budget for one whole call, streamed or not. */
  readonly timeoutMs: number;
  /** Both providers' models take image input; true by default. */
  readonly supportsImages?: boolean;
  /** Send `ModelCall.tools` as the provider's function/tool declarations; true by default. */
  readonly supportsTools?: boolean;
  /** For tests and proxies; the global fetch by default. */
  readonly fetch?: typeof fetch;
}
