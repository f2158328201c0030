import { createGoogleGenerativeAI } from "@ai-sdk/google";
import type { LanguageModel } from "../../ports/language-model.ts";
import { createAiSdkLanguageModel } from "./ai-sdk-language-model.ts";
import { hostedAdapterOptions, type HostedLanguageModelSettings } from "./hosted-language-model-settings.ts";

/** Gemini's public API base, version path included. */
export const defaultGeminiBaseUrl = "https://generativelanguage.googleapis.com/v1beta";

export type GeminiLanguageModelSettings = HostedLanguageModelSettings;

/**
 * The language-model port over Google's Gemini API (`generateContent`,
 * `streamGenerateContent?alt=sse`), on the AI SDK's Google provider. JSON mode is
 * `generationConfig.responseMimeType: application/json`; images go as `inlineData` parts; tools
 * as `functionDeclarations`, without JSON mode (Gemini 2.x refuses the two together with 400).
 */
export function createGeminiLanguageModel(settings: GeminiLanguageModelSettings): LanguageModel {
  const { sdk, adapter } = hostedAdapterOptions(settings, { provider: "gemini", baseUrl: defaultGeminiBaseUrl });
  return createAiSdkLanguageModel({ ...adapter, jsonModeWithTools: false }, createGoogleGenerativeAI(sdk).chat(settings.model));
}
