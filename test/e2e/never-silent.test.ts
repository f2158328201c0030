import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { decodeDataUri } from "../../src/domain/attachment.ts";
import type { FixtureFile } from "../../src/fake-llm/fixture-file.ts";
import { storeDialects } from "../support/store-dialects.ts";
import { cloneAt, git, startHarness, type Harness } from "../support/service-harness.ts";

// Issue 9, part 7 (and done-when 5): every accepted round reports before its deadline. A build
// that yields no candidate ships the attachments, LICENSE and a README saying why; the task API
// tells such a best-effort commit from a full build.
const dialect = storeDialects[0]!;
const deadlineSeconds = 60;
const page = (title: string, body: string) => `<!doctype html><html><head><title>${title}</title></head><body>${body}</body></html>\n`;

const garbage: FixtureFile = {
  fixtures: [
    // First: a round 2's prompt also carries round 1's brief.
    { match: ["silent-garbage"], responses: [{ text: "Sorry, I would rather talk about the weather." }] },
    { match: ["silent-round-one"], responses: [{ files: { "index.html": page("Round one", '<p id="one">one</p>') } }] },
  ],
};

/** A request of the sum-of-sales shape (one CSV attachment) with a brief the fixtures above match. */
async function silentRequest(h: Harness, brief: string, overrides: Record<string, unknown> = {}) {
  return h.request("sum-of-sales-r1", { task: "silent-task", nonce: `nonce-${brief}`, brief, checks: ["Repo has MIT license"], ...overrides });
}

