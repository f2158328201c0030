import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeDialects } from "../support/store-dialects.ts";
import { apiKeyHeaders, cloneAt, git, sharedFixtures, startHarness, type Harness } from "../support/service-harness.ts";

// Issue 9, part 8 (and done-when 6): the course re-sent round 1 with new nonces and graded only a
// repository created after the request. A round 1 with a new nonce builds afresh in a new
// repository and reports its own URLs; the same nonce again is still one report; a round 2
// afterwards revises the newest round 1's repository.
const dialect = storeDialects[0]!;

describe(`round 1 again with a new nonce on ${dialect.name}`, () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ dialect, fixtures: join(sharedFixtures, "llm"), env: { VERIFY: "false", README_PROSE: "false" } });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it("builds in a fresh repository, reports it once, and round 2 revises that one", async () => {
    const first = await harness.request("sum-of-sales-r1");
    const ack1 = await harness.post(first);
    const report1 = (await harness.receiver.waitFor((r) => r.body.nonce === first.nonce)).body as Record<string, string>;

    const again = { ...first, nonce: `${first.nonce}-again` };
    const requestedAt = Date.now();
    const ack2 = await harness.post(again);
    expect(ack2.body).toMatchObject({ status: "accepted", task_id: ack1.body.task_id, duplicate: false });
    expect(ack2.body.round_id).not.toBe(ack1.body.round_id);
    const report2 = (await harness.receiver.waitFor((r) => r.body.nonce === again.nonce)).body as Record<string, string>;
    expect(report2).toMatchObject({ task: first.task, round: 1, nonce: again.nonce });
    expect(report2.repo_url).not.toBe(report1.repo_url);
    expect(report2.pages_url).not.toBe(report1.pages_url);
    expect(report2.repo_url).toMatch(/\/git\/sum-of-sales-7f3a9-2$/);
    expect(report2.pages_url).toMatch(/\/pages\/sum-of-sales-7f3a9-2\/$/);

    // A new repository: the reported commit is its first and only one, made after the request.
    const clone2 = await cloneAt(report2.repo_url!, report2.commit_sha!);
    try {
      expect(await git(clone2.dir, "rev-list", "--count", "HEAD")).toBe("1");
      expect(Number(await git(clone2.dir, "log", "-1", "--format=%ct"))).toBeGreaterThanOrEqual(Math.floor(requestedAt / 1000));
      expect((await git(clone2.dir, "ls-files")).split("\n")).toEqual(expect.arrayContaining(["index.html", "LICENSE", "README.md", "data.csv"]));
    } finally {
      await clone2.cleanup();
    }
    // The first repository is as round 1 left it.
    const clone1 = await cloneAt(report1.repo_url!, report1.commit_sha!);
    try {
      expect(await git(clone1.dir, "rev-parse", "origin/HEAD")).toBe(report1.commit_sha);
    } finally {
      await clone1.cleanup();
    }
    expect(await fetch(report2.pages_url!).then((r) => r.status)).toBe(200);

    // The same nonce again is a duplicate: the same round, no new job.
    const jobsBefore = (await harness.service.app.inject({ method: "GET", url: "/health", headers: apiKeyHeaders })).json().queue.jobs;
    const repeat = await harness.post(again);
    expect(repeat.body).toMatchObject({ task_id: ack1.body.task_id, round_id: ack2.body.round_id, duplicate: true });
    expect((await harness.service.app.inject({ method: "GET", url: "/health", headers: apiKeyHeaders })).json().queue.jobs).toEqual(jobsBefore);

    // Round 2 revises the newest round 1's repository.
    const second = await harness.request("sum-of-sales-r2");
    await harness.post(second);
    const report3 = (await harness.receiver.waitFor((r) => r.body.nonce === second.nonce)).body as Record<string, string>;
    expect(report3.repo_url).toBe(report2.repo_url);
    expect(report3.pages_url).toBe(report2.pages_url);
    const clone3 = await cloneAt(report3.repo_url!, report3.commit_sha!);
    try {
      expect(await git(clone3.dir, "rev-parse", "HEAD^")).toBe(report2.commit_sha);
      // Its history is the round 1 of its own repository only: one round 1 in the README.
      const readme = await git(clone3.dir, "show", "HEAD:README.md");
      expect(readme.match(/^### Round 1$/gm)).toHaveLength(1);
      expect(readme).toContain("### Round 2");
    } finally {
      await clone3.cleanup();
    }

    // By now a wrongly started second run of the duplicate would have reported too.
    expect(harness.receiver.received.filter((r) => r.body.nonce === again.nonce)).toHaveLength(1);
    expect(harness.receiver.received.filter((r) => r.body.nonce === first.nonce)).toHaveLength(1);

    const task = await harness.get(`/api/v1/tasks/${ack1.body.task_id}`);
    expect(task.body.repo).toBe("sum-of-sales-7f3a9");
    expect(task.body.rounds.map((r: { round: number; nonce: string; repo: string }) => [r.round, r.nonce, r.repo])).toEqual([
      [1, first.nonce, "sum-of-sales-7f3a9"],
      [1, again.nonce, "sum-of-sales-7f3a9-2"],
      [2, second.nonce, "sum-of-sales-7f3a9-2"],
    ]);
  });
});
