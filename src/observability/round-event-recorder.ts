import { ephemeralEvents, type BriefwrightEvent } from "../events/event-map.ts";
import type { EventBus } from "../ports/event-bus.ts";
import type { Store } from "../ports/store.ts";

/**
 * Keeps every round's events in the store, in order, without making emitters wait: events are
 * queued and written in batches by one writer. Ephemeral events (streaming progress) are for
 * live views only and are not kept; events named in `storedElsewhere` were stored by their
 * emitter already (intake keeps `round-accept` in the round's own transaction).
 */
export function recordRoundEvents(
  bus: EventBus,
  store: Store,
  onError: (error: unknown) => void,
  options: { readonly storedElsewhere?: ReadonlySet<string> } = {},
): { flush(): Promise<void>; stop(): void } {
  const storedElsewhere = options.storedElsewhere ?? new Set<string>();
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
      // All rounds of the batch at once: on SQLite they share one group commit (one transaction),
      // on PostgreSQL they run side by side on pooled connections. A round's own events stay in
      // order: they are in one call here, and the next batch starts after this one is written.
      await Promise.all(
        [...byRound].map(([roundId, events]) =>
          store.appendEvents(roundId, events.map((e) => ({ name: e.name, at: e.at, payload: e.payload }))).catch(onError),
        ),
      );
    }
  };

  const unsubscribe = bus.subscribe((event) => {
    if (event.roundId === null || ephemeralEvents.has(event.name) || storedElsewhere.has(event.name)) return;
    const idle = pending.length === 0;
    pending.push(event);
    if (idle) writing = writing.then(drain);
  });

  return {
    flush: () => writing.then(drain),
    stop: unsubscribe,
  };
}
