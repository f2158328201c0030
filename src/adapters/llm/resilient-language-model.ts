import { AsyncLocalStorage } from "node:async_hooks";
import {
  CircuitState,
  ConsecutiveBreaker,
  DelegateBackoff,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
  retry,
  timeout,
  TaskCancelledError,
  type CircuitBreakerPolicy,
  type FailureReason,
} from "cockatiel";
import { AllProvidersFailedError, CircuitOpenError, LanguageModelError, describeError } from "../../domain/errors.ts";
import type { LanguageModel, ModelAnswer, ModelCall, ModelEvent } from "../../ports/language-model.ts";

/** How one provider is called: the knobs of its timeout, retry and circuit breaker. */
export interface ProviderPolicy {
  /** Budget of one attempt; past it the attempt fails as a retryable timeout. */
  readonly timeoutMs: number;
  /** Extra attempts after the first, for retryable failures only. */
  readonly retries: number;
  /** Consecutive retryable failures (across calls) that open the circuit. */
  readonly breakerThreshold: number;
  /** How long an open circuit skips the provider before one trial call is let through. */
  readonly breakerCooldownMs: number;
  /** First backoff when the provider gave no Retry-After (doubles per retry, ±20 % jitter). Default 500 ms. */
  readonly backoffBaseMs?: number;
  /** Longest backoff. Default 8 s. */
  readonly backoffMaxMs?: number;
  /** Longest Retry-After honoured; a provider asking for more is left for the next one at once. Default 30 s. */
  readonly maxRetryAfterMs?: number;
}

export interface ResilientLanguageModelSettings {
  /** In order: the first is the primary, the rest are fallbacks. */
  readonly providers: readonly { readonly model: LanguageModel; readonly policy: ProviderPolicy }[];
  /** Whether calls that leave `stream` undefined stream. Default false. */
  readonly stream?: boolean;
}

export type BreakerState = "closed" | "open" | "half-open";

/** One provider as `/health` shows it. */
export interface ProviderStatus {
  readonly provider: string;
  readonly model: string;
  readonly supportsImages: boolean;
  readonly supportsTools: boolean;
  readonly breaker: BreakerState;
  /** While open: time left before the next trial call. */
  readonly cooldownRemainingMs: number | null;
}

/** A fallback chain is a LanguageModel that can also say how its providers are doing. */
export interface ResilientLanguageModel extends LanguageModel {
  status(): ProviderStatus[];
}

interface ProviderEntry {
  readonly model: LanguageModel;
  readonly policy: Required<ProviderPolicy>;
  readonly breaker: CircuitBreakerPolicy;
  openedAt: number;
}

/**
 * Breaker transitions happen inside some call's `execute`, but the breaker is shared by every
 * call; this says whose call it was, so the event reaches that call's round.
 */
const currentSink = new AsyncLocalStorage<(event: ModelEvent) => void>();

/**
 * Providers in order, each behind its own policy (cockatiel): a timeout per attempt, retries with
 * backoff for retryable failures only (429 honouring Retry-After, 5xx, network, and timeouts on
 * the last provider — never 400/401/403/404), and a consecutive-failure circuit breaker per provider, shared by every call,
 * so a dead primary is skipped at once until its cool-down ends. A provider that gives up hands
 * the call to the next; when none is left the call fails with AllProvidersFailedError carrying
 * each provider's error. Only the caller's own abort stops the chain early.
 */
