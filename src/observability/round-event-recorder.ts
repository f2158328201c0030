import { ephemeralEvents, type BriefwrightEvent } from "../events/event-map.ts";
import type { EventBus } from "../ports/event-bus.ts";
import type { Store } from "../ports/store.ts";

/**
 * Keeps every round's events in the store, in order, without making emitters wait: events are
 * queued and written in batches by one writer. Ephemeral events (streaming progress) are for
 * live views only and are not kept.
 */
export function recordRoundEvents(bus: EventBus, store: Store, onError: (error: unknown) => void): { flush(): Promise<void>; stop(): void } {
  let pending: BriefwrightEvent[] = [];
  let writing: Promise<void> = Promise.resolve();

  const drain = async () => {
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      const byRound = new Map<string, BriefwrightEvent[]>();
      for (const event of batch) {
        const list = byRound.get(event.roundId!) ?? [];
        list.push(event);
        byRound.set(event.roundId!, list);
      }
      for (const [roundId, events] of byRound) {
        try {
          await store.appendEvents(roundId, events.map((e) => ({ name: e.name, at: e.at, payload: e.payload })));
        } catch (error) {
          onError(error);
        }
      }
    }
  };

  const unsubscribe = bus.subscribe((event) => {
    if (event.roundId === null || ephemeralEvents.has(event.name)) return;
    const idle = pending.length === 0;
    pending.push(event);
    if (idle) writing = writing.then(drain);
  });

  return {
    flush: () => writing.then(drain),
    stop: unsubscribe,
  };
}
