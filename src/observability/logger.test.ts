import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.ts";

describe("createLogger", () => {
  it("masks secret-bearing fields, provider key headers included, should one ever be logged", () => {
    const lines: string[] = [];
    const logger = createLogger("info", { write: (line: string) => void lines.push(line) });
    logger.info({ secret: "s-1", request: { secret: "s-2" }, apiKey: "k-1", headers: { authorization: "Bearer k-2", "x-api-key": "k-3", "x-goog-api-key": "k-4" } }, "first");
    logger.info({ call: { headers: { "x-api-key": "k-5", "x-goog-api-key": "k-6" } } }, "second");
    expect(lines).toHaveLength(2);
    for (const value of ["s-1", "s-2", "k-1", "k-2", "k-3", "k-4", "k-5", "k-6"]) expect(lines.join("")).not.toContain(value);
    expect(JSON.parse(lines[0]!).headers).toEqual({ authorization: "[redacted]", "x-api-key": "[redacted]", "x-goog-api-key": "[redacted]" });
  });
});