export function createResilientLanguageModel(settings: ResilientLanguageModelSettings): ResilientLanguageModel {
  if (settings.providers.length === 0) throw new Error("a fallback chain needs at least one provider");
  const entries: ProviderEntry[] = settings.providers.map(({ model, policy }) => {
    const full: Required<ProviderPolicy> = { backoffBaseMs: 500, backoffMaxMs: 8_000, maxRetryAfterMs: 30_000, ...policy };
    const breaker = circuitBreaker(handleWhen(countsAgainstProvider), {
      halfOpenAfter: full.breakerCooldownMs,
      breaker: new ConsecutiveBreaker(full.breakerThreshold),
    });
    const entry: ProviderEntry = { model, policy: full, breaker, openedAt: 0 };
    const name = model.provider;
    breaker.onBreak((reason) => {
      entry.openedAt = Date.now();
      const cause = "error" in reason ? describeError(reason.error) : "isolated";
      currentSink.getStore()?.({ type: "breaker-open", provider: name, cooldownMs: full.breakerCooldownMs, reason: cause });
    });
    breaker.onHalfOpen(() => currentSink.getStore()?.({ type: "breaker-half-open", provider: name }));
    breaker.onReset(() => currentSink.getStore()?.({ type: "breaker-close", provider: name }));
    return entry;
  });
  const name = entries.map((entry) => entry.model.provider).join(">");

  return {
    provider: name,
    modelId: entries[0]!.model.modelId,
    supportsImages: entries[0]!.model.supportsImages,
    // Offered when any provider takes them: each adapter sends or drops the call's tools itself,
    // so a fallback gets the same tools as the primary.
    supportsTools: entries.some((entry) => entry.model.supportsTools),

    generate(call: ModelCall): Promise<ModelAnswer> {
      const sink = safeSink(call.onEvent);
      // Adapters report only what happens inside their one attempt (tool calls); the rest is ours.
      const effective: ModelCall = { ...call, stream: call.stream ?? settings.stream ?? false, onEvent: sink };
      return currentSink.run(sink, async () => {
        const errors: LanguageModelError[] = [];
        let attempts = 0;
        for (const [index, entry] of entries.entries()) {
          try {
            const last = index === entries.length - 1;
            const answer = await callProvider(entry, effective, sink, () => attempts++, last);
            return { ...answer, attempts };
          } catch (error) {
            const failure = asLanguageModelError(error, entry.model.provider);
            if (call.signal?.aborted) throw failure;
            errors.push(failure);
            const next = entries[index + 1];
            if (next) sink({ type: "fallback", from: entry.model.provider, to: next.model.provider, reason: failure.message });
          }
        }
        throw new AllProvidersFailedError(name, errors);
      });
    },

    status() {
      return entries.map((entry) => {
        const state = breakerState(entry.breaker.state);
        const remaining = Math.max(0, entry.openedAt + entry.policy.breakerCooldownMs - Date.now());
        return {
          provider: entry.model.provider,
          model: entry.model.modelId,
          supportsImages: entry.model.supportsImages,
          supportsTools: entry.model.supportsTools,
          // Cockatiel only moves to half-open when a call arrives; past the cool-down it is as good as half-open.
          breaker: state === "open" && remaining === 0 ? "half-open" : state,
          cooldownRemainingMs: state === "open" ? remaining : null,
        };
      });
    },
  };
}

/** One provider: retry ( breaker ( timeout ( attempt ) ) ). */
async function callProvider(
  entry: ProviderEntry,
  call: ModelCall,
  sink: (event: ModelEvent) => void,
  countAttempt: () => void,
  last: boolean,
): Promise<ModelAnswer> {
  const { model, policy, breaker } = entry;
  const retryPolicy = retry(
    // Once this call's failures opened the circuit, waiting out a backoff only to be refused is pointless.
    handleWhen((error) => isRetryableHere(error, policy, last) && breaker.state !== CircuitState.Open),
    {
      maxAttempts: policy.retries,
      backoff: new DelegateBackoff((context: { attempt: number; result: FailureReason<unknown> }) => retryDelay(context.result, context.attempt, policy).delayMs),
    },
  );
  retryPolicy.onRetry((event) => {
    const { delaySource } = retryDelay(event, event.attempt, policy);
    sink({
      type: "retry",
      provider: model.provider,
      model: model.modelId,
      attempt: event.attempt + 1,
      delayMs: Math.round(event.delay),
      delaySource,
      reason: "error" in event ? describeError(event.error) : "unusable result",
    });
  });
  const attemptTimeout = timeout(policy.timeoutMs, TimeoutStrategy.Aggressive);
  let attempt = 0;

  try {
    return await retryPolicy.execute(
      () =>
        breaker.execute(async () => {
          // Cockatiel's retry delay does not watch the signal; do not start an attempt after an abort.
          if (call.signal?.aborted) throw abortError(model.provider, call.signal.reason);
          attempt += 1;
          countAttempt();
          const started = performance.now();
          try {
            return await attemptTimeout.execute(({ signal }) => model.generate({ ...call, signal }), call.signal);
          } catch (error) {
            const failure = attemptError(error, model, policy, call.signal);
            sink({
              type: "attempt-fail",
              provider: model.provider,
              model: model.modelId,
              attempt,
              error: failure.message,
              code: failure.code,
              statusCode: failure.statusCode ?? null,
              retryable: failure.isRetryable,
              latencyMs: Math.round(performance.now() - started),
            });
            throw failure;
          }
        }, call.signal),
      call.signal,
    );
  } catch (error) {
    if (isBrokenCircuitError(error)) {
      const remaining = Math.max(0, entry.openedAt + policy.breakerCooldownMs - Date.now());
      throw new CircuitOpenError(model.provider, remaining, { cause: error });
    }
    throw error;
  }
}

