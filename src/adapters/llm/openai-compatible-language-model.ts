import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModel } from "../../ports/language-model.ts";
import { createAiSdkLanguageModel } from "./ai-sdk-language-model.ts";

export interface OpenAICompatibleLanguageModelSettings {
  /** Name for records, events and errors, e.g. `vllm`, `openai`. */
  readonly provider: string;
  /** Base URL including `/v1`, e.g. `http://127.0.0.1:8001/v1`. */
  readonly baseUrl: string;
  /** Model id sent on the wire. */
  readonly model: string;
  /** Sent as `Authorization: Bearer …` when set; never appears in an error message. */
  readonly apiKey?: string;
  /** Budget for one whole call, streamed or not. */
  readonly timeoutMs: number;
  /** The model takes image input (`image_url` parts); false by default, since most local coders do not. */
  readonly supportsImages?: boolean;
  /**
   * Send `ModelCall.tools` as `tools` (function calling); false by default, since vLLM needs
   * `--enable-auto-tool-choice` and a tool parser for it and answers 400 without them.
   */
  readonly supportsTools?: boolean;
  /** For tests and proxies; the global fetch by default. */
  readonly fetch?: typeof fetch;
}

/**
 * The language-model port over any OpenAI-compatible chat-completions server (vLLM, Ollama,
 * llama.cpp's server, OpenAI, course proxies, the scripted fake-llm), on the Vercel AI SDK.
 * JSON mode is `response_format: {type: "json_object"}`, or `json_schema` when the call has a schema.
 */
export function createOpenAICompatibleLanguageModel(settings: OpenAICompatibleLanguageModelSettings): LanguageModel {
  const chatModel = createOpenAICompatible({
    name: settings.provider,
    baseURL: settings.baseUrl,
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
    // Without it the server sends no usage in streams, and token accounting would go blind.
    includeUsage: true,
    // Sends `response_format: json_schema` for calls that carry a schema (vLLM guided decoding,
    // Ollama, llama.cpp's server and OpenAI all take it); calls without one keep `json_object`.
    supportsStructuredOutputs: true,
    ...(settings.fetch ? { fetch: settings.fetch } : {}),
  }).chatModel(settings.model);
  return createAiSdkLanguageModel({ ...settings, supportsImages: settings.supportsImages ?? false, supportsTools: settings.supportsTools ?? false }, chatModel);
}
