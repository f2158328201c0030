import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import Database from "better-sqlite3";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { defaultSqliteFileName } from "../../src/adapters/store/create-store.ts";
import type { FixtureFile } from "../../src/fake-llm/fixture-file.ts";
import { startFakeLlm, type FakeLlm } from "../../src/fake-llm/start-fake-llm.ts";
import { storeDialects } from "../support/store-dialects.ts";
import { cloneAt, git, sharedFixtures, startHarness, type Harness, type HarnessOptions } from "../support/service-harness.ts";
import { tinyPng } from "../support/tiny-png.ts";

// Done-when 1–7 of the LLM-layer issue: an OpenAI-protocol primary and a Gemini fallback, both
// scripted servers over real HTTP, behind the service's own fallback chain. SQLite only: the
// store is not what is under test here.
const dialect = storeDialects[0]!;
const reference = JSON.parse(await readFile(join(sharedFixtures, "llm", "sum-of-sales.json"), "utf8"));
const round1Html: string = reference.fixtures[1].responses[0].files["index.html"];
const referenceFixtures = join(sharedFixtures, "llm");
const sumOfSales = ["Sales Summary 7f3a9", "data.csv"];

const script = (...responses: FixtureFile["fixtures"][number]["responses"]): FixtureFile[] => [{ fixtures: [{ match: sumOfSales, responses }] }];

let harness: Harness | undefined;
const fakes: FakeLlm[] = [];
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

async function startGemini(fixtures: HarnessOptions["fixtures"] = referenceFixtures): Promise<FakeLlm> {
  const fake = await startFakeLlm({ fixtures });
  fakes.push(fake);
  return fake;
}

// These tests count model calls one by one; the README-prose call (covered elsewhere) would add one.
const noReadmeProse = { README_PROSE: "false" };

/** The service with the harness's fake as the `vllm` primary and `gemini` as fallback. */
async function startChain(primary: HarnessOptions["fixtures"], gemini: FakeLlm, env: Record<string, string> = {}, logger?: pino.Logger) {
  harness = await startHarness({
    dialect,
    fixtures: primary,
    env: {
      LLM_FALLBACKS: "gemini",
      GEMINI_API_KEY: "gemini-test-key",
      GEMINI_BASE_URL: `${gemini.url}/v1beta`,
      LLM_BREAKER_COOLDOWN_SECONDS: "60",
      ...noReadmeProse,
      ...env,
    },
    ...(logger ? { logger } : {}),
  });
  return harness;
}

/** Posts a request and waits for its report; returns the task id and how long it took. */
async function runRound(h: Harness, name: string, overrides: Record<string, unknown> = {}) {
  const request = await h.request(name, overrides);
  const started = performance.now();
  const ack = await h.post(request);
  expect(ack.status).toBe(200);
  const report = (await h.receiver.waitFor((r) => r.body.nonce === request.nonce)).body as Record<string, string>;
  return { taskId: ack.body.task_id as string, report, elapsedMs: performance.now() - started };
}

/** The task as the API shows it, once every round's events are stored (they are written in batches). */
async function settledTask(h: Harness, taskId: string) {
  for (let tries = 0; ; tries++) {
    const task = await h.get(`/api/v1/tasks/${taskId}`);
    const done = task.body.rounds.every((r: { events: { name: string }[] }) => r.events.some((e) => e.name === "round-finish" || e.name === "round-fail"));
    if (done || tries > 50) return task.body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

type RoundView = { events: { name: string; data: any }[]; llm_calls: any[]; usage: any; build: any };
const eventsNamed = (round: RoundView, name: string) => round.events.filter((e) => e.name === name).map((e) => e.data);

/** Collects every log line the service writes. */
function captureLogs(level: pino.Level = "trace") {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level, base: { service: "briefwright" } }, sink), lines };
}

