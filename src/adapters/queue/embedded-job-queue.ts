import type { ClaimedJob, JobPayloads, JobQueue, JobState } from "../../ports/queue.ts";
import type { KyselyStore } from "../store/kysely-store.ts";

/** Stored as last_error when a job's final attempt stopped heart-beating. */
const abandonedOnFinalAttempt = "lease expired on the final attempt (the worker stopped heart-beating)";

/**
 * The JobQueue port on the store's own `jobs` table, which `acceptRound` fills in the same
 * transaction as the round: a round can never exist without its job, nor a job without its round.
 * A claim is one UPDATE … WHERE id = (oldest runnable) RETURNING, inside a transaction that on
 * SQLite holds the single write lock and on PostgreSQL skips rows other claimers have locked.
 * complete and fail by a worker that no longer holds the job (its lease ran out and another
 * worker claimed it) change nothing: the new holder's outcome is the one that counts.
 */
export function createEmbeddedJobQueue(store: KyselyStore): JobQueue {
  const { db, capabilities } = store;

  return {
    claim(workerId: string, leaseMs: number, now: number): Promise<ClaimedJob | undefined> {
      return store.run("claim job", () =>
        capabilities.transaction(db, async (trx) => {
          // A job whose last allowed attempt was abandoned would otherwise be claimed forever.
          await trx
            .updateTable("jobs")
            .set({ status: "failed", locked_by: null, locked_until: null, last_error: abandonedOnFinalAttempt, updated_at: now })
            .where("status", "=", "running")
            .where("locked_until", "<", now)
            .whereRef("attempts", ">=", "max_attempts")
            .execute();

          const row = await trx
            .updateTable("jobs")
            .set((eb) => ({
              status: "running",
              attempts: eb("attempts", "+", 1),
              locked_by: workerId,
              locked_until: now + leaseMs,
              updated_at: now,
            }))
            .where("id", "=", (eb) =>
              eb
                .selectFrom("jobs")
                .select("id")
                .where((w) =>
                  w.or([
                    w.and([w("status", "=", "queued"), w("run_at", "<=", now)]),
                    w.and([w("status", "=", "running"), w("locked_until", "<", now)]),
                  ]),
                )
                .orderBy("run_at")
                .orderBy("id")
                .limit(1)
                .$if(capabilities.rowLocks, (q) => q.forUpdate().skipLocked()),
            )
            .returning(["id", "name", "payload_json", "attempts", "max_attempts"])
            .executeTakeFirst();
          if (!row) return undefined;
          return {
            id: row.id,
            name: row.name as keyof JobPayloads,
            payload: JSON.parse(row.payload_json) as JobPayloads[keyof JobPayloads],
            attempt: row.attempts,
            maxAttempts: row.max_attempts,
          };
        }),
      );
    },

    heartbeat(jobId: string, workerId: string, leaseMs: number, now: number): Promise<boolean> {
      return store.run("heartbeat job", async () => {
        const result = await db
          .updateTable("jobs")
          .set({ locked_until: now + leaseMs, updated_at: now })
          .where("id", "=", jobId)
          .where("locked_by", "=", workerId)
          .where("status", "=", "running")
          .executeTakeFirst();
        return result.numUpdatedRows > 0n;
      });
    },

    complete(jobId: string, workerId: string, now: number): Promise<void> {
      return store.run("complete job", async () => {
        await db
          .updateTable("jobs")
          .set({ status: "done", locked_by: null, locked_until: null, updated_at: now })
          .where("id", "=", jobId)
          .where("locked_by", "=", workerId)
          .where("status", "=", "running")
          .execute();
      });
    },

    fail(jobId: string, workerId: string, error: string, now: number, retryAt?: number): Promise<void> {
      return store.run("fail job", async () => {
        await db
          .updateTable("jobs")
          .set((eb) => {
            // Decided in the UPDATE itself, against the attempts column as it is, not as last read.
            const canRetry = eb("attempts", "<", eb.ref("max_attempts"));
            return {
              status:
                retryAt === undefined
                  ? "failed"
                  : eb.case().when(canRetry).then("queued" as JobState).else("failed" as JobState).end(),
              run_at: retryAt === undefined ? eb.ref("run_at") : eb.case().when(canRetry).then(retryAt).else(eb.ref("run_at")).end(),
              locked_by: null,
              locked_until: null,
              last_error: error,
              updated_at: now,
            };
          })
          .where("id", "=", jobId)
          .where("locked_by", "=", workerId)
          .where("status", "=", "running")
          .execute();
      });
    },

    stats(): Promise<Record<JobState, number>> {
      return store.run("count jobs", async () => {
        const rows = await db
          .selectFrom("jobs")
          .select((eb) => ["status", eb.fn.countAll().as("count")])
          .groupBy("status")
          .execute();
        const stats: Record<JobState, number> = { queued: 0, running: 0, done: 0, failed: 0 };
        for (const row of rows) stats[row.status] = Number(row.count);
        return stats;
      });
    },
  };
}
