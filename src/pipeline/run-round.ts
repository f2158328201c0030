import { NotFoundError, ReportDeliveryError, describeError, BriefwrightError } from "../domain/errors.ts";
import { repositoryDescription } from "../domain/repository-description.ts";
import type { DeployResult } from "../domain/task.ts";
import { analyze, type Analysis } from "./analyze-stage.ts";
import { build, type Build } from "./build-stage.ts";
import { deploy } from "./deploy-stage.ts";
import { historyOf, scheduleLiveCheck } from "./live-check-stage.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";
import { report, type ReportOutcome } from "./report-stage.ts";
import { RoundBudget } from "./round-budget.ts";
import { StageRunner } from "./stage-runner.ts";

/** How long a round waits for an earlier round of the same task before it goes ahead anyway. */
const earlierRoundPollMs = 250;

/**
 * Runs one round, stage by stage, resuming after the last stage that finished before a crash.
 * Idempotent: running a finished round again changes nothing.
 */
export async function runRound(roundId: string, deps: PipelineDeps, options: { attempt: number; signal?: AbortSignal }): Promise<void> {
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
    const history = await historyOf(deps, task.id, round.round);
    // The forge names the repository (a taken name gets a suffix); later rounds revise that one.
    const prior = await store.listPriorRounds(task.id, round.round);
    const asked = prior.findLast((r) => r.result?.repoName)?.result?.repoName ?? task.repoName;
    const repo = await deps.forge.ensureRepository(asked, { description: repositoryDescription(request.brief) });
    if (repo.name !== asked) events.emit("repository-rename", roundId, { asked, given: repo.name });
    const repository = request.round > 1 ? await deps.forge.readFiles(repo.name) : undefined;
    const current = repository?.files;
    const built = await stages.run<Build>("build", () =>
      build(
        {
          roundId,
          request,
          checks: analysis.checks,
          attachments: analysis.attachments,
          current,
          history,
          rounds: [...history.map((r) => ({ round: r.round, brief: r.brief })), { round: request.round, brief: request.brief }],
          repoUrl: repo.repoUrl,
          pagesUrl: repo.pagesUrl,
          acceptedAt: round.createdAt,
          signal: budget.signal(deps.settings.deployReserveMs, options.signal),
          budget,
          reserveMs: deps.settings.deployReserveMs,
        },
        deps,
      ),
    );

    const result = await stages.run<DeployResult>("deploy", async () => {
      const deployed = await deploy({ roundId, repoName: repo.name, request, files: built.files, budget, reportReserveMs }, deps);
      await store.updateRound(roundId, { result: deployed, now: clock.now() });
      return deployed;
    });

    const delivered = await stages.run<ReportOutcome>("report", () => report({ roundId, request, result, budget, signal: options.signal }, deps));
    const finishedAt = clock.now();
    await store.updateRound(roundId, { status: "succeeded", reportedAt: delivered.deliveredAt, finishedAt, now: finishedAt });
    events.emit("round-finish", roundId, { repoUrl: result.repoUrl, commitSha: result.commitSha, pagesUrl: result.pagesUrl, durationMs: finishedAt - round.createdAt });
    leaveFlight();

    // After the report, so it never delays it; see live-check-stage.ts.
    if (deps.checkRunner) {
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

/** Whether the job runner should try the round again later. */
export function shouldRetryRound(error: unknown): boolean {
  return error instanceof BriefwrightError && error.isRetryable && !(error instanceof ReportDeliveryError);
}

