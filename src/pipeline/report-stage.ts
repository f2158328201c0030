import { ExponentialBackoff, noJitterGenerator, type IBackoff } from "cockatiel";
import { ReportDeliveryError, describeError } from "../domain/errors.ts";
import { reportBody, type DeployResult, type TaskRequest } from "../domain/task.ts";
import { assertUrlIsPublic } from "../net/outbound-url-guard.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";
import type { RoundBudget } from "./round-budget.ts";

export interface ReportInput {
  readonly roundId: string;
  readonly request: TaskRequest;
  readonly result: DeployResult;
  readonly budget: RoundBudget;
  readonly signal?: AbortSignal;
}

export interface ReportOutcome {
  readonly attempts: number;
  readonly deliveredAt: number;
}

const attemptTimeoutMs = 15_000;

/**
 * PROTOCOL §3: POST the report until it is answered 200, waiting 1, 2, 4, 8 … s between tries
 * (capped), stopping at the round's deadline. Every attempt is recorded, also across restarts.
 */
export async function report(input: ReportInput, deps: PipelineDeps): Promise<ReportOutcome> {
  const { store, events, clock, settings } = deps;
  const body = JSON.stringify(reportBody(input.request, input.result));
  let attempt = (await store.listReportAttempts(input.roundId)).length;
  let backoff: IBackoff<unknown> = new ExponentialBackoff({
    generator: noJitterGenerator,
    initialDelay: settings.reportInitialBackoffMs,
    maxDelay: settings.reportMaxBackoffMs,
  }).next();
  for (;;) {
    attempt++;
    const startedAt = clock.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      await assertUrlIsPublic(input.request.evaluationUrl, settings.allowPrivateUrls);
      const timeout = Math.max(1, Math.min(attemptTimeoutMs, input.budget.remainingMs()));
      const signal = input.signal ? AbortSignal.any([AbortSignal.timeout(timeout), input.signal]) : AbortSignal.timeout(timeout);
      const response = await deps.fetch(input.request.evaluationUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal,
        redirect: "error",
      });
      statusCode = response.status;
      // Drain the body so the connection can be reused; its content does not matter.
      await response.arrayBuffer().catch(() => undefined);
      if (statusCode !== 200) error = `answered HTTP ${statusCode}`;
    } catch (cause) {
      error = describeError(cause);
    }
    const durationMs = clock.now() - startedAt;
    await store.addReportAttempt(input.roundId, { attempt, at: startedAt, statusCode, error, durationMs });
    events.emit("report-attempt", input.roundId, { attempt, statusCode, error, durationMs });
    if (statusCode === 200) {
      const deliveredAt = clock.now();
      events.emit("report-deliver", input.roundId, { attempts: attempt });
      return { attempts: attempt, deliveredAt };
    }
    if (input.signal?.aborted) throw new ReportDeliveryError("report delivery was interrupted", { cause: input.signal.reason });
    const wait = backoff.duration;
    backoff = backoff.next(undefined);
    if (input.budget.remainingMs() <= wait) {
      events.emit("report-abandon", input.roundId, { attempts: attempt, reason: "the round's deadline passed" });
      throw new ReportDeliveryError(`report not acknowledged after ${attempt} attempts before the deadline (last: ${error})`);
    }
    await clock.sleep(wait, input.signal);
  }
}
