import { Script } from "node:vm";
import { z } from "zod";
import type { ContractCheck } from "../domain/build-contract.ts";
import { describeError } from "../domain/errors.ts";
import { renderPrompt } from "../generation/prompt-templates.ts";
import type { LanguageModel, ModelCall } from "../ports/language-model.ts";
import type { DerivedCheck } from "./verify-candidate.ts";

const answerSchema = z.object({
  checks: z.array(z.object({ id: z.string(), js: z.string().min(1).max(2000) })).max(50),
});

function parsesAsExpression(source: string): boolean {
  try {
    new Script(`(async () => (${source}\n))`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Asks the model, once per round, to turn the natural-language checks into JS assertions. The
 * results are marked derived: they inform repair and never block a deploy. Returns what could be
 * derived and why the rest could not.
 */
export async function deriveChecks(
  model: LanguageModel,
  input: { readonly brief: string; readonly checks: readonly ContractCheck[]; readonly signal: AbortSignal },
  call: (model: LanguageModel, request: ModelCall) => Promise<{ text: string }>,
): Promise<{ derived: DerivedCheck[]; problems: string[] }> {
  const natural = input.checks.filter((c): c is Extract<ContractCheck, { kind: "natural" }> => c.kind === "natural" && c.origin === "current");
  if (natural.length === 0) return { derived: [], problems: [] };
  try {
    const answer = await call(model, {
      purpose: "derive-checks",
      system: renderPrompt("derive-checks.system", {}),
      messages: [{ role: "user", content: renderPrompt("derive-checks.user", { brief: input.brief, checks: natural.map((c) => `- ${c.id}: ${c.text}`).join("\n") }) }],
      format: "json",
      signal: input.signal,
    });
    const text = answer.text.trim().replace(/^```(?:json)?\s*\n([\s\S]*)\n```$/i, "$1");
    const parsed = answerSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return { derived: [], problems: [`derived checks have the wrong shape: ${parsed.error.issues[0]?.message ?? "invalid"}`] };
    const derived: DerivedCheck[] = [];
    const problems: string[] = [];
    for (const item of parsed.data.checks) {
      const source = natural.find((c) => c.id === item.id);
      if (!source) problems.push(`derived check for unknown id ${item.id}`);
      else if (!parsesAsExpression(item.js)) problems.push(`derived check ${item.id} is not a JavaScript expression`);
      else derived.push({ id: `derived-${item.id}`, text: source.text, expression: item.js });
    }
    return { derived, problems };
  } catch (error) {
    return { derived: [], problems: [`checks not derived: ${describeError(error)}`] };
  }
}
