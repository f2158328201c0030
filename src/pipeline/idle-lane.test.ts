import { describe, expect, it } from "vitest";
import { createIdleLane } from "./idle-lane.ts";

describe("idle lane", () => {
  it("waits while busy, then runs queued work in order", async () => {
    let busy = true;
    const ran: number[] = [];
    const lane = createIdleLane({ isBusy: () => busy, maxDelayMs: 10_000, pollMs: 10 });
    lane.schedule(async () => ran.push(1));
    lane.schedule(async () => ran.push(2));
    await new Promise((r) => setTimeout(r, 100));
    expect(ran).toEqual([]);
    busy = false;
    await new Promise((r) => setTimeout(r, 100));
    expect(ran).toEqual([1, 2]);
    await lane.stop();
  });

  it("runs work after the longest delay even when never idle, and survives failures", async () => {
    const ran: string[] = [];
    const lane = createIdleLane({ isBusy: () => true, maxDelayMs: 50, pollMs: 10 });
    lane.schedule(async () => {
      throw new Error("boom");
    });
    lane.schedule(async () => ran.push("after"));
    await new Promise((r) => setTimeout(r, 300));
    expect(ran).toEqual(["after"]);
    await lane.stop();
  });

  it("gives work that arrives right behind a grace period before running", async () => {
    const ran: number[] = [];
    const lane = createIdleLane({ isBusy: () => false, maxDelayMs: 10_000, graceMs: 150, pollMs: 10 });
    const queued = Date.now();
    lane.schedule(async () => ran.push(Date.now() - queued));
    await new Promise((r) => setTimeout(r, 60));
    expect(ran).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    expect(ran[0]).toBeGreaterThanOrEqual(140);
    await lane.stop();
  });

  it("drops waiting work on stop", async () => {
    const ran: string[] = [];
    const lane = createIdleLane({ isBusy: () => true, maxDelayMs: 10_000, pollMs: 10 });
    lane.schedule(async () => ran.push("never"));
    await lane.stop();
    await new Promise((r) => setTimeout(r, 50));
    expect(ran).toEqual([]);
  });
});
