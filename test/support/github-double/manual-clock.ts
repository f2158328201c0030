/**
 * A fake Clock for tests of the double: Pages builds and workflow runs wait on it, so a test moves
 * time instead of sleeping.
 */
import type { Clock } from "../../../src/ports/clock.ts";

/** A clock that moves only when told to; sleeps end when it passes their deadline. */
export function manualClock(start = Date.UTC(2026, 0, 1)) {
  let now = start;
  const sleepers: { until: number; wake: () => void }[] = [];
  const clock: Clock = {
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        sleepers.push({ until: now + ms, wake: resolve });
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      }),
  };
  return {
    clock,
    async advance(ms: number) {
      now += ms;
      for (const sleeper of sleepers.filter((each) => each.until <= now)) {
        sleepers.splice(sleepers.indexOf(sleeper), 1);
        sleeper.wake();
      }
      // Let the woken continuations run.
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}
