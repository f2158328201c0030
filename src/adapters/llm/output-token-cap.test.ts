import { describe, expect, it } from "vitest";
import type { LanguageModel, ModelCall } from "../../ports/language-model.ts";
import { withOutputTokenCap } from "./output-token-cap.ts";

function recordingModel() {
  const calls: ModelCall[] = [];
  const model = {
    provider: "fake",
    modelId: "m",
    supportsImages: false,
    supportsTools: false,
    status: () => ["kept"],
    async generate(call: ModelCall) {
      calls.push(call);
      return { text: "ok", usage: { inputTokens: 1, outputTokens: 1 }, finishReason: "stop", provider: this.provider, modelId: "m", latencyMs: 1 } as never;
    },
  } satisfies LanguageModel & { status(): string[] };
  return { model, calls };
}

describe("withOutputTokenCap", () => {
  it("sends the cap with calls that set none, and never more than the cap", async () => {
    const { model, calls } = recordingModel();
    const capped = withOutputTokenCap(model, 4096);
    await capped.generate({ purpose: "generate", messages: [] } as unknown as ModelCall);
    await capped.generate({ purpose: "generate", messages: [], maxOutputTokens: 100_000 } as unknown as ModelCall);
    await capped.generate({ purpose: "readme", messages: [], maxOutputTokens: 500 } as unknown as ModelCall);
    expect(calls.map((call) => call.maxOutputTokens)).toEqual([4096, 4096, 500]);
  });

  it("keeps the rest of the model: its names and extra members such as status()", () => {
    const { model } = recordingModel();
    const capped = withOutputTokenCap(model, 10);
    expect([capped.provider, capped.modelId, capped.status()]).toEqual(["fake", "m", ["kept"]]);
  });
});
