import type { Config, LlmProviderConfig } from "../../config.ts";
import type { LanguageModel } from "../../ports/language-model.ts";
import { createAnthropicLanguageModel } from "./anthropic-language-model.ts";
import { createGeminiLanguageModel } from "./gemini-language-model.ts";
import { createOpenAICompatibleLanguageModel } from "./openai-compatible-language-model.ts";
import { createResilientLanguageModel, type ProviderPolicy, type ResilientLanguageModel } from "./resilient-language-model.ts";

/**
 * The one place that turns the LLM configuration into a model: each provider's adapter, each
 * behind its policy, in a fallback chain (even a chain of one, for its timeout, retries and
 * breaker). Undefined when no provider is configured.
 */
export function createLanguageModel(llm: Config["llm"], options: { fetch?: typeof fetch } = {}): ResilientLanguageModel | undefined {
  if (llm.providers.length === 0) return undefined;
  const policy: ProviderPolicy = {
    timeoutMs: llm.timeoutMs,
    retries: llm.retries,
    breakerThreshold: llm.breakerThreshold,
    breakerCooldownMs: llm.breakerCooldownMs,
  };
  return createResilientLanguageModel({
    providers: llm.providers.map((provider) => ({ model: createAdapter(provider, llm.timeoutMs, options.fetch), policy })),
    stream: llm.stream,
  });
}

function createAdapter(provider: LlmProviderConfig, timeoutMs: number, fetch: typeof globalThis.fetch | undefined): LanguageModel {
  // The chain times each attempt; the adapter's own timer is a backstop a little behind it.
  const backstopMs = timeoutMs + 1_000;
  const shared = { timeoutMs: backstopMs, supportsImages: provider.supportsImages, supportsTools: provider.supportsTools, ...(fetch ? { fetch } : {}) };
  switch (provider.protocol) {
    case "openai-compatible":
      return createOpenAICompatibleLanguageModel({
        provider: provider.name,
        baseUrl: provider.baseUrl,
        model: provider.model,
        ...(provider.apiKey ? { apiKey: provider.apiKey } : {}),
        ...shared,
      });
    case "gemini":
    case "anthropic": {
      // Hosted APIs: the config has already refused a chain that names one without its key.
      const create = provider.protocol === "gemini" ? createGeminiLanguageModel : createAnthropicLanguageModel;
      return create({ provider: provider.name, baseUrl: provider.baseUrl, model: provider.model, apiKey: provider.apiKey ?? "", ...shared });
    }
  }
}
