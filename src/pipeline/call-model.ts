import { isVisionImage } from "../domain/image-info.ts";
import { BriefwrightError, LanguageModelError, describeError } from "../domain/errors.ts";
import { costOf, type PriceTable } from "../domain/price-table.ts";
import type { EventBus } from "../ports/event-bus.ts";
import type { LanguageModel, ModelAnswer, ModelCall, ModelEvent, ModelImage } from "../ports/language-model.ts";
import { createDeltaBatcher } from "./delta-batcher.ts";

export interface CallModelOptions {
  /** Prices for `llm-usage.costUsd`; without one every call costs 0, unpriced. */
  readonly prices?: PriceTable;
}

/**
 * One model call with its events, attributed to the round: `llm-request`; whatever the model
 * reports from inside the call (failed attempts, retries, fallbacks, breaker changes, tool calls); batched
 * `llm-delta` while it streams; then `llm-usage` with tokens and cost, or `llm-fail`.
 */
export async function callModel(
  model: LanguageModel,
  call: ModelCall,
  roundId: string,
  events: EventBus,
  options: CallModelOptions = {},
): Promise<ModelAnswer> {
  const { purpose } = call;
  const started = performance.now();
  events.emit("llm-request", roundId, { purpose, provider: model.provider, model: model.modelId, stream: call.stream ?? null });
  const deltas = createDeltaBatcher((batch) => events.emit("llm-delta", roundId, { purpose, ...batch }));
  let attemptFailures = 0;
  const onEvent = (event: ModelEvent) => {
    if (event.type === "attempt-fail") attemptFailures += 1;
    emitModelEvent(events, roundId, purpose, event);
    call.onEvent?.(event);
  };
  const onDelta = (delta: string) => {
    deltas.push(delta);
    call.onDelta?.(delta);
  };
  try {
    const answer = await model.generate({ ...call, onDelta, onEvent });
    deltas.flush();
    const cost = costOf(options.prices ?? {}, answer.provider, answer.modelId, answer.usage);
    events.emit("llm-usage", roundId, {
      purpose,
      provider: answer.provider,
      model: answer.modelId,
      inputTokens: answer.usage.inputTokens,
      outputTokens: answer.usage.outputTokens,
      latencyMs: answer.latencyMs,
      finishReason: answer.finishReason,
      costUsd: cost.costUsd,
      priced: cost.priced,
      attempts: answer.attempts ?? 1,
      durationMs: Math.round(performance.now() - started),
    });
    return answer;
  } catch (error) {
    deltas.flush();
    const failure =
      error instanceof BriefwrightError ? error : new LanguageModelError(model.provider, describeError(error), { cause: error, isRetryable: true });
    // A bare adapter reports nothing from inside; its one attempt still counts as a call.
    if (attemptFailures === 0 && failure instanceof LanguageModelError && failure.code !== "llm-all-failed") {
      events.emit("llm-attempt-fail", roundId, {
        purpose,
        provider: failure.provider,
        model: model.modelId,
        attempt: 1,
        error: failure.message,
        code: failure.code,
        statusCode: failure.statusCode ?? null,
        retryable: failure.isRetryable,
        latencyMs: Math.round(performance.now() - started),
      });
    }
    events.emit("llm-fail", roundId, {
      purpose,
      provider: model.provider,
      model: model.modelId,
      error: failure.message,
      code: failure.code,
      retryable: failure.isRetryable,
    });
    throw failure;
  }
}

function emitModelEvent(events: EventBus, roundId: string, purpose: string, event: ModelEvent): void {
  switch (event.type) {
    case "attempt-fail": {
      const { type: _, ...payload } = event;
      return events.emit("llm-attempt-fail", roundId, { purpose, ...payload });
    }
    case "retry": {
      const { type: _, ...payload } = event;
      return events.emit("llm-retry", roundId, { purpose, ...payload });
    }
    case "fallback": {
      const { type: _, ...payload } = event;
      return events.emit("llm-fallback", roundId, { purpose, ...payload });
    }
    case "breaker-open": {
      const { type: _, ...payload } = event;
      return events.emit("breaker-open", roundId, payload);
    }
    case "breaker-half-open":
      return events.emit("breaker-half-open", roundId, { provider: event.provider });
    case "breaker-close":
      return events.emit("breaker-close", roundId, { provider: event.provider });
    case "tool-call": {
      const { type: _, ...payload } = event;
      return events.emit("tool-call", roundId, { purpose, ...payload });
    }
  }
}

/**
 * The attachments a model could look at: raster images (SVG is text and already previewed in
 * the prompt). Models without image input get them described instead, by the adapter.
 */
export function attachmentImages(attachments: readonly { readonly name: string; readonly mimeType: string; readonly base64: string }[]): ModelImage[] {
  return attachments
    .filter((attachment) => isVisionImage(attachment.mimeType))
    .map((attachment) => ({ name: attachment.name, mimeType: attachment.mimeType, data: Buffer.from(attachment.base64, "base64") }));
}
