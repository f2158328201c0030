import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalForge } from "../../src/adapters/forge/local-forge.ts";
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

  const rowCounts = () => harness.service.app.inject({ method: "GET", url: "/api/v1/tasks?limit=200", headers: { "x-api-key": apiKey } }).then((r) => r.json().items.length as number);

  describe("intake", () => {
    it("answers a cross-site text/plain POST with 415 before reading it", async () => {
      const body = JSON.stringify(await harness.request("markdown-to-html-r1", { task: "plain-text-test" }));
      for (const path of ["/ready", "/api/v1/tasks/ready"]) {
        const response = await raw(path, { method: "POST", headers: { "content-type": "text/plain" }, body });
        expect(response.status).toBe(415);
        expect(await response.json()).toMatchObject({ error: "unsupported-media-type" });
      }
      expect((await harness.get("/api/v1/tasks?task=plain-text-test")).body.items).toEqual([]);
    });

    it.each([
      ["NUL in email", { email: "a\u0000b@example.com" }, "email"],
      ["NUL in nonce", { nonce: "n\u0000" }, "nonce"],
      ["escape in task", { task: "x\u001b[31m" }, "task"],
      ["lone surrogate in brief", { brief: "half a pair \ud800 here" }, "brief"],
      ["C1 control in evaluation_url", { evaluation_url: "http://127.0.0.1/\u0085" }, "evaluation_url"],
    ])("refuses %s with 400 naming the field, on every dialect", async (_label, override, path) => {
      const before = await rowCounts();
      const response = await harness.post(await harness.request("markdown-to-html-r1", override));
      expect(response.status).toBe(400);
      expect(response.body.issues.map((issue: { path: string }) => issue.path)).toContain(path);
      expect(await rowCounts()).toBe(before);
    });

    it("checks the secret before decoding attachments: a wrong secret with large (even broken) attachments gets 403", async () => {
      const large = `data:application/octet-stream;base64,${"A".repeat(5 * 1024 * 1024)}`;
      const broken = `data:text/plain;base64,${"!".repeat(1024)}`;
      const request = await harness.request("markdown-to-html-r1", {
        secret: "not-the-secret",
        attachments: [
          { name: "a.bin", url: large },
          { name: "b.bin", url: large },
          { name: "c.txt", url: broken },
        ],
      });
      const response = await harness.post(request);
      expect(response.status).toBe(403);
      expect(response.body.error).toBe("secret-mismatch");
    });

    it("answers a reused nonce with a different body 409 and keeps the first request; a true retry is still a duplicate", async () => {
      const request = await harness.request("markdown-to-html-r1", { task: "nonce-reuse", nonce: "reused-nonce" });
      const first = await harness.post(request);
      expect(first.status).toBe(200);
      const retry = await harness.post(request);
      expect(retry.body).toMatchObject({ duplicate: true, round_id: first.body.round_id });
      const changed = await harness.post({ ...request, brief: "Something else entirely." });
      expect(changed.status).toBe(409);
      expect(changed.body.error).toBe("round-conflict");
      const task = await harness.get(`/api/v1/tasks/${first.body.task_id}`);
      expect(task.body.rounds).toHaveLength(1);
      expect(task.body.rounds[0].brief).toBe(request.brief);
    });
  });

  describe("pages on their own origin", () => {
    it("a deployed page can neither read the API nor find it on its own origin", async () => {
      await harness.post(await harness.request("markdown-to-html-r1", { task: "visible-to-pages-test" }));
      const forge = createLocalForge({ reposDir: join(harness.database.dataDir, "repos"), publicUrl: harness.service.url, pagesPublicUrl: harness.service.pagesUrl });
      const repo = await forge.ensureRepository("probe-site");
      const probe = `<!doctype html><title>probe</title><script>
        const api = new URLSearchParams(location.search).get("api");
        async function probe(url, init) {
          try { const r = await fetch(url, init); return r.status + " " + (await r.text()); } catch { return "blocked"; }
        }
        window.results = Promise.all([probe(location.origin + "/api" + "/v1/tasks"), probe(api + "/api/v1/tasks"), probe(api + "/health")]);
      </script>`;
      await forge.commitFiles(repo.name, { files: new Map([["index.html", Buffer.from(probe)]]), message: "probe", idempotencyKey: "probe-1", author: { name: "t", email: "t@example.com" } });
      await forge.enablePages(repo.name);
      expect(new URL(repo.pagesUrl).origin).not.toBe(new URL(harness.service.url).origin);

      const site = await fetch(repo.pagesUrl);
      expect(site.status).toBe(200);
      expect(site.headers.get("x-content-type-options")).toBe("nosniff");
      expect(site.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
      expect(site.headers.get("content-security-policy")).toContain("frame-ancestors 'self'");
      // The API listener no longer serves pages at all.
      expect((await raw(`/pages/${repo.name}/`)).status).toBe(401);

      const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--headless"], chromiumSandbox: false });
      try {
        const page = await browser.newPage();
        await page.goto(`${repo.pagesUrl}?api=${encodeURIComponent(harness.service.url)}`);
        const [sameOrigin, crossOrigin, health] = (await page.evaluate("window.results")) as string[];
        expect(sameOrigin).toMatch(/^404 /);
        expect(sameOrigin).not.toContain("visible-to-pages-test");
        // No CORS headers on the API: the browser refuses the page the answer (and it would be a 401).
        expect(crossOrigin).toBe("blocked");
        expect(health).toBe("blocked");
      } finally {
        await browser.close();
      }
    });
  });

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
