import { DeadlineExceededError, NotFoundError, ReportDeliveryError, describeError, BriefwrightError } from "../domain/errors.ts";
import { repositoryDescription } from "../domain/repository-description.ts";
import type { DeployResult } from "../domain/task.ts";
import { analyze, type Analysis } from "./analyze-stage.ts";
import { build, type Build } from "./build-stage.ts";
import { deploy } from "./deploy-stage.ts";
import { fallbackBuild, outcomeOf, publicReason, worthAnotherBuild } from "./fallback-build.ts";
import { historyOf, scheduleLiveCheck } from "./live-check-stage.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";
import { report, type ReportOutcome } from "./report-stage.ts";
import { RoundBudget } from "./round-budget.ts";
import { StageRunner } from "./stage-runner.ts";
import type { RoundRecord, TaskRecord } from "../ports/store.ts";

/** How long a round waits for an earlier round of the same task before it goes ahead anyway. */
const earlierRoundPollMs = 250;

/**
 * Runs one round, stage by stage, resuming after the last stage that finished before a crash.
 * Idempotent: running a finished round again changes nothing. A build that fails ships a
 * fallback instead (fallback-build.ts), so every round that can reach its forge and evaluator
 * reports; see docs/decisions/0014-never-silent.md.
 */
export async function runRound(
  roundId: string,
  deps: PipelineDeps,
  options: { attempt: number; signal?: AbortSignal; maxAttempts?: number },
): Promise<void> {
  const { store, clock, events } = deps;
  const round = await store.getRound(roundId);
  if (!round) throw new NotFoundError(`round ${roundId}`);
  if (round.status === "succeeded" || round.reportedAt !== null) return;
  const task = await store.getTask(round.taskId);
  if (!task) throw new NotFoundError(`task ${round.taskId}`);

  const budget = new RoundBudget(round.deadlineAt, clock);
  const startedAt = clock.now();
  await store.updateRound(roundId, { status: "running", startedAt: round.startedAt ?? startedAt, error: null, now: startedAt });
  events.emit("round-start", roundId, { attempt: options.attempt, deadlineAt: round.deadlineAt });
  const stages = await StageRunner.load(roundId, deps, budget);
  const request = round.request;
  const reportReserveMs = Math.min(deps.settings.deployReserveMs / 2, budget.remainingMs() / 4);

  // Counted from here to the report, so after-the-report work waits while rounds are racing.
  deps.activity.roundsInFlight++;
  let inFlight = true;
  const leaveFlight = () => {
    if (inFlight) deps.activity.roundsInFlight--;
    inFlight = false;
  };
  try {
    const analysis = await stages.run<Analysis>("analyze", async () =>
      analyze(request, roundId, { events, maxAttachmentBytes: deps.settings.maxAttachmentBytes }),
    );

    // Round N revises what round N-1 deployed, so it waits for earlier rounds of its task.
    const earlier = task.rounds.filter((r) => r.round < round.round);
    while (earlier.length > 0 && budget.allowanceMs(deps.settings.deployReserveMs) > 0) {
      const fresh = await Promise.all(earlier.map((r) => store.getRound(r.id)));
      if (fresh.every((r) => !r || r.status === "succeeded" || r.status === "failed")) break;
      await clock.sleep(earlierRoundPollMs, options.signal);
    }
    // The forge's answer is the name recorded and used from here on (it may differ from the one asked for).
    const wanted = round.repoName ?? (await repositoryToRevise(deps, task, round));
    const repo = await deps.forge.ensureRepository(wanted, { description: repositoryDescription(request.brief) });
    if (repo.name !== wanted) events.emit("repository-rename", roundId, { asked: wanted, given: repo.name });
    if (repo.name !== round.repoName) await store.updateRound(roundId, { repoName: repo.name, now: clock.now() });
    const history = await historyOf(deps, task.id, round.round, repo.name);
    const repository = request.round > 1 ? await deps.forge.readFiles(repo.name) : undefined;
    const current = repository?.files;
    const rounds = [...history.map((r) => ({ round: r.round, brief: r.brief })), { round: request.round, brief: request.brief }];

    const buildStartedAt = clock.now();
    const built = await stages.run<Build>("build", async () => {
      try {
        return await build(
          {
            roundId,
            request,
            checks: analysis.checks,
            attachments: analysis.attachments,
            current,
            history,
            rounds,
            repoUrl: repo.repoUrl,
            pagesUrl: repo.pagesUrl,
            acceptedAt: round.createdAt,
            signal: budget.signal(deps.settings.deployReserveMs, options.signal),
            budget,
            reserveMs: deps.settings.deployReserveMs,
          },
          deps,
        );
      } catch (error) {
        // Stopping or losing the lease: another attempt resumes the round from its checkpoints.
        if (options.signal?.aborted) throw error;
        if (worthAnotherBuild(error, { spentMs: clock.now() - buildStartedAt, budget, reserveMs: deps.settings.deployReserveMs, ...options })) throw error;
        // No candidate at all: ship the attachments, LICENSE and a README saying why, in the
        // time the build left for deploy and report. Cut off by the budget (a slow model)? Say
        // so, whatever the aborted call's own error was.
        const outOfTime = budget.allowanceMs(deps.settings.deployReserveMs) <= 0 && !(error instanceof DeadlineExceededError);
        const cause = outOfTime ? new DeadlineExceededError(`the build was cut off at its time limit (${describeError(error)})`, { cause: error }) : error;
        const why = publicReason(cause, deps.settings.knownSecrets);
        const fallback = await fallbackBuild({
          request,
          attachments: analysis.attachments,
          current,
          rounds,
          repoUrl: repo.repoUrl,
          pagesUrl: repo.pagesUrl,
          licenseHolder: deps.settings.licenseHolder,
          acceptedAt: round.createdAt,
          knownSecrets: deps.settings.knownSecrets,
          why,
        });
        events.emit("build-fallback", roundId, { code: why.code, reason: why.reason, withheld: [...(fallback.fallback?.withheld ?? [])] });
        return fallback;
      }
    });

    const result = await stages.run<DeployResult>("deploy", async () => {
      const outcome = outcomeOf(built);
      // Known before the deploy, so a client sees what is being shipped while it ships.
      await store.updateRound(roundId, { outcome, now: clock.now() });
      events.emit("round-outcome", roundId, outcome);
      const deployed = await deploy({ roundId, repoName: repo.name, request, files: built.files, budget, reportReserveMs }, deps);
      await store.updateRound(roundId, { result: deployed, now: clock.now() });
      return deployed;
    });

    const delivered = await stages.run<ReportOutcome>("report", () => report({ roundId, request, result, budget, signal: options.signal }, deps));
    const finishedAt = clock.now();
    await store.updateRound(roundId, { status: "succeeded", reportedAt: delivered.deliveredAt, finishedAt, now: finishedAt });
    events.emit("round-finish", roundId, { repoUrl: result.repoUrl, commitSha: result.commitSha, pagesUrl: result.pagesUrl, durationMs: finishedAt - round.createdAt });
    leaveFlight();

    // After the report, so it never delays it; see live-check-stage.ts. A fallback has no app to check.
    if (deps.checkRunner && !built.fallback) {
      await scheduleLiveCheck({ roundId, request, analysis, built, result, history }, stages, deps, deps.checkRunner);
    }
  } catch (error) {
    const retryable = error instanceof BriefwrightError ? error.isRetryable : false;
    const terminal = !retryable || error instanceof ReportDeliveryError || budget.remainingMs() <= 0;
    const now = clock.now();
    await store.updateRound(roundId, {
      status: terminal ? "failed" : "queued",
      error: describeError(error),
      ...(terminal ? { finishedAt: now } : {}),
      now,
    });
    if (terminal) {
      events.emit("round-fail", roundId, { error: describeError(error), code: error instanceof BriefwrightError ? error.code : "internal" });
    }
    throw error;
  } finally {
    leaveFlight();
  }
}

/**
 * The repository a round N > 1 revises, once the rounds before it are done: the newest round 1's
 * (a round 1 sent again with a new nonce built in a fresh one), as the forge named it.
 */
async function repositoryToRevise(deps: PipelineDeps, task: TaskRecord, round: RoundRecord): Promise<string> {
  const fresh = (await deps.store.getTask(task.id)) ?? task;
  const firstRounds = fresh.rounds.filter((r) => r.round === 1 && r.id !== round.id && r.repoName !== null);
  return firstRounds.sort((a, b) => a.createdAt - b.createdAt).at(-1)?.repoName ?? task.repoName;
}

/** Whether the job runner should try the round again later. */
export function shouldRetryRound(error: unknown): boolean {
  return error instanceof BriefwrightError && error.isRetryable && !(error instanceof ReportDeliveryError);
}

