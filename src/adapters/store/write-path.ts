import { sql, type Insertable, type Kysely } from "kysely";
import { NotFoundError, StoreError } from "../../domain/errors.ts";
import type { TaskRequest } from "../../domain/task.ts";
import type { AcceptRoundInput, AcceptRoundResult, NewEvent } from "../../ports/store.ts";
import type { DatabaseSchema, JobsTable, RoundEventsTable, RoundsTable, TasksTable } from "./database-schema.ts";
import type { DialectCapabilities } from "./dialect-capabilities.ts";
import { prepareQuery } from "./prepared-query.ts";
import type { StatementRunner } from "./statement-runner.ts";

/** The job every accepted round gets, and the key that ties the two together. */
export const runRoundJobName = "run-round";
export const runRoundJobKey = (roundId: string) => `${runRoundJobName}:${roundId}`;

/** How many repository names acceptRound tries before giving up (each try follows a fresh read). */
const maxRepoNameTries = 10;

/**
 * The store's hot write path — accepting a round and appending a round's events — written once
 * for both dialects over a `StatementRunner`, with every statement prepared once per store.
 * Each function runs inside a write transaction its caller opened (on SQLite, one savepoint of
 * a group commit; on PostgreSQL, a transaction of its own).
 */
export type WriteStatements = ReturnType<typeof prepareWriteStatements>;

export function prepareWriteStatements(db: Kysely<DatabaseSchema>, capabilities: DialectCapabilities) {
  return {
    taskIdByName: prepareQuery((p: { name: string }) => db.selectFrom("tasks").select(["id", "repo_name"]).where("name", "=", p.name)),
    // The repositories table is the one authority on names given out (tasks' and repeated round
    // 1s'); its primary key decides a race, and the change count says who won.
    claimRepository: prepareQuery((p: { name: string; task_id: string; created_at: number }) =>
      db
        .insertInto("repositories")
        .values({ name: p.name, task_id: p.task_id, created_at: p.created_at })
        .onConflict((oc) => oc.doNothing()),
    ),
    releaseRepository: prepareQuery((p: { name: string }) => db.deleteFrom("repositories").where("name", "=", p.name)),
    firstRoundOfTask: prepareQuery((p: { taskId: string }) =>
      db.selectFrom("rounds").select("id").where("task_id", "=", p.taskId).where("round", "=", 1).limit(1),
    ),
    // No conflict target: a clash on the name (someone inserted this task meanwhile) and on the
    // repository name (another task holds it) both insert nothing; the re-read tells them apart.
    // Whether a row went in is the statement's change count: RETURNING costs SQLite about a
    // third of such an insert (it materialises the returned rows first).
    insertTask: prepareQuery((p: Insertable<TasksTable>) =>
      db
        .insertInto("tasks")
        .values({
          id: p.id,
          name: p.name,
          email: p.email,
          repo_name: p.repo_name,
          status: p.status,
          created_at: p.created_at,
          updated_at: p.updated_at,
        })
        .onConflict((oc) => oc.doNothing()),
    ),
    // The unique (task, round, nonce) is the idempotency key: a repeat, or the loser of two
    // identical requests racing, inserts nothing here and reads the winner's ids instead.
    insertRound: prepareQuery((p: Pick<RoundsTable, "id" | "task_id" | "round" | "nonce" | "request_json" | "deadline_at" | "created_at" | "repo_name">) =>
      db
        .insertInto("rounds")
        .values({
          id: p.id,
          task_id: p.task_id,
          round: p.round,
          nonce: p.nonce,
          request_json: p.request_json,
          status: "queued",
          deadline_at: p.deadline_at,
          created_at: p.created_at,
          started_at: null,
          finished_at: null,
          error: null,
          result_json: null,
          reported_at: null,
          repo_name: p.repo_name,
          outcome: null,
          outcome_reason: null,
        })
        .onConflict((oc) => oc.columns(["task_id", "round", "nonce"]).doNothing()),
    ),
    insertJob: prepareQuery((p: Pick<JobsTable, "id" | "name" | "job_key" | "payload_json" | "run_at" | "created_at">) =>
      db.insertInto("jobs").values({
        id: p.id,
        name: p.name,
        job_key: p.job_key,
        payload_json: p.payload_json,
        status: "queued",
        run_at: p.run_at,
        locked_by: null,
        locked_until: null,
        last_error: null,
        created_at: p.created_at,
        updated_at: p.created_at,
      }),
    ),
    mirrorTaskStatus: prepareQuery((p: { taskId: string; now: number }) => mirrorTaskStatusQuery(db, p.taskId, p.now)),
    roundIdByKey: prepareQuery((p: { taskId: string; round: number; nonce: string }) =>
      db.selectFrom("rounds").select(["id", "request_json"]).where("task_id", "=", p.taskId).where("round", "=", p.round).where("nonce", "=", p.nonce),
    ),
    jobIdByKey: prepareQuery((p: { jobKey: string }) => db.selectFrom("jobs").select("id").where("job_key", "=", p.jobKey)),
    // LIKE narrows the read; the exact match happens in freeRepoName (SQLite's LIKE ignores ASCII case).
    repoNamesLike: prepareQuery((p: { candidate: string; pattern: string }) =>
      db
        .selectFrom("repositories")
        .select("name")
        .where((eb) => eb.or([eb("name", "=", p.candidate), sql<boolean>`${eb.ref("name")} like ${p.pattern} escape '\\'`])),
    ),
    // Appenders of one round queue on its row (PostgreSQL) or on the write lock (SQLite), so
    // reading the last seq and inserting after it cannot interleave with another appender.
    // NO KEY UPDATE still lets inserts that only reference the round (stages, reports) through.
    lockRound: prepareQuery((p: { roundId: string }) =>
      db
        .selectFrom("rounds")
        .select("id")
        .where("id", "=", p.roundId)
        .$if(capabilities.rowLocks, (q) => q.forNoKeyUpdate()),
    ),
    // A second statement after the lock, so PostgreSQL reads it with a snapshot taken after any
    // appender that held the lock committed.
    lastEventSeq: prepareQuery((p: { roundId: string }) =>
      db
        .selectFrom("round_events")
        .select((eb) => eb.fn.max("seq").as("seq"))
        .where("round_id", "=", p.roundId),
    ),
    insertEvent: prepareQuery((p: RoundEventsTable) =>
      db.insertInto("round_events").values({ round_id: p.round_id, seq: p.seq, name: p.name, at: p.at, payload_json: p.payload_json }),
    ),
  };
}