/** Counted by the breaker: the provider failed to serve (not: we asked wrongly, or the caller gave up). */
function countsAgainstProvider(error: Error): boolean {
  return error instanceof LanguageModelError && error.isRetryable && error.code !== "llm-aborted";
}

function isRetryableHere(error: Error, policy: Required<ProviderPolicy>, last: boolean): boolean {
  if (!countsAgainstProvider(error)) return false;
  // A timed-out attempt has already spent a whole timeout; with a fallback left, that is where
  // the next one is better spent. The last provider keeps its retries: there is nowhere else to go.
  if ((error as LanguageModelError).code === "llm-timeout" && !last) return false;
  const asked = (error as LanguageModelError).retryAfterMs;
  // A provider that wants us gone for longer than we will wait is better left for the next one.
  return asked === undefined || asked <= policy.maxRetryAfterMs;
}

function retryDelay(
  result: FailureReason<unknown>,
  attempt: number,
  policy: Required<ProviderPolicy>,
): { delayMs: number; delaySource: "retry-after" | "backoff" } {
  const error = "error" in result ? result.error : undefined;
  if (error instanceof LanguageModelError && error.retryAfterMs !== undefined) {
    return { delayMs: Math.min(error.retryAfterMs, policy.maxRetryAfterMs), delaySource: "retry-after" };
  }
  const exponential = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
  return { delayMs: Math.round(exponential * (0.8 + Math.random() * 0.4)), delaySource: "backoff" };
}

/** The error of one attempt, with cockatiel's timeout and foreign errors made into ours. */
function attemptError(error: unknown, model: LanguageModel, policy: ProviderPolicy, callerSignal: AbortSignal | undefined): LanguageModelError {
  if (callerSignal?.aborted) return error instanceof LanguageModelError && error.code === "llm-aborted" ? error : abortError(model.provider, error);
  // Not cockatiel's isTaskCancelledError: in 3.2.1 it tests the bulkhead's marker property.
  if (error instanceof TaskCancelledError) {
    return new LanguageModelError(model.provider, `no complete answer from ${model.modelId} within ${policy.timeoutMs} ms`, {
      code: "llm-timeout",
      isRetryable: true,
      cause: error,
    });
  }
  return asLanguageModelError(error, model.provider);
}

function abortError(provider: string, cause: unknown): LanguageModelError {
  return new LanguageModelError(provider, "the call was aborted", { code: "llm-aborted", isRetryable: false, cause });
}

function asLanguageModelError(error: unknown, provider: string): LanguageModelError {
  if (error instanceof LanguageModelError) return error;
  // An adapter broke its contract (threw something else); treat it as a transient fault.
  return new LanguageModelError(provider, describeError(error), { cause: error, isRetryable: true });
}

function breakerState(state: CircuitState): BreakerState {
  switch (state) {
    case CircuitState.Closed:
      return "closed";
    case CircuitState.HalfOpen:
      return "half-open";
    default:
      return "open";
  }
}

/** The caller's observer may throw; a failing observer must not fail the call. */
function safeSink(onEvent: ModelCall["onEvent"]): (event: ModelEvent) => void {
  return (event) => {
    try {
      onEvent?.(event);
    } catch {
      // Observing is best effort.
    }
  };
}
