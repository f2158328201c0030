import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { createOpenAICompatibleLanguageModel } from "../../src/adapters/llm/openai-compatible-language-model.ts";
import { outputFormatLine } from "../../src/domain/output-format.ts";
import { startFakeLlm, type FakeLlm } from "../../src/fake-llm/start-fake-llm.ts";
import { createFetchUrlTool, type FetchUrlResult, type FetchUrlToolOptions } from "../../src/build-tools/fetch-url-tool.ts";
import type { ModelEvent } from "../../src/ports/language-model.ts";

// The model's build-time fetch_url against real HTTP on 127.0.0.1.

const servers: Server[] = [];
const fakes: FakeLlm[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    handler!(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, hits: () => hits };
}

function tool(overrides: Partial<FetchUrlToolOptions> = {}) {
  const completed: Parameters<FetchUrlToolOptions["onComplete"]>[0][] = [];
  const refused: Parameters<FetchUrlToolOptions["onRefuse"]>[0][] = [];
  const fetchUrl = createFetchUrlTool({
    allowPrivateUrls: true,
    maxBytes: 64 * 1024,
    reservedPaths: ["LICENSE", "README.md", "index.html", "uid.txt"],
    onComplete: (f) => completed.push(f),
    onRefuse: (r) => refused.push(r),
    ...overrides,
  });
  const run = (args: { url: string; save_as?: string }) => fetchUrl.execute(args, { signal: new AbortController().signal }) as Promise<FetchUrlResult>;
  return { fetchUrl, run, completed, refused };
}

