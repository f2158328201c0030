import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDeltaBatcher, type DeltaBatch } from "./delta-batcher.ts";

describe("delta batcher", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("sends one batch per interval, not one per delta", () => {
    const batches: DeltaBatch[] = [];
    const batcher = createDeltaBatcher((batch) => batches.push(batch), { intervalMs: 250 });
    for (let i = 0; i < 100; i++) batcher.push("ab");
    expect(batches).toHaveLength(0);
    vi.advanceTimersByTime(250);
    expect(batches).toEqual([{ chars: 200, totalChars: 200, text: "ab".repeat(100) }]);
    batcher.push("cd");
    batcher.flush();
    expect(batches[1]).toEqual({ chars: 2, totalChars: 202, text: "cd" });
    batcher.flush();
    vi.advanceTimersByTime(1000);
    expect(batches).toHaveLength(2);
  });

  it("sends a full batch at once and cuts its excerpt", () => {
    const batches: DeltaBatch[] = [];
    const batcher = createDeltaBatcher((batch) => batches.push(batch), { maxChars: 10, excerptChars: 4 });
    batcher.push("0123456789abc");
    expect(batches).toEqual([{ chars: 13, totalChars: 13, text: "…abc" }]);
  });
});
