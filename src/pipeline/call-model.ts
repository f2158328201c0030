import { BriefwrightError, LanguageModelError, describeError } from "../domain/errors.ts";
import type { EventBus } from "../ports/event-bus.ts";
import type { LanguageModel, ModelAnswer, ModelCall } from "../ports/language-model.ts";

/** One model call with its events: request, then usage or failure. */
export async function callModel(model: LanguageModel, call: ModelCall, roundId: string, events: EventBus): Promise<ModelAnswer> {
  events.emit("llm-request", roundId, { purpose: call.purpose, provider: model.provider, model: model.modelId, stream: call.stream ?? false });
  try {
    const answer = await model.generate(call);
    events.emit("llm-usage", roundId, {
      purpose: call.purpose,
      provider: answer.provider,
      model: answer.modelId,
      inputTokens: answer.usage.inputTokens,
      outputTokens: answer.usage.outputTokens,
      latencyMs: answer.latencyMs,
      finishReason: answer.finishReason,
    });
    return answer;
  } catch (error) {
    events.emit("llm-fail", roundId, {
      purpose: call.purpose,
      provider: model.provider,
      model: model.modelId,
      error: describeError(error),
      retryable: error instanceof BriefwrightError ? error.isRetryable : false,
    });
    if (error instanceof BriefwrightError) throw error;
    throw new LanguageModelError(model.provider, describeError(error), { cause: error, isRetryable: true });
  }
}
