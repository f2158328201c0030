import { createAnthropic } from "@ai-sdk/anthropic";
import { wrapLanguageModel, type LanguageModelMiddleware } from "ai";
import type { LanguageModel } from "../../ports/language-model.ts";
import { createAiSdkLanguageModel } from "./ai-sdk-language-model.ts";
import { hostedAdapterOptions, type HostedLanguageModelSettings } from "./hosted-language-model-settings.ts";

/** Anthropic's public API base, version path included. */
export const defaultAnthropicBaseUrl = "https://api.anthropic.com/v1";

export type AnthropicLanguageModelSettings = HostedLanguageModelSettings;

/**
 * The language-model port over Anthropic's Messages API (`POST /messages`, plain or SSE), on the
 * AI SDK's Anthropic provider. Images go as `image` blocks, tools as `tools` with `tool_use` /
 * `tool_result` blocks. Anthropic has no schema-less JSON mode, so JSON mode is the SDK's `json`
 * tool (see {@link anyJsonObject}); a call with a schema gets the SDK's schema mode
 * (`output_config.format` on models that take it, else the same tool with that schema).
 */
export function createAnthropicLanguageModel(settings: AnthropicLanguageModelSettings): LanguageModel {
  const { sdk, adapter } = hostedAdapterOptions(settings, { provider: "anthropic", baseUrl: defaultAnthropicBaseUrl });
  return createAiSdkLanguageModel(adapter, wrapLanguageModel({ model: createAnthropic(sdk).messages(settings.model), middleware: anyJsonObject }));
}

/**
 * The SDK ignores `responseFormat: {type: "json"}` without a schema for Anthropic (with a
 * warning), which would leave JSON mode to the prompt alone. Giving it the open schema
 * `{type: "object"}` makes it send its `json` tool with `tool_choice: any` (an open object cannot
 * go as `output_config.format`, which wants closed objects), so the answer is a JSON object by
 * construction and comes back as the tool input's text — Anthropic's documented way to get JSON.
 */
const anyJsonObject: LanguageModelMiddleware = {
  specificationVersion: "v3",
  transformParams: async ({ params }) =>
    params.responseFormat?.type === "json" && params.responseFormat.schema === undefined
      ? { ...params, responseFormat: { ...params.responseFormat, schema: { type: "object" } } }
      : params,
};