describe("fetch_url tool", () => {
  it("returns status, content type and a capped text preview, and hands the exact bytes over for save_as", async () => {
    const body = Buffer.from(`{"items":[${Array.from({ length: 600 }, (_, i) => `{"n":${i},"name":"café ✓"}`).join(",")}]}`);
    const source = await serve((req, res) => res.writeHead(200, { "content-type": "application/json" }).end(body));
    const { run, completed, refused } = tool();
    const result = await run({ url: `${source.url}/items.json`, save_as: "data/items.json" });
    expect(result).toMatchObject({ ok: true, status: 200, content_type: "application/json", bytes: body.length, saved_as: "data/items.json", truncated: true });
    const preview = (result as { preview: string }).preview;
    expect(Buffer.byteLength(preview)).toBeLessThanOrEqual(4096);
    expect(body.toString("utf8").startsWith(preview)).toBe(true);
    expect(completed).toHaveLength(1);
    expect(completed[0]!.path).toBe("data/items.json");
    expect(completed[0]!.body.equals(body)).toBe(true);
    expect(refused).toEqual([]);

    // Without save_as the model only reads; the bytes are still reported, with no path.
    const looked = await run({ url: `${source.url}/items.json` });
    expect(looked).toMatchObject({ ok: true, saved_as: null });
    expect(completed[1]!.path).toBeNull();
  });

  it("shows no preview of a binary body", async () => {
    const png = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");
    const source = await serve((req, res) => res.writeHead(200, { "content-type": "application/octet-stream" }).end(png));
    const result = await tool().run({ url: `${source.url}/logo`, save_as: "logo.png" });
    expect(result).toMatchObject({ ok: true, bytes: png.length, preview: null, truncated: false });
  });

  it("refuses a private address when private URLs are not allowed, without a request", async () => {
    const source = await serve((req, res) => res.end("{}"));
    const { run, completed, refused } = tool({ allowPrivateUrls: false });
    for (const url of [`${source.url}/data`, "http://localhost:1/x", "http://[::1]:1/x"]) {
      const result = await run({ url, save_as: "data.json" });
      expect(result.ok).toBe(false);
      expect((result as { error: string }).error).toMatch(/private|loopback|localhost/i);
    }
    expect(source.hits()).toBe(0);
    expect(completed).toEqual([]);
    expect(refused.map((r) => r.path)).toEqual(["data.json", "data.json", "data.json"]);
  });

  it("refuses other schemes, unsafe or reserved save_as paths, oversized and slow bodies, and error statuses", async () => {
    const source = await serve((req, res) => {
      if (req.url === "/big") return res.writeHead(200, { "content-type": "text/plain" }).end("x".repeat(70 * 1024));
      if (req.url === "/slow") return setTimeout(() => res.end("late"), 2_000);
      if (req.url === "/gone") return res.writeHead(404).end("no");
      res.end("ok");
    });
    const { run, completed, refused } = tool({ timeoutMs: 300 });
    const reasons: Record<string, string> = {};
    const cases: [string, { url: string; save_as?: string }][] = [
      ["scheme", { url: "file:///etc/passwd" }],
      ["ftp", { url: "ftp://example.com/x" }],
      ["traversal", { url: `${source.url}/ok`, save_as: "../outside.json" }],
      ["absolute", { url: `${source.url}/ok`, save_as: "/etc/data.json" }],
      ["git", { url: `${source.url}/ok`, save_as: ".git/config" }],
      ["licence", { url: `${source.url}/ok`, save_as: "license" }],
      ["page", { url: `${source.url}/ok`, save_as: "index.html" }],
      ["attachment", { url: `${source.url}/ok`, save_as: "uid.txt" }],
      ["big", { url: `${source.url}/big`, save_as: "big.txt" }],
      ["slow", { url: `${source.url}/slow`, save_as: "slow.txt" }],
      ["gone", { url: `${source.url}/gone`, save_as: "gone.txt" }],
    ];
    for (const [name, args] of cases) {
      const result = await run(args);
      expect(result.ok, name).toBe(false);
      reasons[name] = (result as { error: string }).error;
    }
    expect(reasons.scheme).toMatch(/scheme/);
    expect(reasons.traversal).toMatch(/not a safe relative path/);
    expect(reasons.git).toMatch(/\.git segment/);
    expect(reasons.licence).toMatch(/written for you/);
    expect(reasons.attachment).toMatch(/written for you/);
    expect(reasons.big).toMatch(/cap/);
    expect(reasons.slow).toMatch(/timeout|abort/i);
    expect(reasons.gone).toMatch(/404/);
    expect(completed).toEqual([]);
    expect(refused).toHaveLength(cases.length);
    // Path refusals never reach the server.
    expect(source.hits()).toBe(3);
  });

  it("stops after its fetch limit", async () => {
    const source = await serve((req, res) => res.end("ok"));
    const { run } = tool({ maxFetches: 2 });
    expect((await run({ url: source.url })).ok).toBe(true);
    expect((await run({ url: source.url })).ok).toBe(true);
    expect(await run({ url: source.url })).toMatchObject({ ok: false, error: expect.stringMatching(/no more than 2 fetches/) });
  });

  it("reaches the model as a tool result: a refused private address is what the next request carries", async () => {
    const source = await serve((req, res) => res.end("{}"));
    const url = `${source.url}/data.json`;
    const fake = await startFakeLlm({
      fixtures: [{ fixtures: [{ match: [], responses: [{ tool_calls: [{ name: "fetch_url", arguments: { url, save_as: "data.json" } }] }, { files: { "index.html": "<!doctype html><title>t</title>\n" } }] }] }],
    });
    fakes.push(fake);
    const model = createOpenAICompatibleLanguageModel({ provider: "vllm", baseUrl: `${fake.url}/v1`, model: "coder", timeoutMs: 10_000, supportsTools: true });
    const { fetchUrl, completed, refused } = tool({ allowPrivateUrls: false });
    const events: ModelEvent[] = [];
    const answer = await model.generate({
      purpose: "generate",
      system: `Build it.\n${outputFormatLine("files-json")}`,
      messages: [{ role: "user", content: `Fetch ${url} and save data.json` }],
      format: "json",
      tools: [fetchUrl],
      onEvent: (e) => events.push(e),
    });
    expect(JSON.parse(answer.text).files["index.html"]).toContain("<title>t</title>");
    expect(source.hits()).toBe(0);
    expect(completed).toEqual([]);
    expect(refused).toEqual([expect.objectContaining({ url, path: "data.json" })]);
    const toolMessage = (fake.requests[1]!.body as { messages: { role: string; content: string }[] }).messages.find((m) => m.role === "tool");
    expect(JSON.parse(toolMessage!.content)).toMatchObject({ ok: false, url, error: expect.stringMatching(/private/) });
    expect(events).toEqual([expect.objectContaining({ type: "tool-call", tool: "fetch_url", outcome: "refused", detail: expect.stringMatching(/private/) })]);
  });
});
