import { describe, expect, it } from "vitest";
import type { LanguageModel, ModelCall } from "../ports/language-model.ts";
import { buildReadme } from "./readme.ts";
import { writeReadmeProse } from "./readme-prose.ts";

function stubModel(text: string): { model: LanguageModel; calls: ModelCall[] } {
  const calls: ModelCall[] = [];
  const model: LanguageModel = {
    provider: "stub",
    modelId: "stub-1",
    supportsImages: false,
    supportsTools: false,
    async generate(call) {
      calls.push(call);
      return { text, usage: { inputTokens: 1, outputTokens: 1 }, provider: "stub", modelId: "stub-1", latencyMs: 1, finishReason: "stop" };
    },
  };
  return { model, calls };
}

const input = {
  briefs: [{ round: 1, brief: "Sum the sales column of data.csv into #total-sales." }],
  files: new Map([["index.html", "<title>Sales</title><script>fetch('data.csv')</script>"]]),
  signal: new AbortController().signal,
};

describe("writeReadmeProse", () => {
  it("returns the model's prose and shows it the briefs and files", async () => {
    const { model, calls } = stubModel(
      '```json\n{"summary":"A one-page sales dashboard that totals data.csv.","usage":"1. Open the page.\\n2. Read the total in the card.","code_explanation":"index.html fetches data.csv, splits lines and sums the sales column."}\n```',
    );
    const result = await writeReadmeProse(model, input, (m, call) => m.generate(call));
    expect(result).toEqual({
      prose: {
        summary: "A one-page sales dashboard that totals data.csv.",
        usage: "1. Open the page.\n2. Read the total in the card.",
        codeExplanation: "index.html fetches data.csv, splits lines and sums the sales column.",
      },
    });
    expect(calls[0]!.format).toBe("json");
    expect(calls[0]!.schema).toMatchObject({ required: ["summary", "usage", "code_explanation"], additionalProperties: false });
    expect(calls[0]!.messages[0]!.content).toContain("#total-sales");
    expect(calls[0]!.messages[0]!.content).toContain("fetch('data.csv')");
  });

  it.each([
    ['{"answer":"Sure."}', /wrong shape/],
    ["not json", /not written/],
    ['{"summary":"short","usage":"x","code_explanation":"y"}', /wrong shape/],
  ])("gives a reason instead of prose for %s", async (text, reason) => {
    const { model } = stubModel(text);
    const result = await writeReadmeProse(model, input, (m, call) => m.generate(call));
    expect("reason" in result && result.reason).toMatch(reason);
  });

  it("puts the prose into the README's sections, keeping setup, history and licence", () => {
    const readme = buildReadme({
      title: "Sales",
      pagesUrl: "http://x/pages/s/",
      repoUrl: "http://x/git/s",
      rounds: input.briefs,
      files: new Map([["index.html", Buffer.from("")]]),
      attachments: ["data.csv"],
      licenseHolder: "Ada",
      prose: { summary: "SUMMARY TEXT", usage: "USAGE TEXT", codeExplanation: "HOW IT WORKS" },
    });
    expect(readme).toMatch(/## Summary\n\nSUMMARY TEXT/);
    expect(readme).toMatch(/## Usage\n\nUSAGE TEXT/);
    expect(readme).toMatch(/## Code explanation\n\nHOW IT WORKS\n\nFiles:\n\n- `README.md`/);
    expect(readme).toContain("## Setup");
    expect(readme).toContain("### Round 1");
    expect(readme).toContain("## License");
  });
});
