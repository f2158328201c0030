import { AuthenticationError, RoundConflictError } from "../domain/errors.ts";
import { createSecretMatcher } from "../domain/secret-matcher.ts";
import type { EventMap, EventName } from "../events/event-map.ts";
import type { EventBus } from "../ports/event-bus.ts";
import type { Clock } from "../ports/clock.ts";
import type { AcceptRoundResult, Store } from "../ports/store.ts";
import { parseTaskRequest, presentedSecret } from "./parse-task-request.ts";
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

/**
 * Events intake stores in the accepted round's own transaction (as its first events) before it
 * emits them: the event recorder must not store them a second time. One write instead of a
 * second transaction per request, and the round never exists without its accept event.
 */
export const eventsStoredWithTheRound: ReadonlySet<EventName> = new Set<EventName>(["round-accept"]);

/**
 * Intake: validate, authenticate, then store task + round + job in one transaction. Nothing is
 * written unless every check passed. Throws ValidationError, AuthenticationError or RoundConflictError.
 */
export function createAcceptTask(deps: AcceptTaskDeps): (body: unknown) => Promise<AcceptedTask> {
  const secretMatches = createSecretMatcher(deps.studentSecret);
  return async (body) => {
    // The secret first: a stranger's attachments are never decoded.
    if (!secretMatches(presentedSecret(body))) throw new AuthenticationError();
    const { request } = parseTaskRequest(body, deps);
    const now = deps.clock.now();
    const acceptEvent = (taskId: string): EventMap["round-accept"] => ({ taskId, task: request.task, round: request.round, nonce: request.nonce });
    const result = await deps.store.acceptRound({
      request,
      repoNameCandidate: repositoryNameFor(request.task),
      deadlineAt: now + deps.roundDeadlineMs,
      now,
      // Kept with the round itself (see eventsStoredWithTheRound), then announced on the bus.
      firstEvents: (accepted) => [{ name: "round-accept", at: now, payload: acceptEvent(accepted.taskId) }],
    });
    // A retry repeats its body; another body under the same key is a different request, not a retry.
    if (result.storedRequestDiffers) throw new RoundConflictError(`task ${request.task} round ${request.round} nonce ${request.nonce}`);
    if (result.created) {
      deps.events.emit("round-accept", result.roundId, acceptEvent(result.taskId));
      deps.onAccepted();
    }
    return { ...result, task: request.task, round: request.round, nonce: request.nonce };
  };
}
