/** One batch of streamed text. */
export interface DeltaBatch {
  /** Characters in this batch. */
  readonly chars: number;
  /** Characters streamed so far, this batch included. */
  readonly totalChars: number;
  /** The batch's end, at most `excerptChars` long, with a leading `…` when cut. */
  readonly text: string;
}

export interface DeltaBatcherOptions {
  /** Longest a delta waits before its batch goes out. Default 250 ms. */
  readonly intervalMs?: number;
  /** A batch this big goes out at once. Default 2048 characters. */
  readonly maxChars?: number;
  /** Longest excerpt per batch. Default 400 characters. */
  readonly excerptChars?: number;
}

export interface DeltaBatcher {
  push(delta: string): void;
  /** Sends what is pending now (call when the stream ends, however it ends). */
  flush(): void;
}

/**
 * Turns a stream's many small deltas into a few batches, so live logs can follow generation
 * without one event per token: a batch goes out `intervalMs` after its first delta, or as soon
 * as it holds `maxChars`.
 */
export function createDeltaBatcher(emit: (batch: DeltaBatch) => void, options: DeltaBatcherOptions = {}): DeltaBatcher {
  const intervalMs = options.intervalMs ?? 250;
  const maxChars = options.maxChars ?? 2048;
  const excerptChars = options.excerptChars ?? 400;
  let pending = "";
  let total = 0;
  let timer: NodeJS.Timeout | undefined;

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending === "") return;
    const text = pending.length > excerptChars ? `…${pending.slice(-(excerptChars - 1))}` : pending;
    const batch = { chars: pending.length, totalChars: total, text };
    pending = "";
    emit(batch);
  };

  return {
    push(delta) {
      if (delta === "") return;
      pending += delta;
      total += delta.length;
      if (pending.length >= maxChars) return flush();
      if (!timer) {
        timer = setTimeout(flush, intervalMs);
        // A forgotten batch must not keep the process alive.
        timer.unref();
      }
    },
    flush,
  };
}
