import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChromiumBrowser } from "../../src/adapters/browser/chromium-browser.ts";
import { BrowserError, type Browser } from "../../src/ports/browser.ts";
import { startCandidateServer } from "../../src/verify/candidate-server.ts";
import { createCdnMirror } from "../../src/verify/cdn-mirror.ts";
import { createCheckRunner, type CheckRunner } from "../../src/verify/check-runner.ts";
import { loadReferencePages } from "../support/reference-pages.ts";

// Real Chromium (Debian's), real npm registry for the mirror's first fill. The cache folder is
// stable across runs so reruns need no network at all.
const cacheDir = path.join(tmpdir(), "briefwright-cdn-cache");

let browser: Browser;
let runner: CheckRunner;

beforeAll(() => {
  browser = createChromiumBrowser({ blockOutsideRequests: true, maxContexts: 2, cdnMirror: createCdnMirror({ cacheDir }) });
  runner = createCheckRunner(browser, { checkTimeoutMs: 10_000 });
});

afterAll(async () => {
  await browser?.close();
});

async function serve(files: Record<string, string>, basePath = "candidate") {
  return startCandidateServer(new Map(Object.entries(files).map(([name, content]) => [name, Buffer.from(content)])), { basePath });
}

describe("verifier on the reference answers", () => {
  const pages = loadReferencePages();

  it("has the four reference pages with their JS checks", () => {
    expect(pages.map((page) => `${page.name}:${page.checks.length}`)).toEqual(["sum-of-sales-r1:3", "sum-of-sales-r2:5", "markdown-to-html-r1:3", "markdown-to-html-r2:5"]);
  });

  it.each(pages.map((page) => [page.name, page] as const))("%s passes every JS check, libraries from the CDN mirror", async (_name, page) => {
    const server = await startCandidateServer(page.files, { basePath: page.task });
    try {
      const report = await runner.run(server.url, page.checks);
      const failures = report.checks.filter((check) => !check.passed);
      expect(failures, JSON.stringify(report, null, 2)).toEqual([]);
      expect(report.pageErrors).toEqual([]);
      expect(report.failedRequests).toEqual([]);
      expect(report.passed).toBe(true);
      const mirrored = report.routedRequests.filter((request) => request.outcome === "mirrored").map((request) => request.url);
      if (page.task.startsWith("sum-of-sales")) {
        expect(mirrored).toEqual(["https://cdn.jsdelivr.net/npm/bootstrap@5.3.3/dist/css/bootstrap.min.css"]);
        expect(report.domExcerpt).toContain('<strong id="total-sales">1044.98</strong>');
      } else {
        expect(mirrored.sort()).toEqual([
          "https://cdn.jsdelivr.net/npm/@highlightjs/cdn-assets@11.9.0/highlight.min.js",
          "https://cdn.jsdelivr.net/npm/highlight.js@11.9.0/styles/github.min.css",
          "https://cdn.jsdelivr.net/npm/marked@12.0.2/marked.min.js",
        ]);
        // marked really ran: the markdown became HTML, and highlight.js marked up the code.
        expect(report.domExcerpt).toMatch(/<h1[^>]*>Release notes c41d2<\/h1>/);
      }
    } finally {
      await server.close();
    }
  });
});

