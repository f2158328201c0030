import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createStore, parseDatabaseUrl } from "../../src/adapters/store/create-store.ts";
import type { KyselyStore } from "../../src/adapters/store/kysely-store.ts";
import { migrateToLatest, migrations } from "../../src/adapters/store/migrations.ts";

const migrationNames = migrations.map((m) => m.name);
import { NotFoundError, StoreError, ValidationError } from "../../src/domain/errors.ts";
import type { TaskRequest } from "../../src/domain/task.ts";
import type { AcceptRoundInput, StageRecord } from "../../src/ports/store.ts";
import { storeDialects } from "../support/store-dialects.ts";

function request(overrides: Partial<TaskRequest> = {}): TaskRequest {
  return {
    email: "student@example.com",
    task: "captcha-solver-1a2b3",
    round: 1,
    nonce: "nonce-1",
    brief: "Make a page that solves a captcha.",
    checks: ["Repo has MIT license", { js: "document.title.length > 0" }],
    evaluationUrl: "https://evaluator.example.com/notify",
    attachments: [{ name: "sample.png", url: "data:image/png;base64,iVBORw0KGgo=" }],
    ...overrides,
  };
}

function accept(overrides: Partial<TaskRequest> = {}, extra: Partial<Omit<AcceptRoundInput, "request">> = {}): AcceptRoundInput {
  const req = request(overrides);
  return { request: req, repoNameCandidate: req.task, deadlineAt: 1_000_600_000, now: 1_000_000_000, ...extra };
}

