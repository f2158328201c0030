import { createServer, type IncomingHttpHeaders } from "node:http";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as XLSX from "@e965/xlsx";
import { afterEach, describe, expect, it } from "vitest";
import { storeDialects } from "../support/store-dialects.ts";
import { cloneAt, startHarness, type Harness } from "../support/service-harness.ts";

// Issue 9, "Done when" 2: data reduced from a JSON API by the product's sandbox, not by the model.
const dialect = storeDialects[0]!;

// Our own "company facts" fixture: shares outstanding reported per fiscal year, some restated.
const companyFacts = {
  cik: 4242,
  entityName: "Fixture Widgets Ltd",
  facts: {
    dei: {
      EntityCommonStockSharesOutstanding: {
        label: "Entity Common Stock, Shares Outstanding",
        units: {
          shares: [
            { end: "2019-03-31", val: 18_500_000, fy: 2018, fp: "FY", form: "10-K" },
            { end: "2020-03-31", val: 25_000_000, fy: 2019, fp: "FY", form: "10-K" },
            { end: "2021-03-31", val: 23_750_000, fy: 2020, fp: "FY", form: "10-K" },
            { end: "2021-06-30", val: 31_000_000, fy: 2021, fp: "Q1", form: "10-Q" },
            { end: "2022-03-31", val: 27_125_000, fy: 2021, fp: "FY", form: "10-K" },
            { end: "2023-03-31", val: 26_400_000, fy: 2022, fp: "FY", form: "10-K" },
          ],
        },
      },
    },
  },
};

/** The double's rule, like the real API's: no descriptive User-Agent with a contact, no data. */
const descriptiveAgent = /^[\w.-]+\/[\w.-]+ \(.*\b[\w.+-]+@[\w-]+(\.[\w-]+)+\)$/;

async function startCompanyFacts(): Promise<{ url: string; seen: IncomingHttpHeaders[]; close: () => void }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    if (!descriptiveAgent.test(req.headers["user-agent"] ?? "")) {
      res.writeHead(403, { "content-type": "text/plain" }).end("Undeclared automated tool: name yourself and a contact in the User-Agent");
      return;
    }
    if (req.url !== "/api/xbrl/companyfacts/CIK0000004242.json") return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(companyFacts));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen, close: () => server.close() };
}

// What the test expects, worked out here independently of the scripted model's code: 10-K
// entries only, the largest and the smallest.
function expectedExtremes() {
  const annual = companyFacts.facts.dei.EntityCommonStockSharesOutstanding.units.shares.filter((e) => e.form === "10-K");
  const max = annual.reduce((a, b) => (b.val > a.val ? b : a));
  const min = annual.reduce((a, b) => (b.val < a.val ? b : a));
  return { max: { val: max.val, fy: String(max.fy) }, min: { val: min.val, fy: String(min.fy) } };
}

const reduceFacts = `(files) => {
  const entries = files["companyfacts.json"].facts.dei.EntityCommonStockSharesOutstanding.units.shares.filter((e) => e.form === "10-K");
  const pick = (better) => entries.reduce((a, b) => (better(b.val, a.val) ? b : a));
  const max = pick((x, y) => x > y);
  const min = pick((x, y) => x < y);
  return { max: { val: max.val, fy: String(max.fy) }, min: { val: min.val, fy: String(min.fy) } };
}`;

const page =
  '<!doctype html><html><head><title>Fixture Widgets shares</title></head><body><p id="share-max"></p><p id="share-min"></p>' +
  '<script>fetch("data.json").then(r=>r.json()).then(d=>{document.querySelector("#share-max").textContent=String(d.max.val);document.querySelector("#share-min").textContent=String(d.min.val)})</script></body></html>\n';

type ChatMessage = { role: string; content: string; tool_call_id?: string };

