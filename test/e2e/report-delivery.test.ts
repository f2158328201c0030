import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { storeDialects } from "../support/store-dialects.ts";
import { sharedFixtures, startHarness, type Harness } from "../support/service-harness.ts";

// Done-when 2 of the foundation issue: PROTOCOL §3 backoff, and stopping at the deadline.
const dialect = storeDialects[0]!;
// These tests time the report's retries; browser verification (tested elsewhere) stays out of the clock.
const env = { VERIFY: "false" };

describe(`report delivery on ${dialect.name}`, () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  it("a receiver answering 503 twice gets the report on the third try, after about 1 s and 2 s", async () => {
    harness = await startHarness({ dialect, fixtures: join(sharedFixtures, "llm"), receiverAnswer: (n) => (n <= 2 ? 503 : 200), env });
    const request = await harness.request("sum-of-sales-r1");
    expect((await harness.post(request)).status).toBe(200);
    await harness.receiver.waitFor((r) => r.body.nonce === request.nonce);
    const times = harness.receiver.received.map((r) => r.at);
    expect(harness.receiver.received.map((r) => r.status)).toEqual([503, 503, 200]);
    const waits = [times[1]! - times[0]!, times[2]! - times[1]!];
    expect(waits[0]).toBeGreaterThanOrEqual(950);
    expect(waits[0]).toBeLessThan(1800);
    expect(waits[1]).toBeGreaterThanOrEqual(1950);
    expect(waits[1]).toBeLessThan(2900);
    // The same body each time.
    expect(new Set(harness.receiver.received.map((r) => JSON.stringify(r.body))).size).toBe(1);
    const task = await harness.get(`/api/v1/tasks?task=${request.task}`);
    const detail = await harness.get(`/api/v1/tasks/${task.body.items[0].id}`);
    expect(detail.body.rounds[0].report_attempts.map((a: { status_code: number }) => a.status_code)).toEqual([503, 503, 200]);
  });

  it("a receiver that never answers 200 stops receiving at the deadline", async () => {
    harness = await startHarness({
      dialect,
      fixtures: join(sharedFixtures, "llm"),
      receiverAnswer: () => 500,
      env: { ...env, ROUND_DEADLINE_SECONDS: "6" },
    });
    const request = await harness.request("sum-of-sales-r1");
    const acceptedAt = Date.now();
    const ack = await harness.post(request);
    expect(ack.status).toBe(200);
    // Wait past the deadline, then some, and look at when the attempts came.
    await new Promise((r) => setTimeout(r, 9000));
    const received = harness.receiver.received;
    expect(received.length).toBeGreaterThanOrEqual(3);
    for (const attempt of received) expect(attempt.at).toBeLessThanOrEqual(acceptedAt + 6000 + 250);
    const detail = await harness.get(`/api/v1/tasks/${ack.body.task_id}`);
    const round = detail.body.rounds[0];
    expect(round.status).toBe("failed");
    expect(round.error).toMatch(/not acknowledged/);
    expect(round.report_attempts).toHaveLength(received.length);
    expect(round.events.map((e: { name: string }) => e.name)).toContain("report-abandon");
  });
});
