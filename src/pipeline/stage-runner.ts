import { BriefwrightError, describeError } from "../domain/errors.ts";
import type { EventBus } from "../ports/event-bus.ts";
import type { Clock } from "../ports/clock.ts";
import type { StageRecord, Store } from "../ports/store.ts";
import type { RoundBudget } from "./round-budget.ts";

/**
 * Runs stages of one round with checkpoints: a stage that succeeded before (this attempt or an
 * earlier one, before a crash) is not run again; its stored output is returned instead.
 */
export class StageRunner {
  private readonly done = new Map<string, StageRecord>();
  private readonly attempts = new Map<string, number>();

  private constructor(
    private readonly roundId: string,
    private readonly deps: { store: Store; events: EventBus; clock: Clock },
    private readonly budget: RoundBudget,
  ) {}

  static async load(roundId: string, deps: { store: Store; events: EventBus; clock: Clock }, budget: RoundBudget): Promise<StageRunner> {
    const runner = new StageRunner(roundId, deps, budget);
    for (const stage of await deps.store.listStages(roundId)) {
      runner.attempts.set(stage.name, stage.attempt);
      if (stage.status === "succeeded") runner.done.set(stage.name, stage);
    }
    return runner;
  }

  /** Output of a finished stage, if any. */
  outputOf<T>(name: string): T | undefined {
    return this.done.get(name)?.output as T | undefined;
  }

  async run<T>(name: string, work: () => Promise<T>): Promise<T> {
    const { store, events, clock } = this.deps;
    const finished = this.done.get(name);
    if (finished) {
      events.emit("stage-skip", this.roundId, { stage: name, reason: "finished before a restart" });
      return finished.output as T;
    }
    const attempt = (this.attempts.get(name) ?? 0) + 1;
    this.attempts.set(name, attempt);
    const startedAt = clock.now();
    await store.saveStage(this.roundId, { name, status: "running", attempt, startedAt, finishedAt: null, output: null, error: null });
    events.emit("stage-start", this.roundId, { stage: name, attempt, budgetLeftMs: this.budget.remainingMs() });
    try {
      const output = await work();
      const finishedAt = clock.now();
      const record: StageRecord = { name, status: "succeeded", attempt, startedAt, finishedAt, output: output ?? null, error: null };
      await store.saveStage(this.roundId, record);
      this.done.set(name, record);
      events.emit("stage-finish", this.roundId, { stage: name, durationMs: finishedAt - startedAt });
      return output;
    } catch (error) {
      const finishedAt = clock.now();
      const message = describeError(error);
      await store.saveStage(this.roundId, { name, status: "failed", attempt, startedAt, finishedAt, output: null, error: message });
      events.emit("stage-fail", this.roundId, {
        stage: name,
        durationMs: finishedAt - startedAt,
        error: message,
        code: error instanceof BriefwrightError ? error.code : "internal",
        retryable: error instanceof BriefwrightError ? error.isRetryable : false,
      });
      throw error;
    }
  }
}
