import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeDataUri } from "../../src/domain/attachment.ts";
import { storeDialects } from "../support/store-dialects.ts";
import { cloneAt, git, sharedFixtures, startHarness, type Harness } from "../support/service-harness.ts";

// Done-when 1 of the foundation issue: the course's requests, round 1 then round 2, on every store.
describe.each(storeDialects)("course rounds end to end on $name", (dialect) => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ dialect, fixtures: join(sharedFixtures, "llm") });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it.each(["sum-of-sales", "markdown-to-html"])("%s: round 1 deploys, round 2 revises the same repository", async (name) => {
    const reports = [];
    for (const round of [1, 2]) {
      const request = await harness.request(`${name}-r${round}`);
      const ack = await harness.post(request);
      expect(ack.status).toBe(200);
      expect(ack.body).toMatchObject({ status: "accepted", task: request.task, round, nonce: request.nonce, duplicate: false });
      const received = await harness.receiver.waitFor((r) => r.body.nonce === request.nonce);
      expect(received.contentType).toMatch(/^application\/json/);
      const report = received.body as Record<string, string | number>;
      expect(Object.keys(report).sort()).toEqual(["commit_sha", "email", "nonce", "pages_url", "repo_url", "round", "task"]);
      expect(report).toMatchObject({ email: request.email, task: request.task, round, nonce: request.nonce });
      expect(report.commit_sha).toMatch(/^[0-9a-f]{40}$/);
      expect(report.pages_url).toMatch(/\/pages\/[a-z0-9._-]+\/$/);
      reports.push(report);

      const clone = await cloneAt(String(report.repo_url), String(report.commit_sha));
      try {
        const files = (await git(clone.dir, "ls-files")).split("\n");
        expect(files).toEqual(expect.arrayContaining(["index.html", "LICENSE", "README.md"]));
        expect(await readFile(join(clone.dir, "LICENSE"), "utf8")).toMatch(/^MIT License[\s\S]*Permission is hereby granted, free of charge/);
        const readme = await readFile(join(clone.dir, "README.md"), "utf8");
        for (const section of ["Summary", "Setup", "Usage", "Code explanation", "License"]) expect(readme).toContain(`## ${section}`);
        expect(readme).toContain(String(report.pages_url));
        // Attachments of every round so far, byte for byte.
        const r1 = await harness.request(`${name}-r1`);
        for (const attachment of r1.attachments as { name: string; url: string }[]) {
          const onDisk = await readFile(join(clone.dir, attachment.name));
          expect(onDisk.equals(decodeDataUri(attachment.url, 1e7).content)).toBe(true);
        }
        // Pages serves exactly this commit's index.html.
        const page = await fetch(String(report.pages_url));
        expect(page.status).toBe(200);
        expect(page.headers.get("content-type")).toMatch(/^text\/html/);
        expect(Buffer.from(await page.arrayBuffer()).equals(await readFile(join(clone.dir, "index.html")))).toBe(true);
        if (round === 2) {
          expect(readme).toContain("### Round 2");
          expect(report.repo_url).toBe(reports[0]!.repo_url);
          expect(report.commit_sha).not.toBe(reports[0]!.commit_sha);
          expect(await git(clone.dir, "rev-parse", "HEAD^")).toBe(reports[0]!.commit_sha);
        }
      } finally {
        await clone.cleanup();
      }
    }
    // The reference round-2 answers carry the new features.
    const latest = await fetch(String(reports[1]!.pages_url)).then((r) => r.text());
    expect(latest).toContain(name === "sum-of-sales" ? 'id="product-sales"' : "markdown-word-count");

    // The task API shows both rounds with stages, files and the delivered report; the live
    // check runs after the report, so wait for it.
    const ack = await harness.post(await harness.request(`${name}-r1`));
    let task = await harness.get(`/api/v1/tasks/${ack.body.task_id}`);
    for (let i = 0; i < 100 && !task.body.rounds.every((r: { live_check: unknown }) => r.live_check); i++) {
      await new Promise((r) => setTimeout(r, 100));
      task = await harness.get(`/api/v1/tasks/${ack.body.task_id}`);
    }
    expect(task.status).toBe(200);
    expect(task.body.rounds.map((r: { round: number; status: string }) => [r.round, r.status])).toEqual([
      [1, "succeeded"],
      [2, "succeeded"],
    ]);
    const round1 = task.body.rounds[0];
    expect(round1.stages.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual([
      "analyze:succeeded",
      "build:succeeded",
      "deploy:succeeded",
      "report:succeeded",
      "live-check:succeeded",
    ]);
    // Verified before deploy and again live: every check of both rounds passed, with the CDN
    // libraries (Bootstrap, marked, highlight.js) served by the offline mirror.
    for (const round of task.body.rounds) {
      const chosen = round.build.attempts.find((a: { attempt: number }) => a.attempt === round.build.chosen_attempt);
      expect(chosen.verdict.passed).toBe(true);
      expect(chosen.verdict.checks.filter((c: { kind: string }) => c.kind === "js").length).toBeGreaterThanOrEqual(2);
      expect(round.live_check).toMatchObject({ passed: true, differences: [] });
    }
    expect(task.body.rounds[1].build.attempts[0].verdict.checks.some((c: { origin: string }) => c.origin === "earlier")).toBe(true);
    expect(round1.files).toEqual(expect.arrayContaining(["index.html", "LICENSE", "README.md"]));
    expect(round1.report_attempts).toHaveLength(1);
    expect(round1.report_attempts[0].status_code).toBe(200);
    expect(round1.events.map((e: { name: string }) => e.name)).toEqual(
      expect.arrayContaining(["round-accept", "stage-start", "llm-usage", "commit-create", "report-deliver", "round-finish"]),
    );
    // The README's prose came from the model: the scripted server answers the schema-constrained
    // README call itself (PROTOCOL §6), without taking a fixture response.
    for (const round of task.body.rounds) {
      const write = round.events.find((e: { name: string }) => e.name === "readme-write");
      expect(write.data).toEqual({ source: "model", reason: null });
    }
  });
});
