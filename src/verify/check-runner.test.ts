import { createContext, runInContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { NavigationError, PageEvaluationError, type Browser, type BrowserPage, type NavigationResult, type PageEvent } from "../ports/browser.ts";
import { createCheckRunner, prepareCheckSource } from "./check-runner.ts";

/**
 * A Browser port double: the "page" is a vm context with a tiny DOM stand-in, and `script` decides
 * what navigation does and which events fire. The runner must work against the port alone.
 */
function fakeBrowser(script: {
  goto?: (url: string) => NavigationResult;
  onLoad?: (page: { emit: (event: PageEvent) => void; globals: Record<string, unknown> }) => void;
  globals?: Record<string, unknown>;
}): Browser & { pagesOpened: number } {
  const browser = {
    kind: "fake",
    capabilities: { mirrorsCdn: false, blocksOutsideRequests: true },
    pagesOpened: 0,
    async withPage<T>(fn: (page: BrowserPage) => Promise<T>, options: { signal?: AbortSignal } = {}): Promise<T> {
      browser.pagesOpened++;
      const listeners = new Set<(event: PageEvent) => void>();
      const emit = (event: PageEvent) => listeners.forEach((listener) => listener(event));
      const globals: Record<string, unknown> = { document: { title: "", body: null }, ...script.globals };
      const context = createContext(globals);
      const page: BrowserPage = {
        onEvent(listener) {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
        async goto(url) {
          const result = script.goto ? script.goto(url) : { status: 200, url, loadTimedOut: false };
          script.onLoad?.({ emit, globals });
          return result;
        },
        async waitForNetworkIdle() {
          return true;
        },
        async evaluate(source) {
          try {
            let value = runInContext(source, context);
            if (typeof value === "function") value = value();
            return await value;
          } catch (error) {
            throw new PageEvaluationError(String(error));
          }
        },
      };
      const result = await fn(page);
      options.signal?.throwIfAborted();
      return result;
    },
    async close() {},
  };
  return browser;
}

const fast = { pollIntervalMs: 10, checkTimeoutMs: 300 };

describe("prepareCheckSource", () => {
  it("wraps expressions, IIFEs and template literals as one async expression", () => {
    for (const expression of [
      "document.title === `Sales Summary 7f3a9`",
      '(() => { const rows = [...document.querySelectorAll("tr")]; return rows.length > 0; })()',
      "await Promise.resolve(true)",
      "document.title // a trailing comment",
      "() => document.title",
    ]) {
      const prepared = prepareCheckSource(expression);
      expect(prepared.mode, expression).toBe("expression");
      expect(prepared.source).toContain(expression);
    }
  });

  it("runs statement lists as a block so polling can repeat them", () => {
    expect(prepareCheckSource("const n = 2; n > 1")).toEqual({ mode: "script", source: "{\nconst n = 2; n > 1\n}" });
    expect(prepareCheckSource("document.title === 'x';").mode).toBe("script");
  });
});

describe("createCheckRunner", () => {
  it("passes checks that are true at once, with a preview of the value", async () => {
    const browser = fakeBrowser({ globals: { document: { title: "Sales Summary 7f3a9" } } });
    const report = await createCheckRunner(browser, fast).run("http://127.0.0.1:1/site/", [
      { id: "c1", expression: "document.title === `Sales Summary 7f3a9`" },
      { id: "c2", expression: "(() => { const t = document.title; return t.length; })()" },
      { id: "c3", expression: "const n = 2; n > 1" },
      { id: "c4", expression: "() => document.title" },
    ]);
    expect(report.passed).toBe(true);
    expect(report.checks.map((check) => [check.id, check.passed, check.attempts, check.valuePreview])).toEqual([
      ["c1", true, 1, "true"],
      ["c2", true, 1, "19"],
      ["c3", true, 1, "true"],
      ["c4", true, 1, '"Sales Summary 7f3a9"'],
    ]);
    expect(browser.pagesOpened).toBe(1);
  });

  it("polls a check through errors until the page makes it true", async () => {
    const browser = fakeBrowser({
      globals: { document: { querySelector: () => null } },
      onLoad: ({ globals }) => {
        setTimeout(() => {
          globals.document = { querySelector: () => ({ textContent: "1044.98" }) };
        }, 60);
      },
    });
    const report = await createCheckRunner(browser, fast).run("http://127.0.0.1:1/site/", [
      { id: "total", expression: 'Math.abs(parseFloat(document.querySelector("#total-sales").textContent) - 1044.98) < 0.01' },
    ]);
    const [check] = report.checks;
    expect(check).toMatchObject({ id: "total", passed: true });
    expect(check!.attempts).toBeGreaterThan(1);
    expect(check!.error).toBeUndefined();
  });

  it("fails a check that never turns true after its timeout, keeping the last error", async () => {
    const browser = fakeBrowser({ globals: { document: { querySelector: () => null } } });
    const started = Date.now();
    const report = await createCheckRunner(browser, fast).run("http://127.0.0.1:1/site/", [
      { id: "null", expression: 'document.querySelector("#x").textContent', timeoutMs: 150 },
      { id: "falsy", expression: "1 + 1 === 3", timeoutMs: 150 },
      { id: "syntax", expression: "document.querySelector(" },
    ]);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(report.passed).toBe(false);
    const [missing, falsy, syntax] = report.checks;
    expect(missing).toMatchObject({ passed: false, error: "TypeError: Cannot read properties of null (reading 'textContent')" });
    expect(missing!.durationMs).toBeGreaterThanOrEqual(140);
    expect(falsy!.error).toMatch(/^still falsy after \d+ ms \(last value: false\)$/);
    // A broken expression stays broken: no point polling it.
    expect(syntax).toMatchObject({ passed: false, attempts: 1, error: expect.stringMatching(/^SyntaxError/) });
  });

  it("collects page errors, console errors and failed requests with the router's reason", async () => {
    const browser = fakeBrowser({
      globals: { document: { title: "ok" } },
      onLoad: ({ emit }) => {
        emit({ type: "page-error", message: "boom on load" });
        emit({ type: "console", level: "error", text: "Failed to load resource" });
        emit({ type: "console", level: "error", text: "Failed to load resource" });
        emit({ type: "console", level: "error", text: "Failed to load resource" });
        emit({ type: "console", level: "log", text: "hello" });
        emit({ type: "request-routed", url: "https://example.com/x.js", outcome: "blocked", detail: "outside requests are blocked" });
        emit({ type: "request-failed", url: "https://example.com/x.js", method: "GET", resourceType: "script", reason: "net::ERR_BLOCKED_BY_CLIENT" });
        emit({ type: "request-routed", url: "https://cdn.jsdelivr.net/npm/x@9/x.js", outcome: "mirror-missing", status: 404, detail: "x@9 does not exist" });
        emit({ type: "response", url: "https://cdn.jsdelivr.net/npm/x@9/x.js", method: "GET", status: 404, resourceType: "script" });
        emit({ type: "response", url: "http://127.0.0.1:1/site/data.csv", method: "GET", status: 200, resourceType: "fetch" });
      },
    });
    const report = await createCheckRunner(browser, fast).run("http://127.0.0.1:1/site/", [{ id: "c1", expression: "document.title === 'ok'" }]);
    expect(report.checks[0]!.passed).toBe(true);
    expect(report.passed).toBe(false);
    expect(report.pageErrors).toEqual(["boom on load"]);
    expect(report.consoleErrors).toEqual(["Failed to load resource (×3)"]);
    expect(report.failedRequests).toEqual([
      { url: "https://example.com/x.js", method: "GET", reason: "net::ERR_BLOCKED_BY_CLIENT (outside requests are blocked)" },
      { url: "https://cdn.jsdelivr.net/npm/x@9/x.js", method: "GET", status: 404, reason: "HTTP 404 (x@9 does not exist)" },
    ]);
    expect(report.routedRequests.map((request) => request.outcome)).toEqual(["blocked", "mirror-missing"]);
  });

  it("reports a page that did not load without polling its checks", async () => {
    const browser = fakeBrowser({
      goto: (url) => {
        throw new NavigationError(url, "net::ERR_CONNECTION_REFUSED");
      },
    });
    const report = await createCheckRunner(browser, fast).run("http://127.0.0.1:1/site/", [{ id: "c1", expression: "true" }]);
    expect(report.loadError).toBe("http://127.0.0.1:1/site/: net::ERR_CONNECTION_REFUSED");
    expect(report.checks[0]).toMatchObject({ passed: false, attempts: 0, error: expect.stringContaining("did not load") });
  });

  it("looks once at an error page instead of waiting out every timeout", async () => {
    const browser = fakeBrowser({ goto: (url) => ({ status: 404, url, loadTimedOut: false }) });
    const report = await createCheckRunner(browser, { checkTimeoutMs: 5_000 }).run("http://127.0.0.1:1/site/", [{ id: "c1", expression: "document.title === 'x'" }]);
    expect(report).toMatchObject({ loadError: "the page answered HTTP 404", httpStatus: 404, passed: false });
    expect(report.checks[0]).toMatchObject({ passed: false, attempts: 1 });
  });

  it("keeps to the overall cap and stops when aborted", async () => {
    const browser = fakeBrowser({});
    const capped = await createCheckRunner(browser, { ...fast, checkTimeoutMs: 10_000, overallTimeoutMs: 200 }).run("http://127.0.0.1:1/site/", [{ id: "c1", expression: "false" }]);
    expect(capped.checks[0]!.durationMs).toBeLessThan(1_000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("deadline")), 50);
    await expect(createCheckRunner(browser, fast).run("http://127.0.0.1:1/site/", [{ id: "c1", expression: "false", timeoutMs: 5_000 }], { signal: controller.signal })).rejects.toThrow("deadline");
  });
});
