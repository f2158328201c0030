import { randomUUID } from "node:crypto";
import { describeError } from "../domain/errors.ts";
import type { Clock } from "../ports/clock.ts";
import type { EventBus } from "../ports/event-bus.ts";
import type { ClaimedJob, JobQueue } from "../ports/queue.ts";

export interface JobHelpers {
  /** Fires when the lease is lost (another worker took the job) or the pool stops. */
  readonly signal: AbortSignal;
  readonly attempt: number;
}

/** What a handler tells the pool after a failure. */
export interface JobFailure {
  readonly retryAt?: number;
}

export interface WorkerPoolOptions {
  readonly queue: JobQueue;
  readonly events: EventBus;
  readonly clock: Clock;
  readonly concurrency: number;
  readonly leaseMs: number;
  /** How often an idle worker looks for jobs that a wake-up did not announce (other processes, retries). */
  readonly idlePollMs?: number;
  readonly handle: (job: ClaimedJob, helpers: JobHelpers) => Promise<void>;
  /** Decides whether a failed job runs again, and when. */
  readonly onFailure: (job: ClaimedJob, error: unknown) => JobFailure;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface WorkerPool {
  start(): void;
  /** Tells idle workers a job is waiting. */
  wake(): void;
  /** Stops claiming, aborts running handlers' signals and waits for them to settle. */
  stop(): Promise<void>;
  readonly workerId: string;
}

/**
 * `concurrency` loops, each claiming one job at a time with a lease it keeps alive by heartbeat.
 * A job whose process died is claimed again by any pool once its lease runs out.
 */
export function createWorkerPool(options: WorkerPoolOptions): WorkerPool {
  const workerId = `worker-${randomUUID()}`;
  const idlePollMs = options.idlePollMs ?? 1000;
  const stopping = new AbortController();
  const loops: Promise<void>[] = [];
  let wakeUp: (() => void) | undefined;
  let pendingWake = false;

  const waitForWork = () =>
    new Promise<void>((resolve) => {
      if (pendingWake) {
        pendingWake = false;
        return resolve();
      }
      const timer = setTimeout(done, idlePollMs);
      const previous = wakeUp;
      function done() {
        clearTimeout(timer);
        stopping.signal.removeEventListener("abort", done);
        resolve();
      }
      wakeUp = () => {
        previous?.();
        done();
      };
      stopping.signal.addEventListener("abort", done, { once: true });
    });

  async function runJob(job: ClaimedJob) {
    const lease = new AbortController();
    const signal = AbortSignal.any([lease.signal, stopping.signal]);
    options.events.emit("job-claim", "roundId" in job.payload ? job.payload.roundId : null, { jobId: job.id, workerId, attempt: job.attempt });
    const beat = setInterval(() => {
      options.queue
        .heartbeat(job.id, workerId, options.leaseMs, options.clock.now())
        .then((held) => {
          if (!held) lease.abort(new Error("lease lost"));
        })
        .catch((error) => options.log?.("heartbeat failed", { jobId: job.id, error: describeError(error) }));
    }, Math.max(100, Math.floor(options.leaseMs / 3)));
    try {
      await options.handle(job, { signal, attempt: job.attempt });
      await options.queue.complete(job.id, workerId, options.clock.now());
    } catch (error) {
      if (stopping.signal.aborted) return; // the lease runs out and another process resumes it
      const { retryAt } = options.onFailure(job, error);
      const willRetry = retryAt !== undefined && job.attempt < job.maxAttempts;
      options.events.emit("job-fail", "roundId" in job.payload ? job.payload.roundId : null, {
        jobId: job.id,
        error: describeError(error),
        willRetry,
      });
      await options.queue.fail(job.id, workerId, describeError(error), options.clock.now(), retryAt);
    } finally {
      clearInterval(beat);
    }
  }

  async function loop() {
    while (!stopping.signal.aborted) {
      let job: ClaimedJob | undefined;
      try {
        job = await options.queue.claim(workerId, options.leaseMs, options.clock.now());
      } catch (error) {
        options.log?.("claim failed", { error: describeError(error) });
      }
      if (!job) {
        await waitForWork();
        continue;
      }
      try {
        await runJob(job);
      } catch (error) {
        options.log?.("job bookkeeping failed", { jobId: job.id, error: describeError(error) });
      }
    }
  }

  return {
    workerId,
    start() {
      for (let i = 0; i < options.concurrency; i++) loops.push(loop());
    },
    wake() {
      if (wakeUp) {
        const wake = wakeUp;
        wakeUp = undefined;
        wake();
      } else {
        pendingWake = true;
      }
    },
    async stop() {
      stopping.abort(new Error("worker pool stopping"));
      await Promise.allSettled(loops);
    },
  };
}
