import { describe, expect, it } from "vitest";
import { costOf, parsePriceTable } from "./price-table.ts";

describe("price table", () => {
  const table = parsePriceTable({ "gemini/gemini-2.5-flash": { input: 0.3, output: 2.5 }, "gemini-2.5-flash": { input: 1, output: 1 }, scripted: { input: 2, output: 4 } });

  it("prices by provider/model first, then by model", () => {
    expect(costOf(table, "gemini", "gemini-2.5-flash", { inputTokens: 1_000_000, outputTokens: 2_000_000 })).toEqual({ costUsd: 5.3, priced: true });
    expect(costOf(table, "openai", "gemini-2.5-flash", { inputTokens: 1_000_000, outputTokens: 0 })).toEqual({ costUsd: 1, priced: true });
    expect(costOf(table, "vllm", "scripted", { inputTokens: 123, outputTokens: 45 })).toEqual({ costUsd: 0.000426, priced: true });
  });

  it("costs an unknown model nothing and says so", () => {
    expect(costOf(table, "vllm", "mystery", { inputTokens: 10, outputTokens: 10 })).toEqual({ costUsd: 0, priced: false });
  });

  it("refuses malformed entries, naming them", () => {
    expect(() => parsePriceTable({ x: { input: -1, output: 0 } })).toThrow(/x\.input/);
    expect(() => parsePriceTable({ x: { input: 1 } })).toThrow(/x\.output/);
    expect(() => parsePriceTable({ x: { input: 1, output: 1, currency: "EUR" } })).toThrow(/x/);
    expect(() => parsePriceTable([1])).toThrow();
  });
});
