import { decodeAttachment } from "../domain/attachment.ts";
import { ValidationError, describeError, type ValidationIssue } from "../domain/errors.ts";
import type { TaskRequest } from "../domain/task.ts";
import { assertUrlLooksPublic } from "../net/outbound-url-guard.ts";
import { taskRequestSchema } from "./task-request-schema.ts";

export interface ParsedTaskRequest {
  readonly request: TaskRequest;
  /** Kept apart so it can be compared and dropped; it is never stored. */
  readonly secret: string;
}

/**
 * The secret a request body presents, read before anything else is validated or decoded, so a
 * stranger's request costs no more than a hash (intake order: size → JSON → secret → fields →
 * attachments). Throws ValidationError when the body is not an object or has no string secret.
 */
export function presentedSecret(body: unknown): string {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new ValidationError([{ path: "(body)", message: "must be a JSON object" }]);
  }
  const secret = (body as { secret?: unknown }).secret;
  if (typeof secret !== "string") throw new ValidationError([{ path: "secret", message: "must be a string" }]);
  return secret;
}

/**
 * Validates a request body completely — shape, URL, every attachment's name and data — so that
 * a request is either accepted whole or refused with the list of what is wrong.
 */
export function parseTaskRequest(body: unknown, limits: { maxAttachmentBytes: number; allowPrivateUrls: boolean }): ParsedTaskRequest {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new ValidationError([{ path: "(body)", message: "must be a JSON object" }]);
  }
  const parsed = taskRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw new ValidationError(
      parsed.error.issues.map((issue) => ({ path: issue.path.join(".") || "(body)", message: issue.message })),
    );
  }
  const wire = parsed.data;
  const issues: ValidationIssue[] = [];
  try {
    assertUrlLooksPublic(wire.evaluation_url, limits.allowPrivateUrls);
  } catch (error) {
    issues.push({ path: "evaluation_url", message: describeError(error) });
  }
  const names = new Set<string>();
  wire.attachments.forEach((attachment, index) => {
    try {
      const decoded = decodeAttachment(attachment, limits.maxAttachmentBytes);
      if (names.has(decoded.name)) issues.push({ path: `attachments.${index}.name`, message: `duplicate name ${decoded.name}` });
      names.add(decoded.name);
    } catch (error) {
      issues.push({ path: `attachments.${index}`, message: describeError(error) });
    }
  });
  if (issues.length > 0) throw new ValidationError(issues);
  return {
    secret: wire.secret,
    request: {
      email: wire.email,
      task: wire.task,
      round: wire.round,
      nonce: wire.nonce,
      brief: wire.brief,
      checks: wire.checks,
      evaluationUrl: wire.evaluation_url,
      attachments: wire.attachments.map((a) => ({ name: a.name.trim(), url: a.url })),
    },
  };
}
