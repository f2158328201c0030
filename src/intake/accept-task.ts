import { timingSafeEqual, createHash } from "node:crypto";
import { AuthenticationError } from "../domain/errors.ts";
import type { EventBus } from "../ports/event-bus.ts";
import type { Clock } from "../ports/clock.ts";
import type { AcceptRoundResult, Store } from "../ports/store.ts";
import { parseTaskRequest } from "./parse-task-request.ts";
import { repositoryNameFor } from "./repository-name.ts";

export interface AcceptTaskDeps {
  readonly store: Store;
  readonly events: EventBus;
  readonly clock: Clock;
  readonly studentSecret: string;
  readonly roundDeadlineMs: number;
  readonly maxAttachmentBytes: number;
  readonly allowPrivateUrls: boolean;
  /** Called after a new round is stored, so an idle worker claims it at once instead of polling. */
  readonly onAccepted: () => void;
}

export interface AcceptedTask extends AcceptRoundResult {
  readonly task: string;
  readonly round: number;
  readonly nonce: string;
}

/** Hashing first gives equal-length inputs, so the comparison time says nothing about the secret. */
function secretsMatch(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Intake: validate, authenticate, then store task + round + job in one transaction. Nothing is
 * written unless every check passed. Throws ValidationError or AuthenticationError.
 */
export function createAcceptTask(deps: AcceptTaskDeps): (body: unknown) => Promise<AcceptedTask> {
  return async (body) => {
    const { request, secret } = parseTaskRequest(body, deps);
    if (!secretsMatch(secret, deps.studentSecret)) throw new AuthenticationError();
    const now = deps.clock.now();
    const result = await deps.store.acceptRound({
      request,
      repoNameCandidate: repositoryNameFor(request.task),
      deadlineAt: now + deps.roundDeadlineMs,
      now,
    });
    if (result.created) {
      deps.events.emit("round-accept", result.roundId, {
        taskId: result.taskId,
        task: request.task,
        round: request.round,
        nonce: request.nonce,
      });
      deps.onAccepted();
    }
    return { ...result, task: request.task, round: request.round, nonce: request.nonce };
  };
}