async function roundOf(h: Harness, taskId: string, round: number, nonce: string) {
  // Events are stored in batches; wait until the round's finish is among them.
  for (let tries = 0; ; tries++) {
    const task = await h.get(`/api/v1/tasks/${taskId}`);
    const found = task.body.rounds.find((r: { round: number; nonce: string }) => r.round === round && r.nonce === nonce);
    if (found?.events.some((e: { name: string }) => e.name === "round-finish") || tries > 100) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe(`never silent on ${dialect.name}`, () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  it("a model that only answers garbage: the round reports a fallback commit before its deadline, and the API says why", async () => {
    harness = await startHarness({ dialect, fixtures: [garbage], env: { VERIFY: "false", ROUND_DEADLINE_SECONDS: String(deadlineSeconds) } });
    const request = await silentRequest(harness, "silent-garbage: publish a sales summary of data.csv");
    const acceptedAt = Date.now();
    const ack = await harness.post(request);
    expect(ack.status).toBe(200);
    const received = await harness.receiver.waitFor((r) => r.body.nonce === request.nonce, deadlineSeconds * 1000);
    expect(received.at).toBeLessThan(acceptedAt + deadlineSeconds * 1000);
    const report = received.body as Record<string, string>;
    expect(report.commit_sha).toMatch(/^[0-9a-f]{40}$/);

    // The model was asked, sent back once, and gave up on: two file-producing calls, no third.
    expect(harness.llm.requests.filter((r) => r.fileProducing)).toHaveLength(2);

    const clone = await cloneAt(report.repo_url!, report.commit_sha!);
    try {
      expect((await git(clone.dir, "ls-files")).split("\n").sort()).toEqual([".nojekyll", "LICENSE", "README.md", "data.csv", "index.html"]);
      const attachment = (request.attachments as { name: string; url: string }[])[0]!;
      expect((await readFile(join(clone.dir, "data.csv")).then((b) => b.equals(decodeDataUri(attachment.url, 1 << 20).content)))).toBe(true);
      expect(await readFile(join(clone.dir, "LICENSE"), "utf8")).toContain("Permission is hereby granted, free of charge");
      const readme = await readFile(join(clone.dir, "README.md"), "utf8");
      expect(readme).toContain("No app was built");
      expect(readme).toContain("the model's answers could not be read as an app");
      expect(readme).toContain("> silent-garbage: publish a sales summary of data.csv");
      for (const section of ["Summary", "Setup", "Usage", "Code explanation", "License"]) expect(readme).toContain(`## ${section}`);
      // No stack trace and no secret made it into the commit.
      expect(readme).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
      expect(await git(clone.dir, "log", "-p", "--all")).not.toContain(harness.env.STUDENT_SECRET);
    } finally {
      await clone.cleanup();
    }
    // Pages serves the notice page, which says the same.
    const live = await fetch(report.pages_url!).then((r) => r.text());
    expect(live).toContain("could not be built");

    const round = await roundOf(harness, ack.body.task_id, 1, request.nonce as string);
    expect(round).toMatchObject({
      status: "succeeded",
      outcome: "fallback",
      degraded: true,
      error: null,
      result: { repo_url: report.repo_url, commit_sha: report.commit_sha, pages_url: report.pages_url },
    });
    expect(round.outcome_reason).toMatch(/^the model's answers could not be read as an app: the model's answer could not be used twice in a row/);
    expect(round.build.fallback).toMatchObject({ code: "generation-unparseable", withheld: [] });
    const names = round.events.map((e: { name: string }) => e.name);
    expect(names).toEqual(expect.arrayContaining(["build-fallback", "round-outcome", "report-deliver", "round-finish"]));
    expect(names).not.toContain("round-fail");
    const summary = await harness.get(`/api/v1/tasks?task=silent-task`);
    expect(summary.body.items[0].latest_round).toMatchObject({ status: "succeeded", outcome: "fallback" });
  });

  it("with no model configured at all, the round still reports a fallback commit and says so", async () => {
    harness = await startHarness({ dialect, fixtures: [garbage], env: { VERIFY: "false", VLLM_ENDPOINT: "", ROUND_DEADLINE_SECONDS: String(deadlineSeconds) } });
    expect((await harness.get("/health")).body.llm.configured).toBe(false);
    const request = await silentRequest(harness, "silent-no-model: publish a sales summary of data.csv");
    const acceptedAt = Date.now();
    const ack = await harness.post(request);
    const received = await harness.receiver.waitFor((r) => r.body.nonce === request.nonce, deadlineSeconds * 1000);
    expect(received.at).toBeLessThan(acceptedAt + deadlineSeconds * 1000);
    expect(harness.llm.requests).toHaveLength(0);

    const clone = await cloneAt(String(received.body.repo_url), String(received.body.commit_sha));
    try {
      expect((await git(clone.dir, "ls-files")).split("\n").sort()).toEqual([".nojekyll", "LICENSE", "README.md", "data.csv", "index.html"]);
      expect(await readFile(join(clone.dir, "README.md"), "utf8")).toContain("no language model is configured");
    } finally {
      await clone.cleanup();
    }
    const round = await roundOf(harness, ack.body.task_id, 1, request.nonce as string);
    expect(round).toMatchObject({ status: "succeeded", outcome: "fallback", degraded: true });
    expect(round.outcome_reason).toMatch(/^no language model is configured/);
    expect(round.build.fallback.code).toBe("llm-not-configured");
  });

  it("a model too slow for the round's budget: the call is cut off and the fallback reports before the deadline", async () => {
    const slow: FixtureFile = { fixtures: [{ match: ["silent-slow"], responses: [{ delay_ms: 120_000, files: { "index.html": page("Slow", "<p>late</p>") } }] }] };
    const deadline = 30;
    harness = await startHarness({ dialect, fixtures: [slow], env: { VERIFY: "false", ROUND_DEADLINE_SECONDS: String(deadline) } });
    const request = await silentRequest(harness, "silent-slow: a page");
    const acceptedAt = Date.now();
    const ack = await harness.post(request);
    const received = await harness.receiver.waitFor((r) => r.body.nonce === request.nonce, deadline * 1000);
    expect(received.at).toBeLessThan(acceptedAt + deadline * 1000);
    const round = await roundOf(harness, ack.body.task_id, 1, request.nonce as string);
    expect(round).toMatchObject({ status: "succeeded", outcome: "fallback", build: { fallback: { code: "deadline-exceeded" } } });
    expect(round.outcome_reason).toMatch(/^the round's time ran out before an app was built: the build was cut off at its time limit/);
    expect(await fetch(String(received.body.pages_url)).then((r) => r.text())).toContain("could not be built");
  });

  it("a gate that blocks every answer (a token in each) ships the fallback, and the token is nowhere", async () => {
    const token = ["ghp", "_", "Zy3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"].join("");
    const leaky: FixtureFile = {
      fixtures: [{ match: ["silent-leaky"], responses: [{ files: { "index.html": page("Leaky", `<script>const token = "${token}";</script>`) } }] }],
    };
    harness = await startHarness({ dialect, fixtures: [leaky], env: { VERIFY: "false", BUILD_MAX_ATTEMPTS: "2" } });
    const request = await silentRequest(harness, "silent-leaky: a page that calls the API");
    const ack = await harness.post(request);
    const report = (await harness.receiver.waitFor((r) => r.body.nonce === request.nonce)).body as Record<string, string>;
    expect(harness.llm.requests.filter((r) => r.fileProducing)).toHaveLength(2);
    const clone = await cloneAt(report.repo_url!, report.commit_sha!);
    try {
      expect((await git(clone.dir, "ls-files")).split("\n").sort()).toEqual([".nojekyll", "LICENSE", "README.md", "data.csv", "index.html"]);
      expect(await git(clone.dir, "log", "--all", "-p")).not.toContain(token);
      expect(await readFile(join(clone.dir, "README.md"), "utf8")).toContain("the safety gate blocked every answer the model gave");
    } finally {
      await clone.cleanup();
    }
    const round = await roundOf(harness, ack.body.task_id, 1, request.nonce as string);
    expect(round).toMatchObject({ status: "succeeded", outcome: "fallback", build: { fallback: { code: "gate-rejected" } } });
    expect(round.outcome_reason).toMatch(/secret/);
    expect(JSON.stringify(await harness.get(`/api/v1/tasks/${ack.body.task_id}`))).not.toContain(token);
  });

  it("a round 2 that cannot be built keeps round 1's app, explains itself in the README, and reports", async () => {
    harness = await startHarness({ dialect, fixtures: [garbage], env: { VERIFY: "false", README_PROSE: "false" } });
    const first = await silentRequest(harness, "silent-round-one: a page with #one");
    const ack = await harness.post(first);
    const report1 = (await harness.receiver.waitFor((r) => r.body.nonce === first.nonce)).body as Record<string, string>;
    const second = await silentRequest(harness, "silent-garbage: add a chart", { round: 2, attachments: [] });
    await harness.post(second);
    const report2 = (await harness.receiver.waitFor((r) => r.body.nonce === second.nonce)).body as Record<string, string>;
    expect(report2.repo_url).toBe(report1.repo_url);

    const clone = await cloneAt(report2.repo_url!, report2.commit_sha!);
    try {
      expect(await git(clone.dir, "rev-parse", "HEAD^")).toBe(report1.commit_sha);
      // Round 1's files are untouched; only the README changed.
      expect(await git(clone.dir, "diff", "--name-only", "HEAD^", "HEAD")).toBe("README.md");
      expect(await readFile(join(clone.dir, "index.html"), "utf8")).toBe(page("Round one", '<p id="one">one</p>'));
      const readme = await readFile(join(clone.dir, "README.md"), "utf8");
      expect(readme).toContain("Round 2's changes were not made; the app is as round 1 left it");
      expect(readme).toContain("> silent-garbage: add a chart");
    } finally {
      await clone.cleanup();
    }
    const round1 = await roundOf(harness, ack.body.task_id, 1, first.nonce as string);
    const round2 = await roundOf(harness, ack.body.task_id, 2, second.nonce as string);
    expect([round1.outcome, round2.outcome]).toEqual(["built", "fallback"]);
    expect([round1.degraded, round2.degraded]).toEqual([false, true]);
    expect(round1.outcome_reason).toBeNull();
  });

  it("when no candidate passes its checks, the best one ships and the API calls it best-effort", async () => {
    const failing: FixtureFile = {
      fixtures: [{ match: ["silent-best-effort"], responses: [{ files: { "index.html": page("Totals", '<p id="total">0</p>') } }] }],
    };
    harness = await startHarness({ dialect, fixtures: [failing], env: { REPAIR_MAX_ATTEMPTS: "1", README_PROSE: "false", CHECK_TIMEOUT_SECONDS: "2" } });
    const request = await silentRequest(harness, "silent-best-effort: a page showing 42 in #total", {
      checks: ["js: document.querySelector('#total').textContent === '42'", "js: !!document.querySelector('#total')"],
    });
    const ack = await harness.post(request);
    const report = (await harness.receiver.waitFor((r) => r.body.nonce === request.nonce, 60_000)).body as Record<string, string>;
    expect(await fetch(report.pages_url!).then((r) => r.text())).toBe(page("Totals", '<p id="total">0</p>'));
    const round = await roundOf(harness, ack.body.task_id, 1, request.nonce as string);
    expect(round).toMatchObject({ status: "succeeded", outcome: "best-effort", degraded: true });
    expect(round.outcome_reason).toMatch(/^no candidate passed every check; the best passes \d+ of \d+ \(failing: .*'42'/);
    expect(round.build.fallback).toBeNull();
  });
});
