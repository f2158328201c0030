import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeDialects } from "../support/store-dialects.ts";
import { apiKey, sharedFixtures, startHarness, type Harness } from "../support/service-harness.ts";

// Issue 11: each finding an attacker made against a running service, as a test that failed before its fix.
describe.each(storeDialects)("security on $name", (dialect) => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ dialect, fixtures: join(sharedFixtures, "llm"), env: { RUN_WORKERS: "false" } });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  const raw = (path: string, init: RequestInit = {}) => fetch(`${harness.service.url}${path}`, init);

  describe("access", () => {
    it("refuses reads of tasks without the API key, with a wrong one, and on unknown paths", async () => {
      const accepted = await harness.post(await harness.request("markdown-to-html-r1", { task: "access-test" }));
      expect(accepted.status).toBe(200);
      for (const path of ["/api/v1/tasks", `/api/v1/tasks/${accepted.body.task_id}`, "/api/v1/no-such-route"]) {
        const anonymous = await raw(path);
        expect(anonymous.status).toBe(401);
        expect(await anonymous.json()).toMatchObject({ error: "api-key-required" });
        expect((await raw(path, { headers: { "x-api-key": `${apiKey}x` } })).status).toBe(401);
        expect((await raw(path, { headers: { authorization: "Bearer nope" } })).status).toBe(401);
      }
      const listed = await raw("/api/v1/tasks?task=access-test", { headers: { authorization: `Bearer ${apiKey}` } });
      expect(listed.status).toBe(200);
      expect((await listed.json()).items).toHaveLength(1);
    });

    it("tells anyone only whether the service is up; the details need the key", async () => {
      const anonymous = await raw("/health");
      expect(anonymous.status).toBe(200);
      expect(await anonymous.json()).toEqual({ ok: true });
      const detailed = await (await raw("/health", { headers: { "x-api-key": apiKey } })).json();
      expect(detailed).toMatchObject({ ok: true, store: { dialect: dialect.name } });
    });
  });
});