/**
 * Accepts a round inside the caller's transaction: the task (if new), the round and its
 * `run-round` job, or — for a repeat of (task, round, nonce) — nothing but a read of the ids.
 */
export async function acceptRoundIn(
  runner: StatementRunner,
  statements: WriteStatements,
  input: AcceptRoundInput,
  newId: () => string,
): Promise<AcceptRoundResult> {
  const { request, now } = input;
  const task = await findOrCreateTask(runner, statements, request, input.repoNameCandidate, now, newId);
  const repository = await roundRepository(runner, statements, task, request, now);
  if (repository === "duplicate") return existingRound(runner, statements, task.id, request);
  const roundId = newId();
  const inserted = await runner.run(statements.insertRound, {
    id: roundId,
    task_id: task.id,
    round: request.round,
    nonce: request.nonce,
    request_json: JSON.stringify(request),
    deadline_at: input.deadlineAt,
    created_at: now,
    repo_name: repository.name,
  });
  if (inserted === 0) {
    // Lost a race with the identical request: the fresh name this one claimed goes back.
    if (repository.claimed) await runner.run(statements.releaseRepository, { name: repository.name! });
    return existingRound(runner, statements, task.id, request);
  }

  const jobId = newId();
  await runner.run(statements.insertJob, {
    id: jobId,
    name: runRoundJobName,
    job_key: runRoundJobKey(roundId),
    payload_json: JSON.stringify({ roundId }),
    run_at: now,
    created_at: now,
  });
  // A new task was inserted with this round's status already; an old one may have a later round.
  if (!task.created) await runner.run(statements.mirrorTaskStatus, { taskId: task.id, now });
  const accepted = { created: true, storedRequestDiffers: false, taskId: task.id, roundId, jobId };
  const events = input.firstEvents?.(accepted);
  if (events && events.length > 0) await insertEvents(runner, statements, roundId, 0, events);
  return accepted;
}

interface TaskRow {
  readonly id: string;
  readonly repoName: string;
  readonly created: boolean;
}

/**
 * The repository a new round starts with. Round 1 of a new task: the task's. Round 1 again (a new
 * nonce; PROTOCOL §7: the course re-sent round 1 and wanted a repository made after the request):
 * a fresh name, claimed here — unless this is the very same request, which is a duplicate and
 * claims nothing. Later rounds: none yet; the pipeline picks the newest round 1's when it runs.
 */
async function roundRepository(
  runner: StatementRunner,
  statements: WriteStatements,
  task: TaskRow,
  request: TaskRequest,
  now: number,
): Promise<{ name: string | null; claimed: boolean } | "duplicate"> {
  if (request.round !== 1) return { name: null, claimed: false };
  if (task.created) return { name: task.repoName, claimed: false };
  if (await runner.first(statements.roundIdByKey, { taskId: task.id, round: 1, nonce: request.nonce })) return "duplicate";
  if (!(await runner.first(statements.firstRoundOfTask, { taskId: task.id }))) return { name: task.repoName, claimed: false };
  for (let attempt = 0; attempt < maxRepoNameTries; attempt++) {
    const name = await freeRepoName(runner, statements, task.repoName);
    if ((await runner.run(statements.claimRepository, { name, task_id: task.id, created_at: now })) > 0) return { name, claimed: true };
  }
  throw new StoreError(`accept round: no free repository name found for ${task.repoName}`, { isRetryable: true });
}

