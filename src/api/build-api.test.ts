import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../observability/logger.ts";
import type { Store } from "../ports/store.ts";
import { buildApi, type ApiDeps } from "./build-api.ts";

const apiKey = "unit-test-api-key-0001";

function capturedLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger("info", destination), lines };
}

function api(overrides: Partial<ApiDeps> = {}) {
  return buildApi({
    store: {} as Store,
    acceptTask: async () => ({ created: true, storedRequestDiffers: false, taskId: "t", roundId: "r", jobId: "j", task: "x", round: 1, nonce: "n" }),
    health: async () => ({ ok: true, detail: "inside" }),
    maxBodyBytes: 1024 * 1024,
    apiKey,
    ...overrides,
  });
}

describe("buildApi", () => {
  it("reads only application/json bodies: text/plain and forms (no CORS preflight) get 415 with a JSON reason", async () => {
    const app = await api();
    for (const contentType of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const response = await app.inject({ method: "POST", url: "/ready", headers: { "content-type": contentType }, payload: "{}" });
      expect(response.statusCode).toBe(415);
      expect(response.json()).toMatchObject({ error: "unsupported-media-type" });
    }
    const json = await app.inject({ method: "POST", url: "/ready", headers: { "content-type": "application/json; charset=utf-8" }, payload: "{}" });
    expect(json.statusCode).toBe(200);
  });

  it("sends security headers on every response, the intake's and the errors' too", async () => {
    const app = await api();
    for (const response of [
      await app.inject({ method: "GET", url: "/health" }),
      await app.inject({ method: "GET", url: "/api/v1/tasks" }),
      await app.inject({ method: "POST", url: "/ready", headers: { "content-type": "text/plain" }, payload: "x" }),
    ]) {
      expect(response.headers["content-security-policy"]).toContain("default-src 'none'");
      expect(response.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
      expect(response.headers["x-content-type-options"]).toBe("nosniff");
      expect(response.headers["referrer-policy"]).toBe("no-referrer");
    }
  });

  it("logs a server error through the product's logger, with secrets redacted, and answers a JSON reason", async () => {
    const { logger, lines } = capturedLogger();
    const failure = Object.assign(new Error("database went away"), { secret: "leaked-secret-value" });
    const app = await api({ logger, acceptTask: async () => Promise.reject(failure) });
    const response = await app.inject({ method: "POST", url: "/ready", headers: { "content-type": "application/json" }, payload: "{}" });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ error: "internal", message: "internal error" });
    const logged = lines.join("");
    expect(logged).toContain("database went away");
    expect(logged).not.toContain("leaked-secret-value");
  });

  it("limits requests per client address when configured, with a JSON reason", async () => {
    const app = await api({ rateLimit: { max: 3, windowMs: 60_000 } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await app.inject({ method: "GET", url: "/health", remoteAddress: "192.0.2.7" })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const limited = await app.inject({ method: "GET", url: "/health", remoteAddress: "192.0.2.7" });
    expect(limited.json()).toMatchObject({ error: "rate-limited" });
    // Another address has its own budget.
    expect((await app.inject({ method: "GET", url: "/health", remoteAddress: "192.0.2.8" })).statusCode).toBe(200);
  });
});