describe("verifier on broken pages", () => {
  it("reports an uncaught error thrown on load, with its text", async () => {
    const server = await serve({ "index.html": "<!doctype html><title>t</title><script>throw new Error('boom on load 42')</script>" });
    try {
      const report = await runner.run(server.url, [{ id: "c1", expression: "document.title === 't'" }]);
      expect(report.pageErrors).toEqual([expect.stringContaining("boom on load 42")]);
      expect(report.checks[0]!.passed).toBe(true);
      expect(report.passed).toBe(false);
    } finally {
      await server.close();
    }
  });

  it("fails a check that never becomes true after its timeout, with the last error", async () => {
    const server = await serve({ "index.html": "<!doctype html><title>t</title><p id=other>x</p>" });
    try {
      const report = await runner.run(server.url, [{ id: "c1", expression: 'document.querySelector("#missing").textContent === "x"', timeoutMs: 600 }]);
      const [check] = report.checks;
      expect(check).toMatchObject({ passed: false, error: "TypeError: Cannot read properties of null (reading 'textContent')" });
      expect(check!.durationMs).toBeGreaterThanOrEqual(600);
      expect(check!.durationMs).toBeLessThan(3_000);
      expect(check!.attempts).toBeGreaterThan(2);
    } finally {
      await server.close();
    }
  });

  // 1.5 s: long enough that even a loaded CI machine evaluates the check before the content is there.
  it("waits for content that appears later, and for the page's own fetches", async () => {
    const server = await serve({
      "index.html": "<!doctype html><div id=out></div><script>setTimeout(async () => { document.querySelector('#out').textContent = await (await fetch('late.txt')).text(); }, 1500)</script>",
      "late.txt": "arrived",
    });
    try {
      const report = await runner.run(server.url, [{ id: "c1", expression: "document.querySelector('#out').textContent === 'arrived'" }]);
      expect(report.checks[0]).toMatchObject({ passed: true });
      expect(report.checks[0]!.attempts).toBeGreaterThan(1);
    } finally {
      await server.close();
    }
  });

  it("blocks outside requests before they are sent and lists them", async () => {
    const server = await serve({ "index.html": '<!doctype html><title>t</title><script src="https://example.com/x.js"></script><img src="https://images.example.org/a.png">' });
    try {
      const report = await runner.run(server.url, [{ id: "c1", expression: "document.title === 't'" }]);
      expect(report.failedRequests).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ url: "https://example.com/x.js", reason: expect.stringMatching(/ERR_BLOCKED_BY_CLIENT.*outside requests are blocked/) }),
          expect.objectContaining({ url: "https://images.example.org/a.png" }),
        ]),
      );
      expect(report.routedRequests).toEqual(expect.arrayContaining([expect.objectContaining({ url: "https://example.com/x.js", outcome: "blocked" })]));
      expect(report.checks[0]!.passed).toBe(true);
    } finally {
      await server.close();
    }
  });

  it("catches a root-absolute asset path the way Pages would", async () => {
    const files = { "app.js": "window.appLoaded = true;" };
    const broken = await serve({ ...files, "index.html": '<!doctype html><script src="/app.js"></script>' }, "my-repo");
    const fixed = await serve({ ...files, "index.html": '<!doctype html><script src="app.js"></script>' }, "my-repo");
    try {
      const check = [{ id: "c1", expression: "window.appLoaded === true", timeoutMs: 300 }];
      const brokenReport = await runner.run(broken.url, check);
      expect(brokenReport.checks[0]!.passed).toBe(false);
      expect(brokenReport.failedRequests).toEqual([{ url: `${broken.origin}/app.js`, method: "GET", status: 404, reason: "HTTP 404" }]);
      const fixedReport = await runner.run(fixed.url, check);
      expect(fixedReport.checks[0]!.passed).toBe(true);
    } finally {
      await Promise.all([broken.close(), fixed.close()]);
    }
  });

  it("tells the page what the mirror could not serve, and why", async () => {
    const server = await serve({ "index.html": '<!doctype html><script type="module">import "https://cdn.jsdelivr.net/npm/marked@12.0.2/+esm";</script><link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/bootstrap@5.3.3/dist/css/nope.css">' });
    try {
      const report = await runner.run(server.url, []);
      const reasons = report.failedRequests.map((request) => `${request.status} ${request.reason}`);
      expect(reasons).toEqual(expect.arrayContaining([expect.stringMatching(/^404 HTTP 404 \(.*\+esm/), expect.stringMatching(/^404 HTTP 404 \(bootstrap@5\.3\.3 has no file dist\/css\/nope\.css\)/)]));
    } finally {
      await server.close();
    }
  });

  it("survives a page stuck in an endless loop, and the next run is unaffected", async () => {
    const server = await serve({
      "stuck.html": "<!doctype html><title>x</title><script>setTimeout(() => { for (;;) {} }, 30)</script>",
      "fine.html": "<!doctype html><title>fine</title>",
    });
    try {
      const stuck = await runner.run(`${server.url}stuck.html`, [{ id: "c1", expression: "document.title === 'never'", timeoutMs: 500 }], { overallTimeoutMs: 5_000 });
      expect(stuck.checks[0]).toMatchObject({ passed: false, error: expect.stringContaining("did not finish") });
      expect(stuck.durationMs).toBeLessThan(5_000);
      const fine = await runner.run(`${server.url}fine.html`, [{ id: "c1", expression: "document.title === 'fine'" }]);
      expect(fine.passed).toBe(true);
    } finally {
      await server.close();
    }
  });

  it("reports a page that cannot be reached as a load error", async () => {
    const server = await serve({ "index.html": "x" });
    const url = server.url;
    await server.close();
    const report = await runner.run(url, [{ id: "c1", expression: "true" }], { loadTimeoutMs: 3_000 });
    expect(report.loadError).toMatch(/ERR_CONNECTION_REFUSED/);
    expect(report.checks[0]).toMatchObject({ passed: false, attempts: 0 });
  });
});

describe("chromium browser adapter", () => {
  it("gives every run a fresh context and never more pages at once than allowed", async () => {
    const server = await serve({ "index.html": "<!doctype html><title>t</title>" });
    try {
      let open = 0;
      let most = 0;
      const seen = await Promise.all(
        [1, 2, 3, 4].map((n) =>
          browser.withPage(async (page) => {
            open++;
            most = Math.max(most, open);
            await page.goto(server.url, { timeoutMs: 5_000 });
            const before = await page.evaluate("localStorage.getItem('n')");
            await page.evaluate(`localStorage.setItem('n', '${n}')`);
            await new Promise((resolve) => setTimeout(resolve, 50));
            open--;
            return before;
          }),
        ),
      );
      expect(most).toBe(2);
      expect(seen).toEqual([null, null, null, null]);
    } finally {
      await server.close();
    }
  });

  it("starts a new browser when the old one died, and refuses work after close", async () => {
    const chromiumChildren = () =>
      execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" })
        .split("\n")
        .filter((line) => /chromium/.test(line) && !line.includes("--type="))
        .map((line) => Number.parseInt(line, 10));
    const earlier = new Set(chromiumChildren());
    const own = createChromiumBrowser({ prewarm: false });
    try {
      await own.withPage(async (page) => expect(await page.evaluate("1 + 1")).toBe(2));
      // Kill the Chromium this adapter started (a direct child of this process), by its id.
      const ours = chromiumChildren().filter((pid) => !earlier.has(pid));
      expect(ours).toHaveLength(1);
      process.kill(ours[0]!, "SIGKILL");
      await new Promise((resolve) => setTimeout(resolve, 300));
      await expect(own.withPage(async (page) => page.evaluate("2 + 2"))).resolves.toBe(4);
    } finally {
      await own.close();
    }
    await expect(own.withPage(async () => 1)).rejects.toBeInstanceOf(BrowserError);
  });

  it("fails to start with a BrowserError naming the binary", async () => {
    const missing = createChromiumBrowser({ executablePath: "/nonexistent/chromium" });
    await expect(missing.withPage(async () => 1)).rejects.toThrow(/could not start Chromium at \/nonexistent\/chromium/);
    await missing.close();
  });
});
