import { z } from "zod";
import type { AnswerContent, ChatRequest, ResponseFormat, TokenUsage } from "./chat-request.ts";
import { BadRequest, invalidBody, splitForStreaming } from "./http-helpers.ts";
import { hasFilesProperty } from "./openai-protocol.ts";

/**
 * Gemini's `generateContent` / `streamGenerateContent` wire protocol, as the AI SDK's Google
 * provider speaks it (camelCase REST fields; snake_case `system_instruction` accepted too).
 */

const partSchema = z.looseObject({
  text: z.string().nullish(),
  functionCall: z.looseObject({ args: z.unknown().optional() }).nullish(),
  functionResponse: z.looseObject({ response: z.unknown().optional() }).nullish(),
});

const contentSchema = z.looseObject({ role: z.string().nullish(), parts: z.array(partSchema) });

const generateBodySchema = z.looseObject({
  contents: z.array(contentSchema).min(1),
  systemInstruction: z.looseObject({ parts: z.array(partSchema) }).nullish(),
  system_instruction: z.looseObject({ parts: z.array(partSchema) }).nullish(),
  generationConfig: z
    .looseObject({
      responseMimeType: z.string().nullish(),
      responseSchema: z.unknown().optional(),
      responseJsonSchema: z.unknown().optional(),
    })
    .nullish(),
  tools: z
    .array(
      z.looseObject({
        functionDeclarations: z
          .array(z.looseObject({ name: z.string(), parameters: z.unknown().optional(), parametersJsonSchema: z.unknown().optional() }))
          .nullish(),
      }),
    )
    .nullish(),
  toolConfig: z.looseObject({ functionCallingConfig: z.looseObject({ mode: z.string().nullish() }).nullish() }).nullish(),
});

export function parseGeminiRequest(body: unknown, model: string, stream: boolean): ChatRequest {
  const result = generateBodySchema.safeParse(body);
  if (!result.success) {
    throw invalidBody("generateContent request", result.error.issues);
  }
  const parsed = result.data;
  const systemText = partsText((parsed.systemInstruction ?? parsed.system_instruction)?.parts ?? []);
  const texts = parsed.contents.map((content) => partsText(content.parts));
  const lastUserIndex = parsed.contents.findLastIndex((content) => (content.role ?? "user") === "user");
  const toolsOff = parsed.toolConfig?.functionCallingConfig?.mode === "NONE";
  const declarations = (parsed.tools ?? []).flatMap((tool) => tool.functionDeclarations ?? []);
  if (declarations.length > 0 && parsed.generationConfig?.responseMimeType === "application/json") {
    // As Gemini 2.x does: JSON mode and function calling do not go together.
    throw new BadRequest(400, "Function calling with a response mime type: 'application/json' is unsupported");
  }
  return {
    model,
    systemText,
    conversationText: [systemText, ...texts].filter((text) => text !== "").join("\n"),
    lastUserText: texts[lastUserIndex] ?? "",
    stream,
    responseFormat: responseFormat(parsed.generationConfig),
    filesToolName: toolsOff
      ? undefined
      : declarations.find((declaration) => hasFilesProperty(declaration.parameters ?? declaration.parametersJsonSchema))?.name,
    offeredTools: toolsOff ? [] : declarations.map((declaration) => declaration.name),
  };
}

function partsText(parts: readonly z.infer<typeof partSchema>[]): string {
  return parts
    .map((part) => {
      if (typeof part.text === "string") return part.text;
      if (part.functionCall) return JSON.stringify(part.functionCall.args ?? {});
      if (part.functionResponse) return JSON.stringify(part.functionResponse.response ?? {});
      return "";
    })
    .join("");
}

function responseFormat(config: z.infer<typeof generateBodySchema>["generationConfig"]): ResponseFormat {
  const schema = config?.responseSchema ?? config?.responseJsonSchema;
  if (schema !== undefined && schema !== null) return { type: "json-schema", schema };
  if (config?.responseMimeType === "application/json") return { type: "json-object" };
  return { type: "text" };
}

function modelParts(content: AnswerContent): unknown[] {
  return content.type === "text" ? [{ text: content.text }] : content.calls.map((call) => ({ functionCall: { name: call.toolName, args: call.arguments } }));
}

function usageMetadata(usage: TokenUsage) {
  return { promptTokenCount: usage.promptTokens, candidatesTokenCount: usage.completionTokens, totalTokenCount: usage.totalTokens };
}

/** The `GenerateContentResponse` body of a plain (non-streamed) answer. */
export function geminiResponse(request: ChatRequest, content: AnswerContent, usage: TokenUsage, id: string): unknown {
  return {
    candidates: [{ content: { role: "model", parts: modelParts(content) }, finishReason: "STOP", index: 0 }],
    usageMetadata: usageMetadata(usage),
    modelVersion: request.model,
    responseId: id,
  };
}

/**
 * The chunks of a streamed answer. Text arrives in pieces; function calls come whole, together in
 * one chunk, as Gemini sends them. The last chunk carries the finish reason and usage.
 */
export function geminiStreamChunks(request: ChatRequest, content: AnswerContent, usage: TokenUsage, id: string): unknown[] {
  const chunks = content.type === "text" ? splitForStreaming(content.text).map((text) => [{ text }]) : [modelParts(content)];
  if (chunks.length === 0) chunks.push([{ text: "" }]);
  return chunks.map((parts, index) => {
    const last = index === chunks.length - 1;
    return {
      candidates: [{ content: { role: "model", parts }, index: 0, ...(last ? { finishReason: "STOP" } : {}) }],
      ...(last ? { usageMetadata: usageMetadata(usage) } : {}),
      modelVersion: request.model,
      responseId: id,
    };
  });
}

/** Gemini's error body: `{error: {code, message, status}}` with Google's canonical status names. */
export function geminiErrorBody(status: number, message: string): unknown {
  return { error: { code: status, message, status: googleStatusName(status) } };
}

function googleStatusName(status: number): string {
  const names: Record<number, string> = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
  };
  return names[status] ?? (status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION");
}

/** `GET /v1beta/models`: any model id is served; the list names the ones seen so far. */
export function geminiModelList(models: Iterable<string>): unknown {
  return {
    models: [...new Set(["fake-llm", ...models])].map((id) => ({
      name: `models/${id}`,
      displayName: id,
      supportedGenerationMethods: ["generateContent", "streamGenerateContent"],
    })),
  };
}
