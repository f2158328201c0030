import type { BriefwrightEvent, EventMap, EventName } from "../events/event-map.ts";

/**
 * The event bus port, version 1. In-process today; PostgreSQL LISTEN/NOTIFY later, so that any
 * API instance can stream any worker's events. Emitting never throws and never waits for
 * observers: a slow or failing observer must not slow or break the pipeline.
 */
export interface EventBus {
  emit<N extends EventName>(name: N, roundId: string | null, payload: EventMap[N]): void;
  /** Subscribes to every event; returns the unsubscribe function. */
  subscribe(observer: (event: BriefwrightEvent) => void): () => void;
}
