import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildContract } from "../../src/domain/build-contract.ts";
import { normalizeChecks } from "../../src/domain/check.ts";
import { createInProcessEventBus } from "../../src/events/in-process-event-bus.ts";
import type { BriefwrightEvent } from "../../src/events/event-map.ts";
import { fetchBuildFiles } from "../../src/pipeline/fetch-build-files.ts";
import type { PipelineDeps } from "../../src/pipeline/pipeline-deps.ts";
import { systemClock } from "../../src/ports/clock.ts";
import { storeDialects } from "../support/store-dialects.ts";
import { cloneAt, git, sharedFixtures, startHarness, type Harness } from "../support/service-harness.ts";

// Done-when 2–6 of the generation-engine issue, end to end through the scripted LLM.
const dialect = storeDialects[0]!;
const reference = JSON.parse(await readFile(join(sharedFixtures, "llm", "sum-of-sales.json"), "utf8"));
const round1Html: string = reference.fixtures[1].responses[0].files["index.html"];
const round2Html: string = reference.fixtures[0].responses[0].files["index.html"];
const markdownReference = JSON.parse(await readFile(join(sharedFixtures, "llm", "markdown-to-html.json"), "utf8"));

async function runRounds(harness: Harness, names: string[], overrides: Record<string, unknown> = {}) {
  const reports = [];
  for (const name of names) {
    const request = await harness.request(name, overrides);
    const ack = await harness.post(request);
    expect(ack.status).toBe(200);
    reports.push({ ack: ack.body, report: (await harness.receiver.waitFor((r) => r.body.nonce === request.nonce)).body as Record<string, string> });
  }
  return reports;
}

async function roundDetail(harness: Harness, taskId: string, round: number) {
  const task = await harness.get(`/api/v1/tasks/${taskId}`);
  return task.body.rounds.find((r: { round: number }) => r.round === round);
}

