import type { LanguageModel } from "../../ports/language-model.ts";

/**
 * The model with every call's `maxOutputTokens` held at or below `cap` (LLM_MAX_OUTPUT_TOKENS):
 * without one, a model that never stops (or a brief that asks for a novel) runs up the bill and
 * the round's time until the provider's own limit. A call may ask for fewer, never for more.
 */
export function withOutputTokenCap<M extends LanguageModel>(model: M, cap: number): M {
  const capped: M = Object.create(model);
  Object.defineProperty(capped, "generate", {
    value: (call: Parameters<LanguageModel["generate"]>[0]) => model.generate({ ...call, maxOutputTokens: Math.min(call.maxOutputTokens ?? cap, cap) }),
  });
  return capped;
}
