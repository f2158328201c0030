/**
 * A chat request as the scripted LLM sees it, whichever wire protocol carried it. The protocol
 * modules translate to this and back, so matching and answering are written once.
 */
export interface ChatRequest {
  readonly model: string;
  /** The system message(s), where the `OUTPUT FORMAT:` line lives. */
  readonly systemText: string;
  /** System text and the text of every message, newline-joined: what fixtures match against. */
  readonly conversationText: string;
  /** The last user message's text, which non-file answers echo words from. */
  readonly lastUserText: string;
  readonly stream: boolean;
  readonly responseFormat: ResponseFormat;
  /** An offered function whose parameters have a `files` property: the answer calls it. */
  readonly filesToolName: string | undefined;
  /** Names of the functions the model may call now (none when the request turns tools off). */
  readonly offeredTools: readonly string[];
}

export type ResponseFormat =
  | { readonly type: "text" }
  | { readonly type: "json-object" }
  | { readonly type: "json-schema"; readonly schema: unknown };

/** What the model "says": text, or calls to tools (the files tool, or scripted `tool_calls`). */
export type AnswerContent =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "tool-calls"; readonly calls: readonly ToolCallContent[] };

export interface ToolCallContent {
  readonly toolName: string;
  readonly arguments: Readonly<Record<string, unknown>>;
}

export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
}

/** Deterministic token estimate, about four characters per token as a rule of thumb. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function answerUsage(request: ChatRequest, content: AnswerContent): TokenUsage {
  const promptTokens = estimateTokens(request.conversationText);
  const completionTokens = estimateTokens(
    content.type === "text" ? content.text : content.calls.map((call) => JSON.stringify(call.arguments)).join(""),
  );
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}
