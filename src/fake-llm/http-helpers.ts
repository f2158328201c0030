import type { IncomingMessage, ServerResponse } from "node:http";

/** A request the server refuses with 4xx; `status` and `message` go into the provider's error shape. */
export class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = "invalid_request",
  ) {
    super(message);
  }
}

/** A 400 that lists what a request body got wrong, field by field. */
export function invalidBody(what: string, issues: readonly { path: readonly PropertyKey[]; message: string }[]): BadRequest {
  const listed = issues.map((issue) => `${issue.path.map(String).join(".") || "(body)"}: ${issue.message}`).join("; ");
  return new BadRequest(400, `invalid ${what}: ${listed}`);
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Reads and parses a JSON body; a missing, oversized or broken body is a BadRequest. */
export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(413, `request body exceeds ${MAX_BODY_BYTES} bytes`, "body_too_large");
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") throw new BadRequest(400, "request body is empty; expected JSON");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadRequest(400, `request body is not valid JSON: ${(error as Error).message}`);
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  response.end(text);
}

/** Resolves when the client has gone away (or the server dropped the connection). */
export function whenClosed(response: ServerResponse): Promise<void> {
  if (response.destroyed || response.writableFinished) return Promise.resolve();
  return new Promise((resolve) => response.once("close", () => resolve()));
}

/** Waits `ms`, or less if the client goes away first; returns whether the client is still there. */
export async function waitUnlessClosed(response: ServerResponse, ms: number): Promise<boolean> {
  if (ms <= 0) return !response.destroyed;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, ms))), whenClosed(response)]);
  clearTimeout(timer);
  return !response.destroyed;
}

/** An event with a name (`event:` line), as Anthropic sends them; clients may dispatch on it. */
export interface ServerSentEvent {
  readonly event: string;
  readonly data: string;
}

/**
 * Answers with server-sent events, one `data:` line per payload (after an `event:` line for a
 * named one), honouring back-pressure so a big answer does not pile up in memory. Stops quietly
 * if the client goes away.
 */
export async function sendEventStream(response: ServerResponse, payloads: readonly (string | ServerSentEvent)[], separator = "\n\n"): Promise<void> {
  if (response.destroyed) return;
  response.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  for (const payload of payloads) {
    if (response.destroyed) return;
    const frame = typeof payload === "string" ? `data: ${payload}` : `event: ${payload.event}\ndata: ${payload.data}`;
    if (!response.write(`${frame}${separator}`)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          response.off("drain", done);
          response.off("close", done);
          resolve();
        };
        response.once("drain", done);
        response.once("close", done);
      });
    }
  }
  response.end();
}

/**
 * Splits a streamed answer into several deltas, as a real model would send it. Whole code
 * points only, so no delta ends inside a surrogate pair; at least two deltas when there is text
 * to split, so stream handling is exercised even for short answers.
 */
export function splitForStreaming(text: string, maxPieceLength = 64): string[] {
  const codePoints = Array.from(text);
  if (codePoints.length === 0) return [];
  const size = Math.max(1, Math.min(maxPieceLength, Math.ceil(codePoints.length / 2)));
  const pieces: string[] = [];
  for (let index = 0; index < codePoints.length; index += size) {
    pieces.push(codePoints.slice(index, index + size).join(""));
  }
  return pieces;
}
