/**
 * Runs background work one piece at a time, each only once the process is not busy (or after
 * `maxDelayMs` at the latest), so observations made after a round — the live check — never take
 * CPU or browser time from rounds still racing their deadlines.
 */
export interface IdleLane {
  /** Queues `work`; its failure is the caller's to record, the lane only keeps going. */
  schedule(work: () => Promise<unknown>): void;
  /** Stops taking work, drops what waits, and waits for the piece in progress. */
  stop(): Promise<void>;
}

export function createIdleLane(options: { isBusy: () => boolean; maxDelayMs: number; graceMs?: number; pollMs?: number }): IdleLane {
  const queue: Array<{ work: () => Promise<unknown>; queuedAt: number }> = [];
  const pollMs = options.pollMs ?? 100;
  let running: Promise<void> | undefined;
  let stopped = false;

  const drain = async () => {
    while (!stopped && queue.length > 0) {
      const next = queue[0]!;
      // The grace period lets work that arrives right behind (a next round) claim the machine first.
      const graceMs = options.graceMs ?? 0;
      while (!stopped && Date.now() - next.queuedAt < graceMs) await new Promise((resolve) => setTimeout(resolve, pollMs));
      while (!stopped && options.isBusy() && Date.now() - next.queuedAt < options.maxDelayMs) {
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
      if (stopped) return;
      queue.shift();
      await next.work().catch(() => undefined);
    }
  };

  return {
    schedule(work) {
      if (stopped) return;
      queue.push({ work, queuedAt: Date.now() });
      running ??= drain().finally(() => {
        running = undefined;
      });
    },
    async stop() {
      stopped = true;
      queue.length = 0;
      await running;
    },
  };
}
