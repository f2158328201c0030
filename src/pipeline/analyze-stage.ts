import { decodeAttachment } from "../domain/attachment.ts";
import { normalizeChecks, type Check } from "../domain/check.ts";
import type { TaskRequest } from "../domain/task.ts";
import type { EventBus } from "../ports/event-bus.ts";

export interface AnalyzedAttachment {
  readonly name: string;
  readonly mimeType: string;
  readonly bytes: number;
  readonly base64: string;
}

export interface Analysis {
  readonly attachments: readonly AnalyzedAttachment[];
  readonly checks: readonly Check[];
}

/** Decodes every attachment and normalises the checks. Pure apart from events. */
export function analyze(request: TaskRequest, roundId: string, deps: { events: EventBus; maxAttachmentBytes: number }): Analysis {
  const attachments = request.attachments.map((raw) => {
    const decoded = decodeAttachment(raw, deps.maxAttachmentBytes);
    deps.events.emit("attachment-decode", roundId, { name: decoded.name, mimeType: decoded.mimeType, bytes: decoded.content.length });
    return { name: decoded.name, mimeType: decoded.mimeType, bytes: decoded.content.length, base64: decoded.content.toString("base64") };
  });
  const checks = normalizeChecks(request.checks);
  deps.events.emit("check-normalize", roundId, {
    total: checks.length,
    js: checks.filter((c) => c.kind === "js").length,
    text: checks.filter((c) => c.kind === "text").length,
  });
  return { attachments, checks };
}
