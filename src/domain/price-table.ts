import { z } from "zod";
import type { ModelUsage } from "../ports/language-model.ts";

/** What a model costs, in US dollars per million tokens. */
export interface Price {
  readonly input: number;
  readonly output: number;
}

/**
 * Prices by `<provider>/<model>` or by bare `<model>`; the more specific key wins. A model not in
 * the table costs 0 and is marked unpriced, so a total never pretends to be complete.
 */
export type PriceTable = Readonly<Record<string, Price>>;

const priceSchema = z.object({ input: z.number().min(0), output: z.number().min(0) }).strict();
const tableSchema = z.record(z.string().min(1), priceSchema);

/** Checks a parsed price table; the message names the first bad entry. */
export function parsePriceTable(value: unknown): PriceTable {
  const parsed = tableSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ` : "";
  throw new Error(`${where}${issue.message} (expected {"<model or provider/model>": {"input": usd_per_million, "output": usd_per_million}})`);
}

export interface Cost {
  readonly costUsd: number;
  /** False when the table has no price for this model (the cost is then 0). */
  readonly priced: boolean;
}

export function costOf(table: PriceTable, provider: string, model: string, usage: ModelUsage): Cost {
  const price = table[`${provider}/${model}`] ?? table[model];
  if (!price) return { costUsd: 0, priced: false };
  const costUsd = (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000;
  // Whole nano-dollars: enough for one call, and sums stay free of float dust.
  return { costUsd: Math.round(costUsd * 1e9) / 1e9, priced: true };
}
