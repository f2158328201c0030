import { declaredOutputFormat, OUTPUT_FORMATS, type OutputFormat } from "../domain/output-format.ts";
import { answerUsage, type AnswerContent, type ChatRequest, type TokenUsage } from "./chat-request.ts";
import type { FixtureResponse } from "./fixture-file.ts";
import type { FixtureScript, ScriptedResponse } from "./fixture-script.ts";
import { renderFiles } from "./render-files.ts";
import { synthesizeAnswerText } from "./synthesize-answer.ts";

/** How a file-producing request asked for its files. */
export type FileDelivery = OutputFormat | "tool-call";

/** What the server will do with one chat request, decided before any byte is written. */
export type AnswerPlan = {
  /** Undefined when the request produces no files. */
  readonly delivery: FileDelivery | undefined;
  readonly scripted: ScriptedResponse | undefined;
  readonly delayMs: number;
} & (
  | { readonly kind: "content"; readonly content: AnswerContent; readonly usage: TokenUsage }
  | { readonly kind: "error"; readonly status: number; readonly code: string; readonly message: string; readonly retryAfterSeconds?: number }
  | { readonly kind: "hang" }
);

/**
 * Decides the answer. A files tool wins over a format line because a tool call is the more
 * explicit request; without either, the request is not file-producing and consumes no fixture.
 */
export function planAnswer(request: ChatRequest, script: FixtureScript): AnswerPlan {
  const declared = declaredOutputFormat(request.systemText);
  if (typeof declared === "object" && request.filesToolName === undefined) {
    return {
      kind: "error",
      status: 400,
      code: "unknown_output_format",
      message: `fake-llm: unknown output format "${declared.unknown}"; expected one of ${OUTPUT_FORMATS.join(", ")}`,
      delivery: undefined,
      scripted: undefined,
      delayMs: 0,
    };
  }
  const delivery: FileDelivery | undefined =
    request.filesToolName !== undefined ? "tool-call" : typeof declared === "object" ? undefined : declared;
  if (delivery === undefined) {
    const content: AnswerContent = { type: "text", text: synthesizeAnswerText(request) };
    return { kind: "content", content, usage: answerUsage(request, content), delivery, scripted: undefined, delayMs: 0 };
  }

  const picked = script.next(request.conversationText);
  if (!("response" in picked)) {
    const lists = picked.tried.map((match) => JSON.stringify(match));
    return {
      kind: "error",
      status: 404,
      code: "no_matching_fixture",
      message:
        `fake-llm: no fixture matches this file-producing request (${delivery}); ` +
        (lists.length === 0 ? "no fixtures are loaded" : `tried match lists ${lists.join(", ")}`),
      delivery,
      scripted: undefined,
      delayMs: 0,
    };
  }

  const { response } = picked;
  const common = { delivery, scripted: picked, delayMs: response.delay_ms ?? 0 };
  if (response.hang === true) return { kind: "hang", ...common };
  if (response.status !== undefined && response.status !== 200) {
    return {
      kind: "error",
      status: response.status,
      code: "scripted_error",
      message: response.message ?? `fake-llm: scripted HTTP ${response.status} from ${picked.fixtureSource}`,
      ...(response.retry_after === undefined ? {} : { retryAfterSeconds: response.retry_after }),
      ...common,
    };
  }
  if (response.tool_calls !== undefined) {
    // A real model cannot call what it was not offered; a fixture that scripts it is out of step with the product.
    const missing = [...new Set(response.tool_calls.map((call) => call.name))].filter((name) => !request.offeredTools.includes(name));
    if (missing.length > 0) {
      const offered = request.offeredTools.length === 0 ? "none (or tools turned off)" : request.offeredTools.join(", ");
      return {
        kind: "error",
        status: 400,
        code: "tool_not_offered",
        message: `fake-llm: ${picked.fixtureSource} scripts a call to ${missing.join(", ")}, but the request offers ${offered}`,
        ...common,
      };
    }
  }
  const content = scriptedContent(request, delivery, response);
  return { kind: "content", content, usage: answerUsage(request, content), ...common };
}

function scriptedContent(request: ChatRequest, delivery: FileDelivery, response: FixtureResponse): AnswerContent {
  if (response.tool_calls !== undefined) {
    return { type: "tool-calls", calls: response.tool_calls.map((call) => ({ toolName: call.name, arguments: call.arguments })) };
  }
  if (response.text !== undefined) return { type: "text", text: response.text };
  const files = response.files ?? {};
  if (delivery === "tool-call") {
    return { type: "tool-calls", calls: [{ toolName: request.filesToolName!, arguments: { files } }] };
  }
  return { type: "text", text: renderFiles(files, delivery) };
}
