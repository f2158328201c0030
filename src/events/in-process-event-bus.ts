import type { BriefwrightEvent, EventMap, EventName } from "./event-map.ts";
import type { EventBus } from "../ports/event-bus.ts";
import type { Clock } from "../ports/clock.ts";

/** The embedded event bus: synchronous fan-out inside one process, observer errors contained. */
export function createInProcessEventBus(clock: Clock, onObserverError?: (error: unknown) => void): EventBus {
  const observers = new Set<(event: BriefwrightEvent) => void>();
  return {
    emit<N extends EventName>(name: N, roundId: string | null, payload: EventMap[N]) {
      const event = { name, roundId, at: clock.now(), payload } as BriefwrightEvent;
      for (const observer of observers) {
        try {
          observer(event);
        } catch (error) {
          onObserverError?.(error);
        }
      }
    },
    subscribe(observer) {
      observers.add(observer);
      return () => observers.delete(observer);
    },
  };
}
