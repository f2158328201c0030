import { normalizeChecks } from "../domain/check.ts";
import type { DeployResult, TaskRequest } from "../domain/task.ts";
import { checkLive, type LiveCheck } from "../verify/live-check.ts";
import type { CheckRunner } from "../verify/check-runner.ts";
import type { Analysis } from "./analyze-stage.ts";
import { contractFor, type Build, type BuildInput } from "./build-stage.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";
import { RoundBudget } from "./round-budget.ts";
import { StageRunner } from "./stage-runner.ts";

/** What a live check needs from the round it checks: all of it is in the round's checkpoints. */
export interface LiveCheckInput {
  readonly roundId: string;
  readonly request: TaskRequest;
  readonly analysis: Analysis;
  readonly built: Build;
  readonly result: DeployResult;
  readonly history: BuildInput["history"];
}

/**
 * The `live-check` stage: the round's checks once more, against the live Pages URL, recorded next
 * to the pre-deploy verdict. Runs after the report (it never delays it), on the idle lane when
 * there is one, so it never slows a round that is still racing its deadline. A failure is a
 * failed stage; the round was delivered all the same.
 */
export function scheduleLiveCheck(input: LiveCheckInput, stages: StageRunner, deps: PipelineDeps, checkRunner: CheckRunner): Promise<void> {
  const liveCheck = () =>
    stages.run<LiveCheck>("live-check", async () => {
      const contract = contractFor(
        { request: input.request, checks: input.analysis.checks, attachments: input.analysis.attachments, history: input.history },
        deps.settings.maxAttachmentBytes,
      );
      const chosen = input.built.attempts.find((a) => a.attempt === input.built.chosenAttempt)?.verdict;
      const live = await checkLive({
        url: input.result.pagesUrl,
        checks: contract.checks,
        derived: input.built.derived,
        runner: checkRunner,
        before: new Map((chosen?.checks ?? []).filter((c) => c.kind === "page" || c.kind === "js").map((c) => [c.id, c.passed])),
        checkTimeoutMs: deps.settings.checkTimeoutMs,
      });
      deps.events.emit("live-check", input.roundId, {
        passed: live.passed,
        score: live.score,
        total: live.total,
        agrees: live.differences.length === 0,
        differences: [...live.differences],
      });
      return live;
    });
  if (deps.afterRound) {
    deps.afterRound.schedule(liveCheck);
    return Promise.resolve();
  }
  return liveCheck().then(
    () => undefined,
    () => undefined,
  );
}

/**
 * The earlier rounds' briefs and checks a round is checked against (regression): those that
 * built the repository it revises (a round 1 sent again built another repository).
 */
export async function historyOf(
  deps: Pick<PipelineDeps, "store">,
  taskId: string,
  round: number,
  repoName: string | null,
): Promise<LiveCheckInput["history"]> {
  const prior = await deps.store.listPriorRounds(taskId, round);
  return prior
    .filter((r) => repoName === null || r.repoName === null || r.repoName === repoName)
    .map((r) => ({ round: r.round, brief: r.request.brief, checks: normalizeChecks(r.request.checks) }));
}

/**
 * Live checks that a stop or crash cut off (the idle lane lives in memory): at start, every round
 * that succeeded since `since` without a finished live check gets one, from its checkpoints.
 * Returns how many were scheduled; a store failure rejects, for the caller to log.
 */
export async function resumeLiveChecks(deps: PipelineDeps, since: number): Promise<number> {
  const checkRunner = deps.checkRunner;
  if (!checkRunner) return 0;
  let scheduled = 0;
  for (const round of await deps.store.listRoundsAwaitingLiveCheck(since)) {
    const stages = await StageRunner.load(round.id, deps, new RoundBudget(round.deadlineAt, deps.clock));
    const analysis = stages.outputOf<Analysis>("analyze");
    const built = stages.outputOf<Build>("build");
    const result = round.result ?? stages.outputOf<DeployResult>("deploy");
    // A fallback has no app to check live (run-round.ts never schedules one).
    if (!analysis || !built || !result || built.fallback) continue;
    const history = await historyOf(deps, round.taskId, round.round, round.repoName);
    void scheduleLiveCheck({ roundId: round.id, request: round.request, analysis, built, result, history }, stages, deps, checkRunner);
    scheduled++;
  }
  return scheduled;
}
