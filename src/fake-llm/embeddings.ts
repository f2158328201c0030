import { z } from "zod";
import { estimateTokens } from "./chat-request.ts";
import { invalidBody } from "./http-helpers.ts";

export const DEFAULT_EMBEDDING_DIMENSIONS = 384;

/**
 * A deterministic unit vector for a text: each lower-cased word adds ±1 at a hashed position
 * (the hashing trick). Texts that share words point the same way, so similarity search over
 * these vectors behaves sensibly in tests, with no model weights.
 */
export function embedText(text: string, dimensions = DEFAULT_EMBEDDING_DIMENSIONS): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const match of text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    const hash = fnv1a(match[0]);
    vector[hash % dimensions]! += (hash >>> 31) === 0 ? 1 : -1;
  }
  const norm = Math.hypot(...vector);
  if (norm === 0) {
    // An empty text still needs a unit vector; a fixed axis keeps it deterministic.
    vector[0] = 1;
    return vector;
  }
  return vector.map((value) => value / norm);
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

const embeddingsBodySchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()).min(1)]),
  dimensions: z.number().int().min(1).max(8192).nullish(),
});

/** `POST /v1/embeddings`, answered in OpenAI's shape. */
export function answerEmbeddings(body: unknown): { model: string; answer: unknown; promptTokens: number } {
  const result = embeddingsBodySchema.safeParse(body);
  if (!result.success) {
    throw invalidBody("embeddings request", result.error.issues);
  }
  const { model, input, dimensions } = result.data;
  const texts = typeof input === "string" ? [input] : input;
  const promptTokens = texts.reduce((sum, text) => sum + estimateTokens(text), 0);
  return {
    model,
    promptTokens,
    answer: {
      object: "list",
      data: texts.map((text, index) => ({ object: "embedding", index, embedding: embedText(text, dimensions ?? undefined) })),
      model,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    },
  };
}
