import { DeadlineExceededError } from "../domain/errors.ts";
import type { Clock } from "../ports/clock.ts";

/**
 * The round's time budget: every stage draws on what is left before the deadline, keeping a
 * reserve for the stages after it (deploy and report must still fit).
 */
export class RoundBudget {
  readonly deadlineAt: number;
  private readonly clock: Clock;

  constructor(deadlineAt: number, clock: Clock) {
    this.deadlineAt = deadlineAt;
    this.clock = clock;
  }

  remainingMs(): number {
    return Math.max(0, this.deadlineAt - this.clock.now());
  }

  /** Time a stage may spend while leaving `reserveMs` for what follows. */
  allowanceMs(reserveMs: number): number {
    return Math.max(0, this.remainingMs() - reserveMs);
  }

  /** An AbortSignal that fires when the allowance runs out (combined with `parent`). */
  signal(reserveMs: number, parent?: AbortSignal): AbortSignal {
    const allowance = this.allowanceMs(reserveMs);
    if (allowance <= 0) {
      throw new DeadlineExceededError(`no time left: ${this.remainingMs()} ms remain and ${reserveMs} ms are reserved`);
    }
    const timeout = AbortSignal.timeout(allowance);
    return parent ? AbortSignal.any([timeout, parent]) : timeout;
  }
}
