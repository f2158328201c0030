import type { EventRecord } from "../ports/store.ts";

/** Token and cost totals of some model calls (attempts), as the task API shows them. */
export interface UsageTotals {
  /** Attempts made, answered or failed. */
  calls: number;
  failures: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  /** Answered calls whose model has no price in LLM_PRICES (counted at 0). */
  unpriced_calls: number;
  by_provider: Record<string, ProviderTotals>;
}

export interface ProviderTotals {
  calls: number;
  failures: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  models: string[];
}

/** One attempt in the round's record. */
export interface LlmCallRecord {
  readonly at: string;
  readonly purpose: string;
  readonly provider: string;
  readonly model: string;
  readonly outcome: "answered" | "failed";
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly latency_ms: number;
  readonly cost_usd: number;
  readonly priced: boolean | null;
  readonly status_code: number | null;
  readonly error: string | null;
}

export function emptyUsage(): UsageTotals {
  return { calls: 0, failures: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0, unpriced_calls: 0, by_provider: {} };
}

/**
 * Every model attempt of a round, from its stored `llm-usage` (answered) and `llm-attempt-fail`
 * (failed) events. Reading the record rather than keeping counters means the totals are exactly
 * what the round's events say, whichever process ran it.
 */
export function llmCalls(events: readonly EventRecord[]): LlmCallRecord[] {
  const calls: LlmCallRecord[] = [];
  for (const event of events) {
    const data = (event.payload ?? {}) as Record<string, unknown>;
    const base = {
      at: new Date(event.at).toISOString(),
      purpose: text(data.purpose),
      provider: text(data.provider),
      model: text(data.model),
    };
    if (event.name === "llm-usage") {
      calls.push({
        ...base,
        outcome: "answered",
        input_tokens: count(data.inputTokens),
        output_tokens: count(data.outputTokens),
        latency_ms: count(data.latencyMs),
        cost_usd: count(data.costUsd),
        priced: typeof data.priced === "boolean" ? data.priced : false,
        status_code: null,
        error: null,
      });
    } else if (event.name === "llm-attempt-fail") {
      calls.push({
        ...base,
        outcome: "failed",
        input_tokens: 0,
        output_tokens: 0,
        latency_ms: count(data.latencyMs),
        cost_usd: 0,
        priced: null,
        status_code: typeof data.statusCode === "number" ? data.statusCode : null,
        error: text(data.error),
      });
    }
  }
  return calls;
}

export function totalUsage(calls: readonly LlmCallRecord[]): UsageTotals {
  const totals = emptyUsage();
  for (const call of calls) {
    const failed = call.outcome === "failed" ? 1 : 0;
    totals.calls += 1;
    totals.failures += failed;
    totals.input_tokens += call.input_tokens;
    totals.output_tokens += call.output_tokens;
    totals.cost_usd += call.cost_usd;
    if (call.priced === false) totals.unpriced_calls += 1;
    const provider = (totals.by_provider[call.provider] ??= { calls: 0, failures: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0, models: [] });
    provider.calls += 1;
    provider.failures += failed;
    provider.input_tokens += call.input_tokens;
    provider.output_tokens += call.output_tokens;
    provider.cost_usd += call.cost_usd;
    if (!provider.models.includes(call.model)) provider.models.push(call.model);
  }
  return roundCosts(totals);
}

/** The sum of several rounds' totals (a task's). */
export function addUsage(parts: readonly UsageTotals[]): UsageTotals {
  const sum = emptyUsage();
  for (const part of parts) {
    sum.calls += part.calls;
    sum.failures += part.failures;
    sum.input_tokens += part.input_tokens;
    sum.output_tokens += part.output_tokens;
    sum.cost_usd += part.cost_usd;
    sum.unpriced_calls += part.unpriced_calls;
    for (const [name, provider] of Object.entries(part.by_provider)) {
      const into = (sum.by_provider[name] ??= { calls: 0, failures: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0, models: [] });
      into.calls += provider.calls;
      into.failures += provider.failures;
      into.input_tokens += provider.input_tokens;
      into.output_tokens += provider.output_tokens;
      into.cost_usd += provider.cost_usd;
      for (const model of provider.models) if (!into.models.includes(model)) into.models.push(model);
    }
  }
  return roundCosts(sum);
}

/** Whole nano-dollars, so sums of many small costs read cleanly. */
function roundCosts(totals: UsageTotals): UsageTotals {
  const nano = (usd: number) => Math.round(usd * 1e9) / 1e9;
  totals.cost_usd = nano(totals.cost_usd);
  for (const provider of Object.values(totals.by_provider)) provider.cost_usd = nano(provider.cost_usd);
  return totals;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}
