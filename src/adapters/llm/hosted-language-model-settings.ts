import type { AiSdkLanguageModelSettings } from "./ai-sdk-language-model.ts";

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

/**
 * What both hosted adapters derive from their settings: the options for the AI SDK provider
 * factory (`createGoogleGenerativeAI`, `createAnthropic`) and for `createAiSdkLanguageModel`.
 */
export function hostedAdapterOptions(settings: HostedLanguageModelSettings, defaults: { readonly provider: string; readonly baseUrl: string }) {
  const provider = settings.provider ?? defaults.provider;
  const baseUrl = (settings.baseUrl ?? defaults.baseUrl).replace(/\/+$/, "");
  return {
    sdk: { name: provider, baseURL: baseUrl, apiKey: settings.apiKey, ...(settings.fetch ? { fetch: settings.fetch } : {}) },
    adapter: {
      provider,
      model: settings.model,
      baseUrl,
      apiKey: settings.apiKey,
      timeoutMs: settings.timeoutMs,
      supportsImages: settings.supportsImages ?? true,
      supportsTools: settings.supportsTools ?? true,
    } satisfies AiSdkLanguageModelSettings,
  };
}