describe(`generation engine on ${dialect.name}`, () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  it("round 2 through edit blocks produces the reference files of both course tasks", async () => {
    harness = await startHarness({ dialect, fixtures: join(sharedFixtures, "llm") });
    for (const [name, fixtures] of [["sum-of-sales", reference], ["markdown-to-html", markdownReference]] as const) {
      const [, second] = await runRounds(harness, [`${name}-r1`, `${name}-r2`]);
      const clone = await cloneAt(second!.report.repo_url!, second!.report.commit_sha!);
      try {
        expect(await readFile(join(clone.dir, "index.html"), "utf8")).toBe(fixtures.fixtures[0].responses[0].files["index.html"]);
      } finally {
        await clone.cleanup();
      }
      const revise = harness.llm.requests.filter((r) => r.fileProducing && r.delivery === "edit-blocks");
      expect(revise.length).toBeGreaterThanOrEqual(1);
    }
  });

  it("an edit block whose search text is absent is sent back with the reason, then applied", async () => {
    const broken = "FILE: index.html\n<<<<<<< SEARCH\n  <p>This line is nowhere in the page</p>\n=======\n  <p>x</p>\n>>>>>>> REPLACE\n";
    const good =
      'FILE: index.html\n<<<<<<< SEARCH\n  <p>Total sales: <strong id="total-sales">…</strong></p>\n=======\n  <p>Total sales: <strong id="total-sales">…</strong></p>\n  <table id="product-sales" class="table"><tbody><tr><td>All</td><td>1044.98</td></tr></tbody></table>\n>>>>>>> REPLACE\n';
    harness = await startHarness({
      dialect,
      fixtures: [
        { fixtures: [{ match: ["#product-sales"], responses: [{ text: broken }, { text: good }] }] },
        join(sharedFixtures, "llm", "sum-of-sales.json"),
      ],
    });
    const [first, second] = await runRounds(harness, ["sum-of-sales-r1", "sum-of-sales-r2"]);
    const round = await roundDetail(harness, second!.ack.task_id, 2);
    expect(round.build.attempts.map((a: { outcome: string }) => a.outcome)).toEqual(["unusable", "accepted"]);
    expect(round.build.attempts[0].reason).toMatch(/index\.html.*not found/i);
    // The second request carried the reason back to the model.
    const revise = harness.llm.requests.filter((r) => r.fileProducing && r.delivery === "edit-blocks");
    expect(revise).toHaveLength(2);
    expect(JSON.stringify(revise[1]!.body)).toMatch(/could not be applied/);
    const clone = await cloneAt(second!.report.repo_url!, second!.report.commit_sha!);
    try {
      const html = await readFile(join(clone.dir, "index.html"), "utf8");
      expect(html).toBe(round1Html.replace('<p>Total sales: <strong id="total-sales">…</strong></p>\n', '<p>Total sales: <strong id="total-sales">…</strong></p>\n  <table id="product-sales" class="table"><tbody><tr><td>All</td><td>1044.98</td></tr></tbody></table>\n'));
      expect(await git(clone.dir, "rev-parse", "HEAD^")).toBe(first!.report.commit_sha);
    } finally {
      await clone.cleanup();
    }
  });

  it("an answer that deletes most of index.html for a small addition is rejected and the retry is used", async () => {
    const gutted = '<!doctype html><html><head><title>Sales Summary 7f3a9</title></head><body><table id="product-sales"></table></body></html>\n';
    harness = await startHarness({
      dialect,
      fixtures: [
        { fixtures: [{ match: ["#product-sales"], responses: [{ files: { "index.html": gutted } }, { files: { "index.html": round2Html } }] }] },
        join(sharedFixtures, "llm", "sum-of-sales.json"),
      ],
    });
    const [, second] = await runRounds(harness, ["sum-of-sales-r1", "sum-of-sales-r2"]);
    const round = await roundDetail(harness, second!.ack.task_id, 2);
    expect(round.build.attempts.map((a: { outcome: string }) => a.outcome)).toEqual(["gate-blocked", "accepted"]);
    expect(round.build.attempts[0].reason).toMatch(/shrinkage/);
    expect(round.events.some((e: { name: string; data: { rule: string } }) => e.name === "gate-decide" && e.data.rule === "shrinkage")).toBe(true);
    const page = await fetch(second!.report.pages_url!).then((r) => r.text());
    expect(page).toBe(round2Html);
  });

  it("a GitHub token in an answer never reaches the repository, and the round records why", async () => {
    const token = ["ghp", "_", "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"].join("");
    const leaky = round1Html.replace("</body>", `<script>const token = "${token}";</script>\n</body>`);
    harness = await startHarness({
      dialect,
      fixtures: [{ fixtures: [{ match: ["Sales Summary 7f3a9"], responses: [{ files: { "index.html": leaky } }, { files: { "index.html": round1Html } }] }] }],
    });
    const [first] = await runRounds(harness, ["sum-of-sales-r1"]);
    const clone = await cloneAt(first!.report.repo_url!, first!.report.commit_sha!);
    try {
      expect(await git(clone.dir, "log", "--all", "-p")).not.toContain(token);
      expect(await readFile(join(clone.dir, "index.html"), "utf8")).toBe(round1Html);
    } finally {
      await clone.cleanup();
    }
    const round = await roundDetail(harness, first!.ack.task_id, 1);
    expect(round.build.attempts[0].outcome).toBe("gate-blocked");
    expect(round.build.attempts[0].reason).toMatch(/secret/i);
    const everything = JSON.stringify(await harness.get(`/api/v1/tasks/${first!.ack.task_id}`));
    expect(everything).not.toContain(token);
    expect(await fetch(first!.report.pages_url!).then((r) => r.text())).not.toContain(token);
  });

  it("a brief that says to fetch a JSON URL and save data.json commits the fetched content", async () => {
    const payload = JSON.stringify({ users: [{ login: "octo", created: "2011-01-25" }] });
    const source = createServer((req, res) => res.writeHead(200, { "content-type": "application/json" }).end(payload));
    await new Promise<void>((r) => source.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(source.address() as { port: number }).port}/users.json`;
    const page = '<!doctype html><html><head><title>Users</title></head><body><ul id="users"></ul><script>fetch("data.json").then(r=>r.json()).then(d=>{document.querySelector("#users").textContent=d.users.map(u=>u.login).join()})</script></body></html>\n';
    try {
      harness = await startHarness({ dialect, fixtures: [{ fixtures: [{ match: ["save it as data.json"], responses: [{ files: { "index.html": page } }] }] }] });
      const [first] = await runRounds(harness, ["github-user-created-r1"], {
        task: "fetch-at-build",
        brief: `Fetch ${url} at build time and save it as data.json, then list the logins in #users.`,
        checks: ["js: !!document.querySelector('#users')"],
      });
      const clone = await cloneAt(first!.report.repo_url!, first!.report.commit_sha!);
      try {
        expect(await readFile(join(clone.dir, "data.json"), "utf8")).toBe(payload);
      } finally {
        await clone.cleanup();
      }
      const request = harness.llm.requests.find((r) => r.fileProducing);
      expect(JSON.stringify(request!.body)).toContain("fetched from");
    } finally {
      source.close();
    }
  });

  it("a private-address fetch is refused when private URLs are not allowed", async () => {
    let hits = 0;
    const source = createServer((req, res) => {
      hits++;
      res.end("{}");
    });
    await new Promise<void>((r) => source.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(source.address() as { port: number }).port}/data`;
    try {
      const contract = buildContract({ brief: `Fetch ${url} and save it as data.json.`, checks: normalizeChecks([]), attachments: [] });
      expect(contract.files.find((f) => f.path === "data.json")?.fetchFrom).toBe(url);
      const events: BriefwrightEvent[] = [];
      const bus = createInProcessEventBus(systemClock);
      bus.subscribe((e) => events.push(e));
      const deps = { events: bus, fetch, settings: { allowPrivateUrls: false, maxAttachmentBytes: 1e6 } } as unknown as PipelineDeps;
      expect(await fetchBuildFiles(contract, "r1", deps)).toEqual([]);
      expect(hits).toBe(0);
      const refusal = events.find((e) => e.name === "fetch-refuse");
      expect(refusal?.payload).toMatchObject({ path: "data.json", url });
      expect((refusal?.payload as { reason: string }).reason).toMatch(/private/);
      // Allowed, the same fetch goes through.
      const allowed = { ...deps, settings: { allowPrivateUrls: true, maxAttachmentBytes: 1e6 } } as unknown as PipelineDeps;
      expect((await fetchBuildFiles(contract, "r1", allowed)).map((f) => f.path)).toEqual(["data.json"]);
      expect(hits).toBe(1);
    } finally {
      source.close();
    }
  });

  it("the model fetches a URL with the fetch_url tool and saves data.json, which is committed as served", async () => {
    // Not ASCII, no final newline, CRLF inside: any re-encoding would show.
    const payload = Buffer.from('{"users":[{"login":"octo","note":"caf\u00e9 \u2713"}],\r\n"at":"2011-01-25"}', "utf8");
    let hits = 0;
    const source = createServer((req, res) => {
      hits++;
      res.writeHead(200, { "content-type": "application/json" }).end(payload);
    });
    await new Promise<void>((r) => source.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(source.address() as { port: number }).port}/users.json`;
    const brief = `Snapshot 7c1e: list the logins in #users, read from data.json, a snapshot of ${url} taken when the app is built.`;
    const check = "js: document.querySelector('#users').textContent === 'octo'";
    // The build contract does not prefetch this one: the tool is what brings data.json in.
    expect(buildContract({ brief, checks: normalizeChecks([check]), attachments: [] }).files.some((f) => f.fetchFrom)).toBe(false);
    const page = '<!doctype html><html><head><title>Users</title></head><body><ul id="users"></ul><script>fetch("data.json").then(r=>r.json()).then(d=>{document.querySelector("#users").textContent=d.users.map(u=>u.login).join()})</script></body></html>\n';
    try {
      harness = await startHarness({
        dialect,
        env: { LLM_TOOL_PROVIDERS: "vllm", CHECK_TIMEOUT_SECONDS: "5" },
        fixtures: [
          {
            fixtures: [
              {
                match: ["Snapshot 7c1e"],
                responses: [{ tool_calls: [{ name: "fetch_url", arguments: { url, save_as: "data.json" } }] }, { files: { "index.html": page } }],
              },
            ],
          },
        ],
      });
      const [first] = await runRounds(harness, ["github-user-created-r1"], { task: "fetch-tool", brief, checks: [check] });
      const clone = await cloneAt(first!.report.repo_url!, first!.report.commit_sha!);
      try {
        expect((await readFile(join(clone.dir, "data.json"))).equals(payload)).toBe(true);
        expect(await readFile(join(clone.dir, "index.html"), "utf8")).toBe(page);
      } finally {
        await clone.cleanup();
      }
      expect(hits).toBe(1);

      // The model was offered the tool and read its result in the follow-up request.
      const [asked, followUp] = harness.llm.requests.filter((r) => r.fileProducing);
      expect(JSON.stringify(asked!.body)).toContain('"name":"fetch_url"');
      expect(asked!.toolCalls).toEqual(["fetch_url"]);
      const toolMessage = (followUp!.body as { messages: { role: string; content: string }[] }).messages.find((m) => m.role === "tool");
      expect(JSON.parse(toolMessage!.content)).toMatchObject({ ok: true, status: 200, content_type: "application/json", saved_as: "data.json", bytes: payload.length });

      const round = await roundDetail(harness, first!.ack.task_id, 1);
      expect(round.build.fetched).toEqual([{ path: "data.json", url, bytes: payload.length, contentType: "application/json", via: "tool", tool: "fetch_url" }]);
      expect(round.build.attempts.map((a: { outcome: string }) => a.outcome)).toEqual(["accepted"]);
      expect(round.build.attempts[0].verdict.passed).toBe(true);
      const toolCalls = round.events.filter((e: { name: string }) => e.name === "tool-call").map((e: { data: unknown }) => e.data);
      expect(toolCalls).toEqual([
        expect.objectContaining({ purpose: "generate", provider: "vllm", tool: "fetch_url", outcome: "ok", detail: null, arguments: JSON.stringify({ url, save_as: "data.json" }) }),
      ]);
      expect(round.events.find((e: { name: string }) => e.name === "fetch-complete")?.data).toEqual({ path: "data.json", url, bytes: payload.length, via: "tool" });
    } finally {
      source.close();
    }
  });

  it("a text attachment and a binary PNG attachment are byte-identical in the repository", async () => {
    const png = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000" + "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082", "hex");
    const uid = Buffer.from("uid-7f3a9\r\nsecond line\n");
    const page = '<!doctype html><html><head><title>Files</title></head><body><img id="logo" src="logo.png"><pre id="uid"></pre></body></html>\n';
    harness = await startHarness({ dialect, fixtures: [{ fixtures: [{ match: ["uid.txt"], responses: [{ files: { "index.html": page } }] }] }] });
    const [first] = await runRounds(harness, ["github-user-created-r1"], {
      task: "attachments-bytes",
      brief: "Show logo.png in #logo and the contents of uid.txt in #uid.",
      checks: ["js: !!document.querySelector('#logo')"],
      attachments: [
        { name: "uid.txt", url: `data:text/plain;base64,${uid.toString("base64")}` },
        { name: "logo.png", url: `data:image/png;base64,${png.toString("base64")}` },
      ],
    });
    const clone = await cloneAt(first!.report.repo_url!, first!.report.commit_sha!);
    try {
      expect((await readFile(join(clone.dir, "uid.txt"))).equals(uid)).toBe(true);
      expect((await readFile(join(clone.dir, "logo.png"))).equals(png)).toBe(true);
    } finally {
      await clone.cleanup();
    }
    const served = Buffer.from(await fetch(`${first!.report.pages_url}logo.png`).then((r) => r.arrayBuffer()) as ArrayBuffer);
    expect(served.equals(png)).toBe(true);
  });
});
