import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChromiumBrowser } from "../../src/adapters/browser/chromium-browser.ts";
import type { PageEvent } from "../../src/ports/browser.ts";

// Issue 11: verification ran pages that could reach private networks and 169.254.169.254.
async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

let candidate: { server: Server; url: string };
let otherService: { server: Server; url: string };
let otherHits = 0;

const page = (otherUrl: string) => `<!doctype html><title>probe</title><script>
  async function probe(url) {
    try { const r = await fetch(url, { mode: "no-cors" }); return "reached"; } catch { return "blocked"; }
  }
  window.results = Promise.all([
    probe("/own.json"),
    probe("http://169.254.169.254/latest/meta-data/"),
    probe(${JSON.stringify(otherUrl)} + "/admin"),
    probe("http://localhost.:1/"),
    probe("http://10.0.0.1/"),
  ]);
</script>`;

beforeAll(async () => {
  otherService = await listen((_req, res) => {
    otherHits++;
    res.end("secret internal data");
  });
  candidate = await listen((req, res) => {
    if (req.url === "/own.json") return res.end("{}");
    res.setHeader("content-type", "text/html");
    res.end(page(otherService.url));
  });
});
afterAll(async () => {
  await new Promise((done) => candidate.server.close(done));
  await new Promise((done) => otherService.server.close(done));
});

async function probe(allowPrivateUrls: boolean): Promise<{ results: string[]; blocked: string[] }> {
  // As in production: outside requests are not blocked wholesale, so only the confinement stops them.
  const browser = createChromiumBrowser({ blockOutsideRequests: false, allowPrivateUrls, prewarm: false });
  try {
    return await browser.withPage(async (tab) => {
      const blocked: string[] = [];
      tab.onEvent((event: PageEvent) => {
        if (event.type === "request-routed" && event.outcome === "blocked") blocked.push(event.url);
      });
      await tab.goto(`${candidate.url}/`, { timeoutMs: 20_000 });
      const results = (await tab.evaluate("window.results", { timeoutMs: 20_000 })) as string[];
      return { results, blocked };
    });
  } finally {
    await browser.close();
  }
}

describe("browser confinement during verification", () => {
  it("aborts a page's requests to the metadata address, other loopback services and private networks; its own origin works", async () => {
    const before = otherHits;
    const { results, blocked } = await probe(false);
    expect(results).toEqual(["reached", "blocked", "blocked", "blocked", "blocked"]);
    expect(otherHits).toBe(before);
    expect(blocked).toEqual(
      expect.arrayContaining([
        "http://169.254.169.254/latest/meta-data/",
        `${otherService.url}/admin`,
        "http://10.0.0.1/",
      ]),
    );
  }, 60_000);

  it("lets them through when ALLOW_PRIVATE_URLS says so", async () => {
    const before = otherHits;
    const { results } = await probe(true);
    expect(results[2]).toBe("reached");
    expect(otherHits).toBe(before + 1);
  }, 60_000);
});
