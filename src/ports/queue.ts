/**
 * The job queue port, version 1. The embedded adapter keeps jobs in the store's `jobs` table
 * (written by `Store.acceptRound` in the same transaction as the round); pg-boss comes later.
 * Delivery is at-least-once: a job whose worker stops heart-beating is claimed again after its
 * lease runs out, so handlers must be idempotent (pipeline stages are checkpointed).
 */
export interface JobQueue {
  /**
   * Claims the oldest runnable job (queued and due, or running with an expired lease) for
   * `workerId`, setting its lease to now + `leaseMs`. Returns undefined when none is runnable.
   * Two concurrent claims never return the same job.
   */
  claim(workerId: string, leaseMs: number, now: number): Promise<ClaimedJob | undefined>;

  /** Extends the lease of a job this worker holds. Returns false if the job is no longer held. */
  heartbeat(jobId: string, workerId: string, leaseMs: number, now: number): Promise<boolean>;

  /** Marks a held job done. */
  complete(jobId: string, workerId: string, now: number): Promise<void>;

  /**
   * Records a failure of a held job. With `retryAt` the job is queued again for then (if it has
   * attempts left); without it, or with none left, it is failed for good.
   */
  fail(jobId: string, workerId: string, error: string, now: number, retryAt?: number): Promise<void>;

  /** Counts jobs by state, for health and metrics. */
  stats(): Promise<Record<JobState, number>>;
}

export type JobState = "queued" | "running" | "done" | "failed";

/** Jobs by name and payload; one today. */
export interface JobPayloads {
  "run-round": { readonly roundId: string };
}

export interface ClaimedJob {
  readonly id: string;
  readonly name: keyof JobPayloads;
  readonly payload: JobPayloads[keyof JobPayloads];
  /** 1 on the first claim. */
  readonly attempt: number;
  readonly maxAttempts: number;
}
