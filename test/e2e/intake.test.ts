import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeDialects } from "../support/store-dialects.ts";
import { apiKeyHeaders, sharedFixtures, startHarness, type Harness } from "../support/service-harness.ts";

// Done-when 3 of the foundation issue: idempotency and refusals that leave nothing behind.
describe.each(storeDialects)("intake on $name", (dialect) => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ dialect, fixtures: join(sharedFixtures, "llm"), env: { MAX_BODY_BYTES: String(256 * 1024) } });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  const counts = () => harness.service.app.inject({ method: "GET", url: "/api/v1/tasks", headers: apiKeyHeaders }).then((r) => r.json().items.length as number);

  it("the same request twice makes one task, one commit and one report", async () => {
    const request = await harness.request("sum-of-sales-r1");
    const [first, second] = await Promise.all([harness.post(request), harness.post(request, "/ready")]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.task_id).toBe(first.body.task_id);
    expect(second.body.round_id).toBe(first.body.round_id);
    expect([first.body.duplicate, second.body.duplicate].sort()).toEqual([false, true]);
    await harness.receiver.waitFor((r) => r.body.nonce === request.nonce);
    const third = await harness.post(request);
    expect(third.body).toMatchObject({ task_id: first.body.task_id, duplicate: true });
    // Give a wrongly started second run time to show itself before counting.
    await new Promise((r) => setTimeout(r, 1500));
    expect(harness.receiver.received.filter((r) => r.body.nonce === request.nonce)).toHaveLength(1);
    const task = await harness.get(`/api/v1/tasks/${first.body.task_id}`);
    expect(task.body.rounds).toHaveLength(1);
    expect(task.body.rounds[0].events.filter((e: { name: string }) => e.name === "commit-create")).toHaveLength(1);
    const generateCalls = harness.llm.requests.filter((r) => r.fileProducing);
    expect(generateCalls).toHaveLength(1);
  });

  it("a wrong secret is refused with 403 and stores nothing", async () => {
    const before = await counts();
    const response = await harness.post(await harness.request("markdown-to-html-r1", { secret: "not-the-secret", task: "secret-test" }));
    expect(response.status).toBe(403);
    expect(response.body.error).toBe("secret-mismatch");
    expect(await counts()).toBe(before);
    expect((await harness.get("/api/v1/tasks?task=secret-test")).body.items).toEqual([]);
  });

  it.each([
    ["malformed JSON", '{"task": "x", ', /malformed-json/, undefined],
    ["an array body", "[]", /validation-failed/, "(body)"],
    ["missing fields", { task: "t-missing" }, /validation-failed/, "brief"],
    ["wrong types", { round: "one" }, /validation-failed/, "round"],
    ["round zero", { round: 0 }, /validation-failed/, "round"],
    ["a non-http evaluation URL", { evaluation_url: "ftp://127.0.0.1/x" }, /validation-failed/, "evaluation_url"],
    ["a broken data URI", { attachments: [{ name: "data.csv", url: "data:text/csv;base64,@@not-base64@@" }] }, /validation-failed/, "attachments.0"],
    ["an attachment named ../../x", { attachments: [{ name: "../../x", url: "data:text/plain,hi" }] }, /validation-failed/, "attachments.0"],
    ["a check of the wrong shape", { checks: [{ python: "1" }] }, /validation-failed/, "checks.0"],
  ])("%s is refused with 400 and reasons, storing nothing", async (_label, overrides, code, path) => {
    const before = await counts();
    const body = typeof overrides === "string" ? overrides : { ...(await harness.request("sum-of-sales-r1")), task: "bad-input", nonce: "bad", ...overrides };
    if (typeof body === "object" && _label === "missing fields") {
      delete (body as Record<string, unknown>).brief;
      delete (body as Record<string, unknown>).checks;
    }
    const response = await harness.post(body);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatch(code);
    if (path) expect(response.body.issues.map((i: { path: string }) => i.path)).toContain(path);
    expect(await counts()).toBe(before);
  });

  it("an oversized body gets 413 and stores nothing", async () => {
    const before = await counts();
    const big = Buffer.alloc(300 * 1024, 1).toString("base64");
    const response = await harness.post(await harness.request("sum-of-sales-r1", { task: "too-big", attachments: [{ name: "big.bin", url: `data:application/octet-stream;base64,${big}` }] }));
    expect(response.status).toBe(413);
    expect(response.body.error).toBe("payload-too-large");
    expect(await counts()).toBe(before);
  });

  it("lists tasks newest first with filters and a cursor", async () => {
    const requests = await Promise.all(
      ["list-a", "list-b", "list-c"].map((task, i) => harness.request("github-user-created-r1", { task, nonce: `n-${i}` })),
    );
    for (const request of requests) expect((await harness.post(request)).status).toBe(200);
    const page1 = await harness.get("/api/v1/tasks?limit=2");
    expect(page1.status).toBe(200);
    expect(page1.body.items).toHaveLength(2);
    expect(page1.body.items[0].task).toBe("list-c");
    const page2 = await harness.get(`/api/v1/tasks?limit=2&cursor=${encodeURIComponent(page1.body.next_cursor)}`);
    expect(page2.body.items[0].task).toBe("list-a");
    const filtered = await harness.get("/api/v1/tasks?task=list-b");
    expect(filtered.body.items.map((t: { task: string }) => t.task)).toEqual(["list-b"]);
    expect((await harness.get("/api/v1/tasks?status=nonsense")).status).toBe(400);
    expect((await harness.get("/api/v1/tasks/does-not-exist")).status).toBe(404);
  });

  it("answers health with store, queue and LLM state", async () => {
    const health = await harness.get("/health");
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ ok: true, store: { ok: true, dialect: dialect.name }, queue: { ok: true }, llm: { configured: true } });
  });
});