describe(`build-time tools end to end on ${dialect.name}`, () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  it("the model fetches an API that needs a User-Agent, a looping and an allocating run_js are stopped and reported back, and a third run saves data.json", async () => {
    const api = await startCompanyFacts();
    try {
      // The double is honest: Node's own User-Agent gets nothing.
      expect((await fetch(`${api.url}/api/xbrl/companyfacts/CIK0000004242.json`)).status).toBe(403);
      api.seen.length = 0;

      const factsUrl = `${api.url}/api/xbrl/companyfacts/CIK0000004242.json`;
      const brief = `Shares 4242: fetch ${factsUrl}, keep the 10-K entries of EntityCommonStockSharesOutstanding, save data.json with their max and min (val, fy), and show them in #share-max and #share-min.`;
      const checks = ["js: document.querySelector('#share-max').textContent === '27125000'", "js: document.querySelector('#share-min').textContent === '18500000'"];
      harness = await startHarness({
        dialect,
        env: { LLM_TOOL_PROVIDERS: "vllm", CHECK_TIMEOUT_SECONDS: "5" },
        fixtures: [
          {
            fixtures: [
              {
                match: ["Shares 4242"],
                responses: [
                  { tool_calls: [{ name: "fetch_url", arguments: { url: factsUrl, save_as: "companyfacts.json" } }] },
                  { tool_calls: [{ name: "run_js", arguments: { code: "(files) => { let n = 0; while (true) n++; }", inputs: ["companyfacts.json"], save_as: "data.json" } }] },
                  { tool_calls: [{ name: "run_js", arguments: { code: "() => { const blocks = []; for (;;) blocks.push(new ArrayBuffer(1 << 28)); }", inputs: [], save_as: "data.json" } }] },
                  { tool_calls: [{ name: "run_js", arguments: { code: reduceFacts, inputs: ["companyfacts.json"], save_as: "data.json" } }] },
                  { files: { "index.html": page } },
                ],
              },
            ],
          },
        ],
      });
      const request = await harness.request("github-user-created-r1", { task: "shares-4242", brief, checks });
      const ack = await harness.post(request);
      expect(ack.status).toBe(200);
      // Two stopped runs (each up to its 5 s cap) and a shared two-core machine: allow more than the usual 30 s.
      const report = (await harness.receiver.waitFor((r) => r.body.nonce === request.nonce, 120_000)).body as Record<string, string>;

      // The double saw the descriptive User-Agent naming briefwright and the request's email, on the
      // contract's prefetch ("fetch … save data.json") and on the model's fetch_url alike.
      const agent = `briefwright/0.1 (+mailto:${request.email as string})`;
      expect(api.seen.map((h) => h["user-agent"])).toEqual([agent, agent]);

      const clone = await cloneAt(report.repo_url!, report.commit_sha!);
      try {
        expect(JSON.parse(await readFile(join(clone.dir, "data.json"), "utf8"))).toEqual(expectedExtremes());
        expect(expectedExtremes()).toEqual({ max: { val: 27_125_000, fy: "2021" }, min: { val: 18_500_000, fy: "2018" } });
        expect(JSON.parse(await readFile(join(clone.dir, "companyfacts.json"), "utf8"))).toEqual(companyFacts);
        expect(await readFile(join(clone.dir, "index.html"), "utf8")).toBe(page);
      } finally {
        await clone.cleanup();
      }

      // Each request after a tool step carries that step's result: the stopped runs' errors are what the model read.
      const requests = harness.llm.requests.filter((r) => r.fileProducing);
      expect(requests.map((r) => r.toolCalls)).toEqual([["fetch_url"], ["run_js"], ["run_js"], ["run_js"], []]);
      const lastToolResult = (index: number) => {
        const messages = (requests[index]!.body as { messages: ChatMessage[] }).messages.filter((m) => m.role === "tool");
        return JSON.parse(messages.at(-1)!.content);
      };
      expect(lastToolResult(1)).toMatchObject({ ok: true, status: 200, saved_as: "companyfacts.json" });
      expect(lastToolResult(2)).toEqual({ ok: false, error: expect.stringMatching(/^the function failed \(timeout\): .*time limit/) });
      expect(lastToolResult(3)).toEqual({ ok: false, error: expect.stringMatching(/^the function failed \(memory\): .*memory limit/) });
      expect(lastToolResult(4)).toMatchObject({ ok: true, kind: "json", saved_as: "data.json" });

      const task = await harness.get(`/api/v1/tasks/${ack.body.task_id}`);
      const round = task.body.rounds.find((r: { round: number }) => r.round === 1);
      // data.json was first the contract's raw prefetch; run_js's result replaced it.
      expect(round.build.fetched.map((f: { path: string; via: string; tool: string }) => [f.path, f.via, f.tool])).toEqual([
        ["data.json", "tool", "run_js"],
        ["companyfacts.json", "tool", "fetch_url"],
      ]);
      expect(round.build.attempts[0].verdict.passed).toBe(true);
      const runs = round.events.filter((e: { name: string }) => e.name === "build-tool-run").map((e: { data: { outcome: string; path: string } }) => [e.data.outcome, e.data.path]);
      expect(runs).toEqual([
        ["refused", "data.json"],
        ["refused", "data.json"],
        ["saved", "data.json"],
      ]);
    } finally {
      api.close();
    }
  });

  it("a brief that says to convert the attached workbook commits the product's CSV, and the model never retypes it", async () => {
    const book = XLSX.utils.book_new();
    const sheet = XLSX.utils.aoa_to_sheet([
      ["Item", "Sold on", "Amount"],
      ["Widget", null, 1234567.5],
      ["Gadget", null, 42],
    ]);
    sheet["B2"] = { t: "n", v: 45352, z: "d-mmm-yy" };
    sheet["B3"] = { t: "n", v: 45400, z: "d-mmm-yy" };
    sheet["C2"]!.z = "#,##0.00";
    XLSX.utils.book_append_sheet(book, sheet, "Sales");
    XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet([["note"], ["ignore me"]]), "Notes");
    const workbook = Buffer.from(XLSX.write(book, { type: "buffer", bookType: "xlsx" }));
    const brief = "Ledger 55e1: convert the attached workbook into CSV as sales.csv and show its row count in #rows.";
    const page = '<!doctype html><html><head><title>Ledger</title></head><body><p id="rows">2</p></body></html>\n';
    harness = await startHarness({
      dialect,
      env: { LLM_TOOL_PROVIDERS: "vllm", CHECK_TIMEOUT_SECONDS: "5" },
      fixtures: [{ fixtures: [{ match: ["Ledger 55e1"], responses: [{ files: { "index.html": page, "sales.csv": "Item,Sold on,Amount\nretyped,wrong,0\n" } }] }] }],
    });
    const request = await harness.request("github-user-created-r1", {
      task: "ledger-55e1",
      brief,
      checks: ["js: document.querySelector('#rows').textContent === '2'"],
      attachments: [{ name: "ledger.xlsx", url: `data:application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;base64,${workbook.toString("base64")}` }],
    });
    const ack = await harness.post(request);
    expect(ack.status).toBe(200);
    const report = (await harness.receiver.waitFor((r) => r.body.nonce === request.nonce, 120_000)).body as Record<string, string>;
    const clone = await cloneAt(report.repo_url!, report.commit_sha!);
    const expectedCsv = "Item,Sold on,Amount\nWidget,2024-03-01,1234567.5\nGadget,2024-04-18,42\n";
    try {
      expect(await readFile(join(clone.dir, "sales.csv"), "utf8")).toBe(expectedCsv);
      expect((await readFile(join(clone.dir, "ledger.xlsx"))).equals(workbook)).toBe(true);
    } finally {
      await clone.cleanup();
    }
    // Made before the model was asked: the first prompt lists it as made, and every tool is offered.
    const [asked] = harness.llm.requests.filter((r) => r.fileProducing);
    const body = JSON.stringify(asked!.body);
    expect(body).toContain("made by convert_file from ledger.xlsx");
    for (const tool of ["fetch_url", "convert_file", "run_js"]) expect(body).toContain(`"name":"${tool}"`);
    const task = await harness.get(`/api/v1/tasks/${ack.body.task_id}`);
    const round = task.body.rounds.find((r: { round: number }) => r.round === 1);
    expect(round.build.fetched).toEqual([expect.objectContaining({ path: "sales.csv", url: "ledger.xlsx", via: "contract", tool: "convert_file" })]);
    expect(round.events.find((e: { name: string }) => e.name === "build-tool-run")?.data).toEqual({
      tool: "convert_file", outcome: "saved", path: "sales.csv", from: "ledger.xlsx", bytes: Buffer.byteLength(expectedCsv), detail: "2 rows from sheet Sales", via: "contract",
    });
  });
});
