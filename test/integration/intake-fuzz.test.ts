import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStore } from "../../src/adapters/store/create-store.ts";
import type { Store } from "../../src/ports/store.ts";
import { hostileRequests } from "../support/hostile-requests.ts";
import { sharedFixtures, startHarness, type Harness } from "../support/service-harness.ts";
import { storeDialects } from "../support/store-dialects.ts";

// Issue 11, done-when 2: whatever arrives, the intake answers 4xx with a JSON reason or accepts
// it, never 5xx, and a refused request leaves no row behind.
describe.each(storeDialects)("intake fuzz on $name", (dialect) => {
  let harness: Harness;
  let reader: Store;

  beforeAll(async () => {
    harness = await startHarness({ dialect, fixtures: join(sharedFixtures, "llm"), env: { RUN_WORKERS: "false", RATE_LIMIT_MAX: "0", MAX_BODY_BYTES: String(256 * 1024) } });
    // A second connection, to count rows the way an outside observer would.
    reader = await createStore({ databaseUrl: harness.database.url, dataDir: harness.database.dataDir });
  });
  afterAll(async () => {
    await reader?.close();
    await harness?.stop();
  });

  it("never answers 5xx, always gives a JSON reason, and keeps no rows from refused requests", async () => {
    const valid = await harness.request("markdown-to-html-r1");
    let counter = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(hostileRequests(valid, () => `${Date.now().toString(36)}-${counter++}`), async ({ contentType, payload }) => {
        const before = await reader.counts();
        const response = await harness.service.app.inject({
          method: "POST",
          url: "/api/v1/tasks/ready",
          headers: contentType === undefined ? {} : { "content-type": contentType },
          payload,
        });
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        expect(response.statusCode).toBeLessThan(500);
        const body = response.json();
        const after = await reader.counts();
        if (response.statusCode === 200) {
          expect(body.status).toBe("accepted");
          expect(after.rounds - before.rounds).toBeLessThanOrEqual(1);
        } else {
          expect(typeof body.error).toBe("string");
          expect(typeof body.message).toBe("string");
          expect(after).toEqual(before);
        }
      }),
      { numRuns: 300, seed: 11 },
    );
    // Not a vacuous pass: some requests got through and the refusals came in several kinds.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect([...statuses.keys()].filter((status) => status !== 200).length).toBeGreaterThanOrEqual(3);
  }, 240_000);
});
