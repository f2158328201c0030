import { z } from "zod";
import { describeError } from "../domain/errors.ts";
import type { JsonSchemaObject, LanguageModel } from "../ports/language-model.ts";
import { renderPrompt } from "./prompt-templates.ts";

/** The parts of the README the model writes; the rest (setup, licence, history) is ours. */
export interface ReadmeProse {
  readonly summary: string;
  readonly usage: string;
  readonly codeExplanation: string;
}

const answerSchema = z.object({
  summary: z.string().trim().min(20).max(4000),
  usage: z.string().trim().min(20).max(6000),
  code_explanation: z.string().trim().min(20).max(8000),
});

/**
 * What the provider is asked to produce. Lengths stay with zod above: OpenAI's strict mode and
 * Gemini's schema subset refuse or drop `minLength`/`maxLength`, and the answer is checked anyway.
 */
const answerJsonSchema: JsonSchemaObject = {
  type: "object",
  properties: {
    summary: { type: "string", description: "What the app is and does, for someone who has not seen it." },
    usage: { type: "string", description: "How to use the app in the browser, step by step." },
    code_explanation: { type: "string", description: "How the code is organised and how it works." },
  },
  required: ["summary", "usage", "code_explanation"],
  additionalProperties: false,
};

const maxFileChars = 12_000;

/**
 * Asks the model for the README's prose. Returns the prose, or the reason there is none (a
 * failed call, an answer of the wrong shape); the caller then keeps the template's own text.
 */
export async function writeReadmeProse(
  model: LanguageModel,
  input: { readonly briefs: readonly { round: number; brief: string }[]; readonly files: ReadonlyMap<string, string>; readonly signal: AbortSignal },
  call: (model: LanguageModel, request: Parameters<LanguageModel["generate"]>[0]) => Promise<{ text: string }>,
): Promise<{ prose: ReadmeProse } | { reason: string }> {
  const files = [...input.files]
    .map(([path, text]) => `## ${path}\n\n\`\`\`\n${text.length > maxFileChars ? `${text.slice(0, maxFileChars)}\n…` : text}\n\`\`\``)
    .join("\n\n");
  try {
    const answer = await call(model, {
      purpose: "readme",
      system: renderPrompt("readme.system", {}),
      messages: [
        {
          role: "user",
          content: renderPrompt("readme.user", {
            briefs: input.briefs.map((b) => `## Round ${b.round}\n\n${b.brief}`).join("\n\n"),
            files,
          }),
        },
      ],
      format: "json",
      schema: answerJsonSchema,
      signal: input.signal,
    });
    const text = answer.text.trim().replace(/^```(?:json)?\s*\n([\s\S]*)\n```$/i, "$1");
    const parsed = answerSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return { reason: `README prose has the wrong shape: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}` };
    return { prose: { summary: parsed.data.summary, usage: parsed.data.usage, codeExplanation: parsed.data.code_explanation } };
  } catch (error) {
    return { reason: `README prose not written: ${describeError(error)}` };
  }
}