/** The task named by the request, inserted if new. Race-safe: the unique indexes decide, not a prior read. */
async function findOrCreateTask(
  runner: StatementRunner,
  statements: WriteStatements,
  request: TaskRequest,
  repoNameCandidate: string,
  now: number,
  newId: () => string,
): Promise<TaskRow> {
  const existing = await runner.first(statements.taskIdByName, { name: request.task });
  if (existing) return { id: existing.id, repoName: existing.repo_name, created: false };

  const id = newId();
  let repoName = repoNameCandidate;
  for (let attempt = 0; attempt < maxRepoNameTries; attempt++) {
    // The name first: another task or a repeated round 1 may hold it.
    if ((await runner.run(statements.claimRepository, { name: repoName, task_id: id, created_at: now })) === 0) {
      repoName = await freeRepoName(runner, statements, repoNameCandidate);
      continue;
    }
    const inserted = await runner.run(statements.insertTask, {
      id,
      name: request.task,
      email: request.email,
      repo_name: repoName,
      status: "queued",
      created_at: now,
      updated_at: now,
    });
    if (inserted > 0) return { id, repoName, created: true };
    // Someone inserted this task meanwhile: the name claimed for it goes back.
    await runner.run(statements.releaseRepository, { name: repoName });
    const raced = await runner.first(statements.taskIdByName, { name: request.task });
    if (raced) return { id: raced.id, repoName: raced.repo_name, created: false };
    throw new StoreError(`accept round: task ${request.task} could not be inserted under repository ${repoName}`, { isRetryable: true });
  }
  throw new StoreError(`accept round: no free repository name found for ${repoNameCandidate}`, { isRetryable: true });
}

async function existingRound(
  runner: StatementRunner,
  statements: WriteStatements,
  taskId: string,
  request: TaskRequest,
): Promise<AcceptRoundResult> {
  const round = await runner.first(statements.roundIdByKey, { taskId, round: request.round, nonce: request.nonce });
  // The insert conflicted on this very key inside this transaction, so the row is visible.
  if (!round) throw new StoreError(`accept round: the round of ${request.task}/${request.round}/${request.nonce} vanished`);
  const job = await runner.first(statements.jobIdByKey, { jobKey: runRoundJobKey(round.id) });
  if (!job) throw new StoreError(`accept round: round ${round.id} exists without its job`);
  // The request was stored as JSON.stringify of the same shape, so equal requests give equal text.
  return { created: false, storedRequestDiffers: round.request_json !== JSON.stringify(request), taskId, roundId: round.id, jobId: job.id };
}

/** The smallest of `candidate`, `candidate-2`, `candidate-3` … that was never given out. */
async function freeRepoName(runner: StatementRunner, statements: WriteStatements, candidate: string): Promise<string> {
  const pattern = `${candidate.replace(/[\\%_]/g, (c) => `\\${c}`)}-%`;
  const rows = await runner.all(statements.repoNamesLike, { candidate, pattern });
  const taken = new Set(rows.map((row) => row.name));
  if (!taken.has(candidate)) return candidate;
  for (let n = 2; ; n++) {
    const name = `${candidate}-${n}`;
    if (!taken.has(name)) return name;
  }
}

/** Appends a round's events after its last seq, inside the caller's transaction. */
export async function appendEventsIn(
  runner: StatementRunner,
  statements: WriteStatements,
  roundId: string,
  events: readonly NewEvent[],
): Promise<void> {
  const round = await runner.first(statements.lockRound, { roundId });
  if (!round) throw new NotFoundError(`round ${roundId}`);
  const last = await runner.first(statements.lastEventSeq, { roundId });
  await insertEvents(runner, statements, roundId, Number(last?.seq ?? 0), events);
}

async function insertEvents(
  runner: StatementRunner,
  statements: WriteStatements,
  roundId: string,
  afterSeq: number,
  events: readonly NewEvent[],
): Promise<void> {
  let seq = afterSeq;
  const rows = events.map((event) => ({
    round_id: roundId,
    seq: ++seq,
    name: event.name,
    at: event.at,
    payload_json: JSON.stringify(event.payload ?? null),
  }));
  await runner.insertRows(statements.insertEvent, rows, (db, chunk) => db.insertInto("round_events").values([...chunk]));
}

/** Sets a task's status to its latest round's (highest round number, then latest accepted). */
export function mirrorTaskStatusQuery(db: Kysely<DatabaseSchema>, taskId: string, now: number) {
  return db
    .updateTable("tasks")
    .set((eb) => ({
      status: eb
        .selectFrom("rounds")
        .select("rounds.status")
        .whereRef("rounds.task_id", "=", "tasks.id")
        .orderBy("rounds.round", "desc")
        .orderBy("rounds.created_at", "desc")
        .orderBy("rounds.id", "desc")
        .limit(1)
        .$castTo<TasksTable["status"]>(),
      updated_at: now,
    }))
    .where("id", "=", taskId);
}