describe.each(storeDialects)("Store contract on $name", (dialect) => {
  let store: KyselyStore;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ store, cleanup } = await dialect.openStore());
  });
  afterEach(async () => {
    await cleanup();
  });

  describe("migrate and basics", () => {
    it("reports its dialect, answers ping, and migrates again without complaint", async () => {
      expect(store.dialect).toBe(dialect.name);
      await store.ping();
      await store.migrate();
      await store.migrate();
      expect(await store.counts()).toEqual({ tasks: 0, rounds: 0, jobs: 0 });
    });

    it("returns times as JS numbers beyond 32 bits", async () => {
      const now = 1_760_000_000_123;
      const accepted = await store.acceptRound(accept({}, { now, deadlineAt: now + 600_000 }));
      const round = await store.getRound(accepted.roundId);
      expect(round?.createdAt).toBe(now);
      expect(round?.deadlineAt).toBe(now + 600_000);
      expect(typeof round?.createdAt).toBe("number");
    });
  });

  describe("acceptRound", () => {
    it("writes the task, the round and its run-round job", async () => {
      const result = await store.acceptRound(accept());
      expect(result.created).toBe(true);
      expect(await store.counts()).toEqual({ tasks: 1, rounds: 1, jobs: 1 });

      const task = await store.getTask(result.taskId);
      expect(task).toMatchObject({
        id: result.taskId,
        name: "captcha-solver-1a2b3",
        email: "student@example.com",
        repoName: "captcha-solver-1a2b3",
        status: "queued",
        createdAt: 1_000_000_000,
      });
      expect(task?.rounds).toHaveLength(1);
      expect(task?.rounds[0]).toMatchObject({ id: result.roundId, round: 1, nonce: "nonce-1", status: "queued", startedAt: null, result: null });
      expect(task?.rounds[0]?.request).toEqual(request());

      const job = await store.db.selectFrom("jobs").selectAll().where("id", "=", result.jobId).executeTakeFirstOrThrow();
      expect(job).toMatchObject({ name: "run-round", status: "queued", attempts: 0, max_attempts: 5, run_at: 1_000_000_000 });
      expect(JSON.parse(job.payload_json)).toEqual({ roundId: result.roundId });
    });

    it("is idempotent on (task, round, nonce): a repeat writes nothing and returns the same ids", async () => {
      const first = await store.acceptRound(accept());
      expect(first.storedRequestDiffers).toBe(false);
      const retry = await store.acceptRound(accept({}, { now: 1_500_000_000 }));
      expect(retry).toEqual({ ...first, created: false, storedRequestDiffers: false });
      const repeat = await store.acceptRound(accept({ brief: "a different brief" }, { now: 2_000_000_000 }));
      // Nothing written either way; the caller refuses the reused nonce (409).
      expect(repeat).toEqual({ ...first, created: false, storedRequestDiffers: true });
      expect(await store.counts()).toEqual({ tasks: 1, rounds: 1, jobs: 1 });
      const round = await store.getRound(first.roundId);
      expect(round?.request.brief).toBe(request().brief);
      const task = await store.getTask(first.taskId);
      expect(task?.updatedAt).toBe(1_000_000_000);
    });

    it("stores a new round's firstEvents with it (seq 1 …), and asks a repeat for none", async () => {
      const asked: unknown[] = [];
      const firstEvents = (accepted: { taskId: string; roundId: string }) => {
        asked.push(accepted);
        return [
          { name: "round-accept", at: 5, payload: { taskId: accepted.taskId } },
          { name: "second", at: 6, payload: null },
        ];
      };
      const first = await store.acceptRound({ ...accept(), firstEvents });
      expect(asked).toEqual([first]);
      expect(await store.listEvents(first.roundId)).toEqual([
        { seq: 1, name: "round-accept", at: 5, payload: { taskId: first.taskId } },
        { seq: 2, name: "second", at: 6, payload: null },
      ]);
      const repeat = await store.acceptRound({ ...accept(), firstEvents });
      expect(repeat.created).toBe(false);
      expect(asked).toHaveLength(1);
      await store.appendEvents(first.roundId, [{ name: "later", at: 7, payload: 1 }]);
      expect((await store.listEvents(first.roundId)).map((e) => e.seq)).toEqual([1, 2, 3]);
    });

    it("adds a round to an existing task for a new round number or nonce", async () => {
      const first = await store.acceptRound(accept());
      const secondRound = await store.acceptRound(accept({ round: 2, nonce: "nonce-2" }, { now: 1_000_000_100 }));
      const sameRoundNewNonce = await store.acceptRound(accept({ nonce: "nonce-1b" }, { now: 1_000_000_200 }));
      expect(secondRound.created && sameRoundNewNonce.created).toBe(true);
      expect(new Set([first.taskId, secondRound.taskId, sameRoundNewNonce.taskId]).size).toBe(1);
      expect(new Set([first.roundId, secondRound.roundId, sameRoundNewNonce.roundId]).size).toBe(3);
      expect(await store.counts()).toEqual({ tasks: 1, rounds: 3, jobs: 3 });
      const task = await store.getTask(first.taskId);
      expect(task?.rounds.map((r) => [r.round, r.nonce])).toEqual([
        [1, "nonce-1"],
        [1, "nonce-1b"],
        [2, "nonce-2"],
      ]);
    });

    it("gives a round 1 with a new nonce a fresh repository; the same request again and later rounds claim none", async () => {
      const first = await store.acceptRound(accept());
      const again = await store.acceptRound(accept({ nonce: "nonce-2" }, { now: 1_000_000_100 }));
      const duplicate = await store.acceptRound(accept({ nonce: "nonce-2" }, { now: 1_000_000_150 }));
      const round2 = await store.acceptRound(accept({ round: 2, nonce: "nonce-r2" }, { now: 1_000_000_200 }));
      const third = await store.acceptRound(accept({ nonce: "nonce-3" }, { now: 1_000_000_300 }));
      expect(duplicate).toEqual({ ...again, created: false });
      const repoOf = async (roundId: string) => (await store.getRound(roundId))?.repoName;
      expect(await repoOf(first.roundId)).toBe("captcha-solver-1a2b3");
      expect(await repoOf(again.roundId)).toBe("captcha-solver-1a2b3-2");
      // The duplicate claimed nothing: the next new nonce gets -3, not -4.
      expect(await repoOf(third.roundId)).toBe("captcha-solver-1a2b3-3");
      // A later round's repository is chosen when it runs, not here.
      expect(await repoOf(round2.roundId)).toBeNull();
      // The task keeps its first repository.
      expect((await store.getTask(first.taskId))?.repoName).toBe("captcha-solver-1a2b3");
      expect(await store.counts()).toEqual({ tasks: 1, rounds: 4, jobs: 4 });

      // Names given to repeated rounds are taken for new tasks too.
      const other = await store.acceptRound(accept({ task: "other-task" }, { repoNameCandidate: "captcha-solver-1a2b3-2" }));
      expect((await store.getTask(other.taskId))?.repoName).toBe("captcha-solver-1a2b3-2-2");
      expect(await repoOf(other.roundId)).toBe("captcha-solver-1a2b3-2-2");
    });

    it("a task whose first request was a later round builds its first round 1 in the task's repository", async () => {
      const round2 = await store.acceptRound(accept({ round: 2, nonce: "r2" }));
      const round1 = await store.acceptRound(accept({ round: 1, nonce: "r1" }, { now: 1_000_000_100 }));
      expect((await store.getRound(round2.roundId))?.repoName).toBeNull();
      expect((await store.getRound(round1.roundId))?.repoName).toBe("captcha-solver-1a2b3");
    });

    it("accepts identical concurrent requests exactly once", async () => {
      const results = await Promise.all(Array.from({ length: 12 }, () => store.acceptRound(accept())));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => `${r.taskId}/${r.roundId}/${r.jobId}`)).size).toBe(1);
      expect(await store.counts()).toEqual({ tasks: 1, rounds: 1, jobs: 1 });
    });

    it("accepts concurrent new rounds of one new task as one task", async () => {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.acceptRound(accept({ round: 1, nonce: `nonce-${i}` }))),
      );
      expect(results.every((r) => r.created)).toBe(true);
      expect(new Set(results.map((r) => r.taskId)).size).toBe(1);
      expect(await store.counts()).toEqual({ tasks: 1, rounds: 8, jobs: 8 });
      // Each round 1 has a repository of its own: the task's, then -2 … -8.
      const names = await Promise.all(results.map(async (r) => (await store.getRound(r.roundId))?.repoName));
      expect([...names].sort()).toEqual(["captcha-solver-1a2b3", ...[2, 3, 4, 5, 6, 7, 8].map((n) => `captcha-solver-1a2b3-${n}`)].sort());
    });

    it("gives each task a unique repository name: candidate, then -2, -3 …", async () => {
      const a = await store.acceptRound(accept({ task: "task-a" }, { repoNameCandidate: "app" }));
      const b = await store.acceptRound(accept({ task: "task-b" }, { repoNameCandidate: "app" }));
      const c = await store.acceptRound(accept({ task: "task-c" }, { repoNameCandidate: "app" }));
      // A candidate that looks like a suffixed name is a name of its own.
      const d = await store.acceptRound(accept({ task: "task-d" }, { repoNameCandidate: "app-2" }));
      // A gap is reused.
      const e = await store.acceptRound(accept({ task: "task-e" }, { repoNameCandidate: "web_app" }));
      const names = await Promise.all([a, b, c, d, e].map(async (r) => (await store.getTask(r.taskId))?.repoName));
      expect(names).toEqual(["app", "app-2", "app-3", "app-2-2", "web_app"]);
      // A repeat of an existing task keeps its name whatever the candidate.
      const again = await store.acceptRound(accept({ task: "task-b", round: 2 }, { repoNameCandidate: "other" }));
      expect((await store.getTask(again.taskId))?.repoName).toBe("app-2");
    });

    it("keeps repository names unique under concurrent new tasks", async () => {
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => store.acceptRound(accept({ task: `race-${i}` }, { repoNameCandidate: "shared" }))),
      );
      const names = await Promise.all(results.map(async (r) => (await store.getTask(r.taskId))?.repoName));
      expect([...names].sort()).toEqual(["shared", "shared-2", "shared-3", "shared-4", "shared-5", "shared-6"]);
    });

    it("is atomic: when the job insert fails, no task or round is left behind", async () => {
      await installFailingJobTrigger(store);
      const failure = await store.acceptRound(accept()).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(StoreError);
      expect((failure as StoreError).cause).toBeDefined();
      expect(await store.counts()).toEqual({ tasks: 0, rounds: 0, jobs: 0 });

      // The connection is usable afterwards (no transaction left open) and the retry succeeds.
      await removeFailingJobTrigger(store);
      const retry = await store.acceptRound(accept());
      expect(retry.created).toBe(true);
      expect(await store.counts()).toEqual({ tasks: 1, rounds: 1, jobs: 1 });
    });
  });

  describe("concurrent writes (SQLite writes them in one group commit)", () => {
    it("fails one accept alone: the others that ran beside it are stored", async () => {
      await installDoomedTaskTrigger(store);
      const results = await Promise.allSettled(
        ["task-a", "doomed", "task-b", "task-c"].map((task) => store.acceptRound(accept({ task }, { repoNameCandidate: task }))),
      );
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
      expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(StoreError);
      expect(await store.counts()).toEqual({ tasks: 3, rounds: 3, jobs: 3 });
      expect((await store.listTasks({ task: "doomed", limit: 1 })).items).toEqual([]);
      for (const result of results) {
        if (result.status === "fulfilled") expect((await store.getRound(result.value.roundId))?.status).toBe("queued");
      }
    });

    it("fails an append to an unknown round alone, and keeps concurrent appends and accepts", async () => {
      const { roundId } = await store.acceptRound(accept());
      const results = await Promise.allSettled([
        store.appendEvents(roundId, [{ name: "one", at: 1, payload: null }]),
        store.appendEvents("no-such-round", [{ name: "lost", at: 1, payload: null }]),
        store.acceptRound(accept({ task: "second" })),
        store.appendEvents(roundId, [{ name: "two", at: 2, payload: { n: 2 } }]),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
      expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(NotFoundError);
      expect((await store.listEvents(roundId)).map((e) => [e.seq, e.name])).toEqual([
        [1, "one"],
        [2, "two"],
      ]);
      expect(await store.counts()).toEqual({ tasks: 2, rounds: 2, jobs: 2 });
    });

    it("writes every accept that was asked for before close, and refuses later ones", async () => {
      const pending = Array.from({ length: 40 }, (_, i) => store.acceptRound(accept({ task: `closing-${i}` })));
      await store.close();
      const results = await Promise.all(pending);
      expect(results.every((r) => r.created)).toBe(true);
      await expect(store.acceptRound(accept({ task: "too-late" }))).rejects.toBeInstanceOf(StoreError);
    });
  });

  describe("rounds", () => {
    it("updates fields, mirrors the latest round's status on the task, and clears errors", async () => {
      const r1 = await store.acceptRound(accept());
      await store.updateRound(r1.roundId, { status: "running", startedAt: 1_000_000_010, now: 1_000_000_010 });
      expect((await store.getTask(r1.taskId))?.status).toBe("running");

      await store.updateRound(r1.roundId, { status: "failed", error: "boom", finishedAt: 1_000_000_020, now: 1_000_000_020 });
      let round = await store.getRound(r1.roundId);
      expect(round).toMatchObject({ status: "failed", error: "boom", startedAt: 1_000_000_010, finishedAt: 1_000_000_020 });
      const task = await store.getTask(r1.taskId);
      expect(task).toMatchObject({ status: "failed", updatedAt: 1_000_000_020 });

      const result = { repoUrl: "https://git.example/r", commitSha: "abc123", pagesUrl: "https://pages.example/r/" };
      await store.updateRound(r1.roundId, { status: "succeeded", error: null, result, reportedAt: 1_000_000_030, now: 1_000_000_030 });
      round = await store.getRound(r1.roundId);
      expect(round).toMatchObject({ status: "succeeded", error: null, result, reportedAt: 1_000_000_030 });

      // A new round becomes the latest; finishing an older one does not change the task's status.
      const r2 = await store.acceptRound(accept({ round: 2, nonce: "n2" }, { now: 1_000_000_040 }));
      expect((await store.getTask(r1.taskId))?.status).toBe("queued");
      await store.updateRound(r1.roundId, { status: "failed", now: 1_000_000_050 });
      expect((await store.getTask(r1.taskId))?.status).toBe("queued");
      await store.updateRound(r2.roundId, { status: "running", now: 1_000_000_060 });
      expect((await store.getTask(r1.taskId))?.status).toBe("running");
      // A late first-round request with a fresh nonce is not the latest round.
      await store.acceptRound(accept({ round: 1, nonce: "late" }, { now: 1_000_000_070 }));
      expect((await store.getTask(r1.taskId))?.status).toBe("running");
    });

    it("records the repository a round used and what it shipped", async () => {
      const r1 = await store.acceptRound(accept());
      expect(await store.getRound(r1.roundId)).toMatchObject({ repoName: "captcha-solver-1a2b3", outcome: null });
      const r2 = await store.acceptRound(accept({ round: 2, nonce: "n2" }));
      // The forge's answer is what is recorded, whatever was asked for.
      await store.updateRound(r2.roundId, { repoName: "captcha-solver-1a2b3-7", now: 1_000_000_010 });
      await store.updateRound(r2.roundId, { outcome: { kind: "fallback", reason: "the model answered nothing usable" }, now: 1_000_000_020 });
      expect(await store.getRound(r2.roundId)).toMatchObject({
        repoName: "captcha-solver-1a2b3-7",
        outcome: { kind: "fallback", reason: "the model answered nothing usable" },
      });
      await store.updateRound(r2.roundId, { outcome: { kind: "built", reason: null }, status: "succeeded", now: 1_000_000_030 });
      const task = await store.getTask(r1.taskId);
      expect(task?.rounds.map((r) => [r.round, r.repoName, r.outcome])).toEqual([
        [1, "captcha-solver-1a2b3", null],
        [2, "captcha-solver-1a2b3-7", { kind: "built", reason: null }],
      ]);
      const page = await store.listTasks({ limit: 10 });
      expect(page.items[0]?.rounds[1]).toMatchObject({ repoName: "captcha-solver-1a2b3-7", outcome: { kind: "built", reason: null } });
      // The forge's name is taken: a new task asking for it gets a suffix.
      const other = await store.acceptRound(accept({ task: "other" }, { repoNameCandidate: "captcha-solver-1a2b3-7" }));
      expect((await store.getTask(other.taskId))?.repoName).toBe("captcha-solver-1a2b3-7-2");
      // Recording a name the round already holds is harmless.
      await store.updateRound(r1.roundId, { repoName: "captcha-solver-1a2b3", now: 1_000_000_040 });
      expect((await store.getRound(r1.roundId))?.repoName).toBe("captcha-solver-1a2b3");
    });

    it("rejects updates of an unknown round with NotFoundError", async () => {
      await expect(store.updateRound("no-such-round", { status: "running", now: 1 })).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.updateRound("no-such-round", { now: 1 })).rejects.toBeInstanceOf(NotFoundError);
      expect(await store.getRound("no-such-round")).toBeUndefined();
      expect(await store.getTask("no-such-task")).toBeUndefined();
    });

    it("lists earlier succeeded rounds, oldest first", async () => {
      const rounds = [];
      for (const n of [1, 2, 3, 4]) rounds.push(await store.acceptRound(accept({ round: n, nonce: `n${n}` }, { now: 1_000_000_000 + n })));
      await store.updateRound(rounds[0]!.roundId, { status: "succeeded", now: 1_000_000_100 });
      await store.updateRound(rounds[1]!.roundId, { status: "failed", now: 1_000_000_100 });
      await store.updateRound(rounds[2]!.roundId, { status: "succeeded", now: 1_000_000_100 });
      await store.updateRound(rounds[3]!.roundId, { status: "succeeded", now: 1_000_000_100 });
      const prior = await store.listPriorRounds(rounds[0]!.taskId, 4);
      expect(prior.map((r) => r.round)).toEqual([1, 3]);
      expect(await store.listPriorRounds(rounds[0]!.taskId, 1)).toEqual([]);
    });

    it("lists recently succeeded rounds whose live check never finished, oldest first", async () => {
      const at = 1_000_000_000;
      const rounds = [];
      for (const n of [1, 2, 3, 4, 5, 6]) rounds.push(await store.acceptRound(accept({ task: `live-${n}` }, { now: at + n })));
      const [tooOld, checked, checkFailed, cutOff, never, stillRunning] = rounds.map((r) => r.roundId) as [string, string, string, string, string, string];
      const finish = (roundId: string, finishedAt: number) => store.updateRound(roundId, { status: "succeeded", finishedAt, now: finishedAt });
      const liveCheck = (status: StageRecord["status"]): StageRecord => ({ name: "live-check", status, attempt: 1, startedAt: at + 500, finishedAt: status === "running" ? null : at + 600, output: null, error: null });
      await finish(tooOld, at + 50);
      await finish(checked, at + 300);
      await store.saveStage(checked, liveCheck("succeeded"));
      await finish(checkFailed, at + 300);
      await store.saveStage(checkFailed, liveCheck("failed"));
      await finish(never, at + 200);
      await finish(cutOff, at + 400);
      await store.saveStage(cutOff, liveCheck("running"));
      await store.updateRound(stillRunning, { status: "running", now: at + 400 });

      const awaiting = await store.listRoundsAwaitingLiveCheck(at + 100);
      expect(awaiting.map((r) => r.id)).toEqual([never, cutOff]);
      expect(awaiting[0]).toMatchObject({ status: "succeeded", finishedAt: at + 200, request: { task: "live-5" } });
      expect((await store.listRoundsAwaitingLiveCheck(at)).map((r) => r.id)).toEqual([tooOld, never, cutOff]);
    });
  });

  describe("listTasks", () => {
    async function seed() {
      // Eleven tasks; three share a creation time so the id breaks the tie.
      const created: string[] = [];
      for (let i = 0; i < 11; i++) {
        const now = 1_000_000_000 + (i < 3 ? 0 : i) * 1000;
        const r = await store.acceptRound(accept({ task: `task-${i}` }, { now }));
        if (i % 3 === 0) await store.updateRound(r.roundId, { status: "succeeded", now: now + 1 });
        created.push(r.taskId);
      }
      return created;
    }

    async function collect(query: { status?: "queued" | "succeeded"; task?: string; limit: number }) {
      const names: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.listTasks({ ...query, cursor });
        names.push(...page.items.map((t) => t.name));
        for (const item of page.items) expect(item.rounds.map((r) => r.taskId)).toEqual([item.id]);
        cursor = page.nextCursor ?? undefined;
        pages++;
        expect(pages).toBeLessThan(20);
      } while (cursor);
      return { names, pages };
    }

    it("walks all tasks newest first across pages, each once", async () => {
      await seed();
      const expected = (await store.listTasks({ limit: 100 })).items.map((t) => t.name);
      expect(expected.slice(0, 8)).toEqual(["task-10", "task-9", "task-8", "task-7", "task-6", "task-5", "task-4", "task-3"]);
      expect([...expected.slice(8)].sort()).toEqual(["task-0", "task-1", "task-2"]);

      const { names, pages } = await collect({ limit: 3 });
      expect(names).toEqual(expected);
      expect(pages).toBe(4);
      const exact = await collect({ limit: 11 });
      expect(exact).toEqual({ names: expected, pages: 1 });
    });

    it("filters by status and by exact task name across pages", async () => {
      await seed();
      const succeeded = await collect({ status: "succeeded", limit: 2 });
      expect(succeeded.names).toEqual(["task-9", "task-6", "task-3", "task-0"]);
      const queued = await collect({ status: "queued", limit: 2 });
      expect(queued.names).toHaveLength(7);
      expect(queued.names).not.toContain("task-9");
      const one = await collect({ task: "task-7", limit: 5 });
      expect(one.names).toEqual(["task-7"]);
      expect(await collect({ task: "task-7", status: "succeeded", limit: 5 })).toEqual({ names: [], pages: 1 });
    });

    it("includes each task's rounds and rejects bad cursors and limits", async () => {
      await store.acceptRound(accept());
      await store.acceptRound(accept({ round: 2, nonce: "n2" }));
      const page = await store.listTasks({ limit: 10 });
      expect(page.items[0]?.rounds.map((r) => r.round)).toEqual([1, 2]);
      expect(page.nextCursor).toBeNull();
      await expect(store.listTasks({ limit: 10, cursor: "not-a-cursor" })).rejects.toBeInstanceOf(ValidationError);
      await expect(store.listTasks({ limit: 0 })).rejects.toBeInstanceOf(ValidationError);
      expect((await store.listTasks({ limit: 10 })).items).toHaveLength(1);
    });
  });

  describe("stage checkpoints", () => {
    it("upserts and lists stages in first-started order", async () => {
      const { roundId } = await store.acceptRound(accept());
      const stage = (name: string, patch: Partial<StageRecord> = {}): StageRecord => ({
        name,
        status: "running",
        attempt: 1,
        startedAt: 100,
        finishedAt: null,
        output: null,
        error: null,
        ...patch,
      });
      await store.saveStage(roundId, stage("generate", { startedAt: 300 }));
      await store.saveStage(roundId, stage("analyze", { startedAt: 100 }));
      await store.saveStage(roundId, stage("generate", { status: "failed", error: "llm down", finishedAt: 350, startedAt: 300 }));
      await store.saveStage(roundId, stage("generate", { status: "succeeded", attempt: 2, startedAt: 400, finishedAt: 450, output: { files: { "index.html": "<p>hi</p>" } } }));
      await store.saveStage(roundId, stage("verify", { startedAt: 500, output: [1, "two", { three: 3 }] }));

      const stages = await store.listStages(roundId);
      expect(stages.map((s) => s.name)).toEqual(["generate", "analyze", "verify"]);
      expect(stages[0]).toEqual({
        name: "generate",
        status: "succeeded",
        attempt: 2,
        startedAt: 400,
        finishedAt: 450,
        output: { files: { "index.html": "<p>hi</p>" } },
        error: null,
      });
      expect(stages[2]?.output).toEqual([1, "two", { three: 3 }]);
      expect(await store.listStages("other-round")).toEqual([]);
    });

    it("wraps driver errors in StoreError with the cause (a stage of an unknown round)", async () => {
      const failure = await store
        .saveStage("no-such-round", { name: "x", status: "running", attempt: 1, startedAt: 1, finishedAt: null, output: null, error: null })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(StoreError);
      expect((failure as StoreError).code).toBe("store-failed");
      expect((failure as StoreError).isRetryable).toBe(false);
      expect((failure as StoreError).cause).toBeInstanceOf(Error);
    });
  });

  describe("events", () => {
    it("assigns increasing seq per round, also under concurrent appends", async () => {
      const a = await store.acceptRound(accept());
      const b = await store.acceptRound(accept({ task: "other" }));
      const batches = Array.from({ length: 16 }, (_, i) =>
        Array.from({ length: 4 }, (_, j) => ({ name: `e${i}-${j}`, at: 1000 + i, payload: { i, j } })),
      );
      await Promise.all([
        ...batches.map((batch) => store.appendEvents(a.roundId, batch)),
        store.appendEvents(b.roundId, [{ name: "only", at: 1, payload: null }]),
      ]);
      const events = await store.listEvents(a.roundId);
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
      // One append's events stay together and in order.
      for (const batch of batches) {
        const seqs = batch.map((event) => events.find((e) => e.name === event.name)!.seq);
        expect(seqs).toEqual([seqs[0]!, seqs[0]! + 1, seqs[0]! + 2, seqs[0]! + 3]);
      }
      expect(events[0]?.payload).toEqual(batches.find((batch) => batch[0]!.name === events[0]!.name)![0]!.payload);
      expect(await store.listEvents(b.roundId)).toEqual([{ seq: 1, name: "only", at: 1, payload: null }]);
    });

    it("pages events with afterSeq and limit, and refuses unknown rounds", async () => {
      const { roundId } = await store.acceptRound(accept());
      await store.appendEvents(roundId, Array.from({ length: 10 }, (_, i) => ({ name: "tick", at: i, payload: { i } })));
      await store.appendEvents(roundId, []);
      const page = await store.listEvents(roundId, { afterSeq: 3, limit: 4 });
      expect(page.map((e) => e.seq)).toEqual([4, 5, 6, 7]);
      expect(page[0]).toEqual({ seq: 4, name: "tick", at: 3, payload: { i: 3 } });
      expect(await store.listEvents(roundId, { afterSeq: 10 })).toEqual([]);
      await expect(store.appendEvents("no-such-round", [{ name: "x", at: 1, payload: null }])).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe("report attempts", () => {
    it("records attempts and lists them oldest first", async () => {
      const { roundId } = await store.acceptRound(accept());
      await store.addReportAttempt(roundId, { attempt: 1, at: 100, statusCode: null, error: "ECONNREFUSED", durationMs: 12 });
      await store.addReportAttempt(roundId, { attempt: 2, at: 200, statusCode: 503, error: "HTTP 503", durationMs: 30 });
      await store.addReportAttempt(roundId, { attempt: 3, at: 400, statusCode: 200, error: null, durationMs: 25 });
      // A resumed notifier may count from 1 again; both attempts are kept.
      await store.addReportAttempt(roundId, { attempt: 1, at: 500, statusCode: 200, error: null, durationMs: 5 });
      const attempts = await store.listReportAttempts(roundId);
      expect(attempts).toEqual([
        { attempt: 1, at: 100, statusCode: null, error: "ECONNREFUSED", durationMs: 12 },
        { attempt: 2, at: 200, statusCode: 503, error: "HTTP 503", durationMs: 30 },
        { attempt: 3, at: 400, statusCode: 200, error: null, durationMs: 25 },
        { attempt: 1, at: 500, statusCode: 200, error: null, durationMs: 5 },
      ]);
      expect(await store.listReportAttempts("other")).toEqual([]);
    });
  });

  describe("close", () => {
    it("is idempotent", async () => {
      await store.close();
      await store.close();
    });
  });
});

/** Makes every insert into `jobs` fail, through the store's own connection: the last write of acceptRound. */
async function installFailingJobTrigger(store: KyselyStore): Promise<void> {
  if (store.dialect === "sqlite") {
    await sql`create trigger fail_job_insert before insert on jobs begin select raise(abort, 'job insert refused'); end`.execute(store.db);
    return;
  }
  await sql`create function fail_job_insert() returns trigger language plpgsql as $$ begin raise exception 'job insert refused'; end $$`.execute(
    store.db,
  );
  await sql`create trigger fail_job_insert before insert on jobs for each row execute function fail_job_insert()`.execute(store.db);
}

/** Makes inserting the task named `doomed` fail, and nothing else. */
async function installDoomedTaskTrigger(store: KyselyStore): Promise<void> {
  if (store.dialect === "sqlite") {
    await sql`create trigger doomed_task before insert on tasks when new.name = 'doomed' begin select raise(abort, 'doomed task refused'); end`.execute(
      store.db,
    );
    return;
  }
  await sql`create function doomed_task() returns trigger language plpgsql as $$ begin if new.name = 'doomed' then raise exception 'doomed task refused'; end if; return new; end $$`.execute(
    store.db,
  );
  await sql`create trigger doomed_task before insert on tasks for each row execute function doomed_task()`.execute(store.db);
}

async function removeFailingJobTrigger(store: KyselyStore): Promise<void> {
  if (store.dialect === "sqlite") {
    await sql`drop trigger fail_job_insert`.execute(store.db);
    return;
  }
  await sql`drop trigger fail_job_insert on jobs`.execute(store.db);
  await sql`drop function fail_job_insert()`.execute(store.db);
}

describe.each(storeDialects)("migration 0002 on $name", (dialect) => {
  it("gives existing rounds their task's repository and keeps existing names taken", async () => {
    const database = await dialect.databaseUrl();
    try {
      const store = await createStore({ databaseUrl: database.url, dataDir: database.dataDir });
      try {
        await migrateToLatest(store.db, store.capabilities, migrations.slice(0, 1));
        const requestJson = JSON.stringify(request());
        await sql`insert into tasks (id, name, email, repo_name, status, created_at, updated_at) values ('t1', 'captcha-solver-1a2b3', 's@example.com', 'captcha-solver-1a2b3', 'succeeded', 1, 2)`.execute(store.db);
        await sql`insert into rounds (id, task_id, round, nonce, request_json, status, deadline_at, created_at) values ('r1', 't1', 1, 'nonce-1', ${requestJson}, 'succeeded', 600, 1)`.execute(store.db);
        await store.migrate();
        expect(await store.getRound("r1")).toMatchObject({ repoName: "captcha-solver-1a2b3", outcome: null });
        // The old task's name is taken: a new task wanting it gets -2, the old task's round 1 again gets -3.
        const other = await store.acceptRound(accept({ task: "other" }, { repoNameCandidate: "captcha-solver-1a2b3" }));
        expect((await store.getTask(other.taskId))?.repoName).toBe("captcha-solver-1a2b3-2");
        const again = await store.acceptRound(accept({ nonce: "nonce-2" }));
        expect(again.taskId).toBe("t1");
        expect((await store.getRound(again.roundId))?.repoName).toBe("captcha-solver-1a2b3-3");
      } finally {
        await store.close();
      }
    } finally {
      await database.cleanup();
    }
  });
});

describe.each(storeDialects)("createStore on $name", (dialect) => {
  it("opens the database the URL names, ready to migrate", async () => {
    const database = await dialect.databaseUrl();
    try {
      const store = await createStore({ databaseUrl: database.url, dataDir: database.dataDir });
      try {
        await store.migrate();
        await store.acceptRound(accept());
        if (dialect.name === "sqlite") {
          expect(existsSync(join(database.dataDir, "briefwright.sqlite"))).toBe(true);
        } else {
          // The URL alone (as a child process would get it) selects the fresh schema.
          const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db);
          expect(database.url).toContain(encodeURIComponent(rows[0]!.schema));
        }
      } finally {
        await store.close();
      }
      // A second store on the same URL sees the same data.
      const again = await createStore({ databaseUrl: database.url, dataDir: database.dataDir });
      try {
        await again.migrate();
        expect(await again.counts()).toEqual({ tasks: 1, rounds: 1, jobs: 1 });
      } finally {
        await again.close();
      }
    } finally {
      await database.cleanup();
    }
  });
});

/**
 * What one process sharing the database does: migrate, the same accept as its siblings, a task of
 * its own that wants the same repository name, then claims until nothing is left. Started
 * together so their transactions overlap; prints what it got as JSON. (Processes, not stores in
 * one process: better-sqlite3 waits out a lock synchronously, so two SQLite connections in one
 * process would stall the very event loop that should release the lock.)
 */
const siblingProcess = `
const { createStore } = await import("./src/adapters/store/create-store.ts");
const { createEmbeddedJobQueue } = await import("./src/adapters/queue/embedded-job-queue.ts");
const [url, dataDir, index, startAt] = process.argv.slice(1);
const store = await createStore({ databaseUrl: url || undefined, dataDir });
const queue = createEmbeddedJobQueue(store);
const request = (task) => ({ email: "s@example.com", task, round: 1, nonce: "n", brief: "b", checks: [], evaluationUrl: "https://e.example/n", attachments: [] });
while (Date.now() < Number(startAt)) await new Promise((r) => setTimeout(r, 5));
await store.migrate();
const accepted = [];
for (let i = 0; i < 5; i++) {
  accepted.push(await store.acceptRound({ request: request("shared-task"), repoNameCandidate: "shared", deadlineAt: 1, now: 1 }));
  accepted.push(await store.acceptRound({ request: request("own-" + index + "-" + i), repoNameCandidate: "shared", deadlineAt: 1, now: 1 }));
}
const claimed = [];
for (;;) {
  const job = await queue.claim("worker-" + index, 60000, Date.now());
  if (!job) break;
  claimed.push(job.id);
}
await store.close();
process.stdout.write(JSON.stringify({ accepted, claimed }));
`;

const repositoryRoot = fileURLToPath(new URL("../..", import.meta.url));

describe.each(storeDialects)("several processes on one $name database", (dialect) => {
  it("migrate once, accept once, keep repository names unique and never claim a job twice", async () => {
    const database = await dialect.databaseUrl();
    try {
      const processes = 3;
      const startAt = Date.now() + 2500;
      const outputs = await Promise.all(
        Array.from({ length: processes }, (_, index) =>
          promisify(execFile)(
            process.execPath,
            ["--import", "tsx", "--input-type=module", "-e", siblingProcess, database.url ?? "", database.dataDir, String(index), String(startAt)],
            { cwd: repositoryRoot, timeout: 60_000 },
          ),
        ),
      );
      const results = outputs.map((o) => JSON.parse(o.stdout) as { accepted: { created: boolean; taskId: string; jobId: string }[]; claimed: string[] });
      const accepted = results.flatMap((r) => r.accepted);
      const claimed = results.flatMap((r) => r.claimed);

      const tasks = 1 + processes * 5;
      expect(accepted.filter((a) => a.created)).toHaveLength(tasks);
      expect(new Set(claimed).size).toBe(claimed.length);
      expect(new Set(claimed)).toEqual(new Set(accepted.map((a) => a.jobId)));

      const check = await createStore({ databaseUrl: database.url, dataDir: database.dataDir });
      try {
        expect(await check.counts()).toEqual({ tasks, rounds: tasks, jobs: tasks });
        const names = (await check.db.selectFrom("tasks").select("repo_name").execute()).map((t) => t.repo_name);
        expect(new Set(names).size).toBe(tasks);
        expect(names).toContain("shared");
        expect(names).toContain(`shared-${tasks}`);
        const migrations = await check.db.selectFrom("briefwright_migrations").select("name").execute();
        expect(migrations.map((m) => m.name)).toEqual(migrationNames);
      } finally {
        await check.close();
      }
    } finally {
      await database.cleanup();
    }
  });
});

describe("parseDatabaseUrl", () => {
  const dataDir = "/srv/briefwright";
  it("maps each accepted spelling", () => {
    expect(parseDatabaseUrl({ databaseUrl: undefined, dataDir })).toEqual({ kind: "sqlite", path: "/srv/briefwright/briefwright.sqlite" });
    expect(parseDatabaseUrl({ databaseUrl: "sqlite::memory:", dataDir })).toEqual({ kind: "sqlite", path: ":memory:" });
    expect(parseDatabaseUrl({ databaseUrl: "sqlite:/tmp/x.db", dataDir })).toEqual({ kind: "sqlite", path: "/tmp/x.db" });
    expect(parseDatabaseUrl({ databaseUrl: "sqlite:///tmp/x.db", dataDir })).toEqual({ kind: "sqlite", path: "/tmp/x.db" });
    expect(parseDatabaseUrl({ databaseUrl: "file:///tmp/x.db", dataDir })).toEqual({ kind: "sqlite", path: "/tmp/x.db" });
    expect(parseDatabaseUrl({ databaseUrl: "postgres://u@h:5432/db", dataDir })).toEqual({ kind: "postgres", url: "postgres://u@h:5432/db" });
    expect(parseDatabaseUrl({ databaseUrl: "postgresql://u@h/db", dataDir }).kind).toBe("postgres");
    expect(() => parseDatabaseUrl({ databaseUrl: "mysql://h/db", dataDir })).toThrow(/DATABASE_URL/);
  });

  it("opens an in-memory SQLite store", async () => {
    const store = await createStore({ databaseUrl: "sqlite::memory:", dataDir });
    try {
      await store.migrate();
      expect((await store.acceptRound(accept())).created).toBe(true);
    } finally {
      await store.close();
    }
  });
});