describe(`LLM fallback chain on ${dialect.name}`, () => {
  it("1: a primary failing with 500 is retried, broken and replaced by Gemini; the next round skips it at once", async () => {
    const gemini = await startGemini();
    const h = await startChain(script({ status: 500 }), gemini, {
      LLM_TIMEOUT_SECONDS: "30",
      LLM_RETRIES: "2",
      LLM_BREAKER_THRESHOLD: "3",
      LLM_PRICES: JSON.stringify({ "gemini/gemini-2.5-flash": { input: 0.3, output: 2.5 } }),
    });
    const png = tinyPng(16, 8);
    const r1 = await h.request("sum-of-sales-r1");
    const attachments = [...(r1.attachments as object[]), { name: "logo.png", url: `data:image/png;base64,${png.toString("base64")}` }];
    const first = await runRound(h, "sum-of-sales-r1", { attachments });
    expect(first.report.commit_sha).toMatch(/^[0-9a-f]{40}$/);
    expect(await fetch(first.report.pages_url!).then((r) => r.text())).toBe(round1Html);

    // Three attempts on the primary, then one on Gemini.
    expect(h.llm.requests.map((r) => r.status)).toEqual([500, 500, 500]);
    expect(gemini.requests).toHaveLength(1);
    // The primary cannot see images: it got a description; Gemini got the image itself.
    expect(JSON.stringify(h.llm.requests[0]!.body)).toContain(`logo.png (image/png, ${png.length} bytes, 16×8 px)`);
    expect(JSON.stringify(h.llm.requests[0]!.body)).not.toContain(png.toString("base64"));
    expect(JSON.stringify(gemini.requests[0]!.body)).toContain(png.toString("base64"));

    const task = await settledTask(h, first.taskId);
    const round = task.rounds[0] as RoundView;
    expect(round.llm_calls.map((c) => [c.provider, c.outcome, c.status_code])).toEqual([
      ["vllm", "failed", 500],
      ["vllm", "failed", 500],
      ["vllm", "failed", 500],
      ["gemini", "answered", null],
    ]);
    const reported = gemini.requests[0]!.usage!;
    expect(round.usage.by_provider.gemini).toMatchObject({ calls: 1, failures: 0, input_tokens: reported.promptTokens, output_tokens: reported.completionTokens });
    expect(round.usage.by_provider.vllm).toMatchObject({ calls: 3, failures: 3, input_tokens: 0, output_tokens: 0, cost_usd: 0 });
    expect(round.usage.cost_usd).toBeCloseTo((reported.promptTokens * 0.3 + reported.completionTokens * 2.5) / 1e6, 9);
    expect(eventsNamed(round, "llm-retry")).toHaveLength(2);
    expect(eventsNamed(round, "breaker-open")).toEqual([expect.objectContaining({ provider: "vllm", cooldownMs: 60_000 })]);
    expect(eventsNamed(round, "llm-fallback")).toEqual([expect.objectContaining({ from: "vllm", to: "gemini" })]);
    const health = await h.get("/health");
    expect(health.body.llm.providers.map((p: { provider: string; breaker: string }) => [p.provider, p.breaker])).toEqual([
      ["vllm", "open"],
      ["gemini", "closed"],
    ]);

    // Right after: another task's round goes straight to Gemini.
    const before = h.llm.requests.length;
    const second = await runRound(h, "sum-of-sales-r1", { task: "sum-of-sales-second", nonce: "second-round" });
    expect(h.llm.requests).toHaveLength(before);
    expect(gemini.requests).toHaveLength(2);
    const secondRound = (await settledTask(h, second.taskId)).rounds[0] as RoundView;
    const usage = eventsNamed(secondRound, "llm-usage");
    expect(usage).toEqual([expect.objectContaining({ provider: "gemini", attempts: 1 })]);
    expect(usage[0].durationMs).toBeLessThan(1_000);
    expect(eventsNamed(secondRound, "llm-fallback")[0].reason).toMatch(/circuit open/);
    expect(eventsNamed(secondRound, "llm-attempt-fail")).toHaveLength(0);
    expect(second.elapsedMs).toBeLessThan(10_000);
    console.info(`fallback figures: first round ${Math.round(first.elapsedMs)} ms, next round ${Math.round(second.elapsedMs)} ms, model call ${usage[0].durationMs} ms with the primary skipped`);
  });

  it("2: a 429 with Retry-After: 1 is waited out and the primary serves the round", async () => {
    const gemini = await startGemini();
    const h = await startChain(script({ status: 429, retry_after: 1 }, { files: { "index.html": round1Html } }), gemini);
    const { taskId, report } = await runRound(h, "sum-of-sales-r1");
    expect(await fetch(report.pages_url!).then((r) => r.text())).toBe(round1Html);
    expect(h.llm.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(gemini.requests).toHaveLength(0);
    const round = (await settledTask(h, taskId)).rounds[0] as RoundView;
    expect(eventsNamed(round, "llm-retry")).toEqual([expect.objectContaining({ provider: "vllm", delayMs: 1000, delaySource: "retry-after", attempt: 2 })]);
    const [usage] = eventsNamed(round, "llm-usage");
    expect(usage).toMatchObject({ provider: "vllm", attempts: 2 });
    expect(usage.durationMs).toBeGreaterThanOrEqual(1_000);
    expect(usage.durationMs).toBeLessThan(2_500);
    expect(eventsNamed(round, "llm-fallback")).toEqual([]);
    console.info(`429 figures: model call ${usage.durationMs} ms including the 1 s Retry-After`);
  });

  it("3: a hanging primary times out and Gemini answers within the timeout plus a second", async () => {
    const gemini = await startGemini();
    const h = await startChain(script({ hang: true }), gemini, { LLM_TIMEOUT_SECONDS: "2" });
    const { taskId } = await runRound(h, "sum-of-sales-r1");
    const round = (await settledTask(h, taskId)).rounds[0] as RoundView;
    expect(eventsNamed(round, "llm-attempt-fail")).toEqual([expect.objectContaining({ provider: "vllm", code: "llm-timeout", retryable: true })]);
    const [usage] = eventsNamed(round, "llm-usage");
    expect(usage).toMatchObject({ provider: "gemini", priced: false, costUsd: 0 });
    expect(usage.durationMs).toBeGreaterThanOrEqual(2_000);
    expect(usage.durationMs).toBeLessThan(3_000);
    expect(round.usage.unpriced_calls).toBe(1);
    console.info(`timeout figures: fallback answered ${usage.durationMs} ms after the call began (timeout 2000 ms)`);
  });

  it("4: an answer that is not JSON is sent back once; the round completes and keeps the reason", async () => {
    const h = (harness = await startHarness({ dialect, fixtures: script({ text: "not json" }, { files: { "index.html": round1Html } }), env: noReadmeProse }));
    const { taskId, report } = await runRound(h, "sum-of-sales-r1");
    expect(await fetch(report.pages_url!).then((r) => r.text())).toBe(round1Html);
    const round = (await settledTask(h, taskId)).rounds[0] as RoundView;
    expect(round.build.attempts.map((a: { outcome: string }) => a.outcome)).toEqual(["unusable", "accepted"]);
    expect(round.build.attempts[0].reason).toMatch(/not a JSON object/);
    expect(eventsNamed(round, "build-attempt")[0]).toMatchObject({ outcome: "unusable", reason: expect.stringMatching(/not a JSON object/) });
    expect(round.llm_calls.map((c) => c.outcome)).toEqual(["answered", "answered"]);
    // The second request carried the reason back to the model.
    expect(JSON.stringify(h.llm.requests[1]!.body)).toContain("not a JSON object");
  });

  it("5: streaming from both wire formats produces the same files as plain calls", async () => {
    const results: { backend: string; stream: boolean; html: string; tree: string; streamed: boolean[]; deltas: number }[] = [];
    for (const backend of ["vllm", "gemini"] as const) {
      for (const stream of [true, false]) {
        const gemini = await startGemini();
        const logs = captureLogs("debug");
        harness = await startHarness({
          dialect,
          fixtures: referenceFixtures,
          env:
            backend === "gemini"
              ? { LLM_BACKEND: "gemini", GEMINI_API_KEY: "k", GEMINI_BASE_URL: `${gemini.url}/v1beta`, LLM_STREAM: String(stream), ...noReadmeProse }
              : { LLM_STREAM: String(stream), ...noReadmeProse },
          logger: logs.logger,
        });
        const { report } = await runRound(harness, "sum-of-sales-r1");
        const clone = await cloneAt(report.repo_url!, report.commit_sha!);
        try {
          const served = backend === "gemini" ? gemini.requests : harness.llm.requests;
          results.push({
            backend,
            stream,
            html: await readFile(join(clone.dir, "index.html"), "utf8"),
            // README.md names this service's URLs, which differ per run; everything else must match.
            tree: (await git(clone.dir, "ls-files", "-s")).split("\n").filter((line) => !line.endsWith("\tREADME.md")).join("\n"),
            streamed: served.map((r) => r.stream),
            deltas: logs.lines.filter((line) => line.includes('"event":"llm-delta"')).length,
          });
        } finally {
          await clone.cleanup();
        }
        await harness.stop();
        harness = undefined;
      }
    }
    for (const result of results) {
      expect(result.html).toBe(round1Html);
      // Same blobs, modes and paths.
      expect(result.tree).toBe(results[0]!.tree);
      expect(result.streamed).toEqual([result.stream]);
      if (result.stream) expect(result.deltas).toBeGreaterThan(0);
      else expect(result.deltas).toBe(0);
    }
  });

  it("6: token counts and cost in the task API match what the scripted server reported", async () => {
    const prices = { "vllm/scripted": { input: 3, output: 15 } };
    const h = (harness = await startHarness({ dialect, fixtures: referenceFixtures, env: { LLM_PRICES: JSON.stringify(prices) } }));
    const { taskId } = await runRound(h, "sum-of-sales-r1");
    const afterFirst = h.llm.requests.length;
    await runRound(h, "sum-of-sales-r2");
    const task = await settledTask(h, taskId);
    const expected = (requests: typeof h.llm.requests) => {
      const input = requests.reduce((sum, r) => sum + r.usage!.promptTokens, 0);
      const output = requests.reduce((sum, r) => sum + r.usage!.completionTokens, 0);
      return { calls: requests.length, input_tokens: input, output_tokens: output, cost: (input * 3 + output * 15) / 1e6 };
    };
    const perRound = [expected(h.llm.requests.slice(0, afterFirst)), expected(h.llm.requests.slice(afterFirst))];
    for (const [index, round] of (task.rounds as RoundView[]).entries()) {
      const want = perRound[index]!;
      expect(round.usage).toMatchObject({ calls: want.calls, failures: 0, input_tokens: want.input_tokens, output_tokens: want.output_tokens, unpriced_calls: 0 });
      expect(round.usage.cost_usd).toBeCloseTo(want.cost, 9);
      expect(round.usage.by_provider.vllm).toMatchObject({ calls: want.calls, models: ["scripted"] });
      for (const call of round.llm_calls) expect(call).toMatchObject({ provider: "vllm", model: "scripted", outcome: "answered", priced: true });
    }
    const all = expected(h.llm.requests);
    expect(task.usage).toMatchObject({ calls: all.calls, input_tokens: all.input_tokens, output_tokens: all.output_tokens });
    expect(task.usage.cost_usd).toBeCloseTo(all.cost, 9);
    expect(task.usage.input_tokens).toBeGreaterThan(0);
  });

  it("7: no API key (nor the student secret) appears in any log line, stored row, event, API answer, commit or page", async () => {
    const canarySecret = `canary-secret-${Math.random().toString(36).slice(2)}`;
    const canaryVllm = `canary-vllm-${Math.random().toString(36).slice(2)}`;
    const canaryGemini = `canary-gemini-${Math.random().toString(36).slice(2)}`;
    const canaryOpenai = `canary-openai-${Math.random().toString(36).slice(2)}`;
    const gemini = await startGemini();
    const logs = captureLogs("trace");
    // The primary even echoes its key back in the error body, as some proxies do.
    const h = await startChain(
      script({ status: 500, message: `upstream rejected key ${canaryVllm}` }),
      gemini,
      { VLLM_API_KEY: canaryVllm, GEMINI_API_KEY: canaryGemini, OPENAI_API_KEY: canaryOpenai, STUDENT_SECRET: canarySecret, LLM_RETRIES: "1" },
      logs.logger,
    );
    const { taskId, report } = await runRound(h, "sum-of-sales-r1", { secret: canarySecret });
    const task = await settledTask(h, taskId);
    expect(eventsNamed(task.rounds[0], "llm-attempt-fail")[0].error).toContain("[redacted]");
    const canaries = [canaryVllm, canaryGemini, canaryOpenai, canarySecret];
    const leaks = (what: string, text: string) => expect(canaries.filter((c) => text.includes(c)), what).toEqual([]);

    // Every log line (trace level: every event, streaming progress included).
    expect(logs.lines.length).toBeGreaterThan(20);
    leaks("log lines", logs.lines.join(""));
    // Every API answer that shows state.
    leaks("task API", JSON.stringify(task));
    leaks("task list", JSON.stringify((await h.get("/api/v1/tasks")).body));
    leaks("health", JSON.stringify((await h.get("/health")).body));
    // Every row of every table, and the database files' raw bytes (WAL included).
    const dbPath = join(h.database.dataDir, defaultSqliteFileName);
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      const tables = db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[];
      expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(["tasks", "rounds", "round_events"]));
      for (const { name } of tables) leaks(`table ${name}`, JSON.stringify(db.prepare(`select * from "${name}"`).all()));
    } finally {
      db.close();
    }
    for (const file of (await readdir(h.database.dataDir)).filter((f) => f.startsWith(defaultSqliteFileName))) {
      leaks(file, (await readFile(join(h.database.dataDir, file))).toString("latin1"));
    }
    // Every file and every commit of the deployed repository.
    const clone = await cloneAt(report.repo_url!, report.commit_sha!);
    try {
      leaks("repository history", await git(clone.dir, "log", "-p", "--all"));
      // And the Pages site: every committed file as served (like GitHub Pages, no dot-file is published).
      for (const path of (await git(clone.dir, "ls-files")).split("\n").filter(Boolean)) {
        const served = await fetch(new URL(path, report.pages_url!));
        expect(served.status, path).toBe(path.startsWith(".") ? 404 : 200);
        leaks(`pages ${path}`, await served.text());
      }
    } finally {
      await clone.cleanup();
    }
  });
});
