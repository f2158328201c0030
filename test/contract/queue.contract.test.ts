import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createEmbeddedJobQueue } from "../../src/adapters/queue/embedded-job-queue.ts";
import type { KyselyStore } from "../../src/adapters/store/kysely-store.ts";
import type { JobQueue } from "../../src/ports/queue.ts";
import { storeDialects } from "../support/store-dialects.ts";

const lease = 1_000;

describe.each(storeDialects)("JobQueue contract (embedded) on $name", (dialect) => {
  let store: KyselyStore;
  let queue: JobQueue;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ store, cleanup } = await dialect.openStore());
    queue = createEmbeddedJobQueue(store);
  });
  afterEach(async () => {
    await cleanup();
  });

  /** Accepts a round (which enqueues its job) at `now`; returns the ids. */
  async function enqueue(name: string, now: number) {
    return store.acceptRound({
      request: {
        email: "s@example.com",
        task: name,
        round: 1,
        nonce: "n",
        brief: "b",
        checks: [],
        evaluationUrl: "https://e.example/notify",
        attachments: [],
      },
      repoNameCandidate: name,
      deadlineAt: now + 600_000,
      now,
    });
  }

  it("claims nothing from an empty queue", async () => {
    expect(await queue.claim("w1", lease, 1_000)).toBeUndefined();
    expect(await queue.stats()).toEqual({ queued: 0, running: 0, done: 0, failed: 0 });
  });

  it("claims the oldest runnable job first, with its payload and attempt number", async () => {
    const b = await enqueue("b", 200);
    const a = await enqueue("a", 100);
    const c = await enqueue("c", 300);
    // Not due yet for a claim at 250.
    const first = await queue.claim("w1", lease, 250);
    expect(first).toEqual({ id: a.jobId, name: "run-round", payload: { roundId: a.roundId }, attempt: 1, maxAttempts: 5 });
    expect((await queue.claim("w1", lease, 250))?.id).toBe(b.jobId);
    expect(await queue.claim("w1", lease, 250)).toBeUndefined();
    expect((await queue.claim("w1", lease, 300))?.id).toBe(c.jobId);
    expect(await queue.stats()).toEqual({ queued: 0, running: 3, done: 0, failed: 0 });
  });

  it("never hands one job to two concurrent claimers", async () => {
    const jobs = await Promise.all(Array.from({ length: 5 }, (_, i) => enqueue(`task-${i}`, 100)));
    const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => queue.claim(`worker-${i}`, lease, 1_000)));
    const claimed = claims.filter((c) => c !== undefined);
    expect(claimed).toHaveLength(5);
    expect(new Set(claimed.map((c) => c.id))).toEqual(new Set(jobs.map((j) => j.jobId)));
    expect(claimed.every((c) => c.attempt === 1)).toBe(true);
    const holders = await store.db.selectFrom("jobs").select(["locked_by", "attempts"]).execute();
    expect(new Set(holders.map((h) => h.locked_by)).size).toBe(5);
    expect(holders.every((h) => h.attempts === 1)).toBe(true);
  });

  it("reclaims a job whose lease ran out; only the holder can heartbeat, complete or fail it", async () => {
    const { jobId } = await enqueue("t", 0);
    const first = await queue.claim("w1", lease, 10);
    expect(first?.attempt).toBe(1);
    expect(await queue.claim("w2", lease, 10 + lease - 1)).toBeUndefined();
    // The lease ends at 10 + lease; strictly after it the job is up for grabs again.
    expect(await queue.claim("w2", lease, 10 + lease)).toBeUndefined();
    const second = await queue.claim("w2", lease, 10 + lease + 1);
    expect(second).toMatchObject({ id: jobId, attempt: 2 });

    expect(await queue.heartbeat(jobId, "w1", lease, 1_100)).toBe(false);
    expect(await queue.heartbeat(jobId, "w2", lease, 1_100)).toBe(true);
    await queue.complete(jobId, "w1", 1_200);
    await queue.fail(jobId, "w1", "stale worker", 1_200, 1_300);
    expect(await queue.stats()).toEqual({ queued: 0, running: 1, done: 0, failed: 0 });

    await queue.complete(jobId, "w2", 1_300);
    expect(await queue.stats()).toEqual({ queued: 0, running: 0, done: 1, failed: 0 });
    expect(await queue.heartbeat(jobId, "w2", lease, 1_400)).toBe(false);
    expect(await queue.claim("w3", lease, 1_000_000)).toBeUndefined();
  });

  it("keeps a heart-beating job from being reclaimed", async () => {
    const { jobId } = await enqueue("t", 0);
    await queue.claim("w1", 100, 0);
    expect(await queue.heartbeat(jobId, "w1", 100, 90)).toBe(true);
    expect(await queue.claim("w2", 100, 150)).toBeUndefined();
    expect((await queue.claim("w2", 100, 191))?.id).toBe(jobId);
  });

  it("requeues a failure for retryAt while attempts remain, then fails it for good", async () => {
    const { jobId } = await enqueue("t", 0);
    let now = 0;
    for (let attempt = 1; attempt <= 5; attempt++) {
      const claimed = await queue.claim("w1", lease, now);
      expect(claimed).toMatchObject({ id: jobId, attempt });
      await queue.fail(jobId, "w1", `failure ${attempt}`, now + 1, now + 500);
      if (attempt < 5) {
        expect(await queue.stats()).toMatchObject({ queued: 1, failed: 0 });
        // Not before retryAt.
        expect(await queue.claim("w1", lease, now + 499)).toBeUndefined();
      }
      now += 500;
    }
    expect(await queue.stats()).toEqual({ queued: 0, running: 0, done: 0, failed: 1 });
    expect(await queue.claim("w1", lease, now + 1_000_000)).toBeUndefined();
    const row = await store.db.selectFrom("jobs").selectAll().where("id", "=", jobId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: "failed", attempts: 5, last_error: "failure 5", locked_by: null });
  });

  it("fails a job at once when no retryAt is given", async () => {
    const { jobId } = await enqueue("t", 0);
    await queue.claim("w1", lease, 0);
    await queue.fail(jobId, "w1", "not retryable", 10);
    expect(await queue.stats()).toEqual({ queued: 0, running: 0, done: 0, failed: 1 });
    expect(await queue.claim("w1", lease, 1_000_000)).toBeUndefined();
  });

  it("fails a job whose final attempt was abandoned instead of running it a sixth time", async () => {
    const { jobId } = await enqueue("t", 0);
    let now = 0;
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect(await queue.claim(`w${attempt}`, lease, now)).toMatchObject({ id: jobId, attempt });
      now += lease + 1;
    }
    expect(await queue.claim("w6", lease, now)).toBeUndefined();
    expect(await queue.stats()).toEqual({ queued: 0, running: 0, done: 0, failed: 1 });
    const row = await store.db.selectFrom("jobs").select(["last_error", "attempts"]).where("id", "=", jobId).executeTakeFirstOrThrow();
    expect(row.attempts).toBe(5);
    expect(row.last_error).toMatch(/lease expired/);
  });

  it("counts jobs by state", async () => {
    const jobs = await Promise.all(["a", "b", "c", "d"].map((name, i) => enqueue(name, i)));
    await queue.claim("w", lease, 10); // a
    const b = await queue.claim("w", lease, 10);
    await queue.complete(b!.id, "w", 11);
    const c = await queue.claim("w", lease, 10);
    await queue.fail(c!.id, "w", "x", 11);
    expect(jobs).toHaveLength(4);
    expect(await queue.stats()).toEqual({ queued: 1, running: 1, done: 1, failed: 1 });
  });
});
