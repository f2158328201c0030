import { describe, expect, it } from "vitest";
import { checkSizeCaps } from "./size-caps-rule.ts";
import { tree } from "./test-files.ts";

describe("checkSizeCaps", () => {
  const limits = { maxFileBytes: 10, maxTotalBytes: 25, maxFiles: 3 };

  it("passes a tree within every limit", () => {
    expect(checkSizeCaps(tree({ a: "12345", b: "12345" }), limits)).toEqual([
      { rule: "size-caps", passed: true, severity: "block", detail: "2 files, 10 bytes: within limits" },
    ]);
  });

  it("blocks a file over the per-file cap, naming it", () => {
    const [decision] = checkSizeCaps(tree({ "big.txt": "x".repeat(11) }), limits);
    expect(decision).toMatchObject({ passed: false, severity: "block", path: "big.txt", detail: "big.txt is 11 bytes, over the 10-byte limit per file" });
  });

  it("blocks a tree over the total and count caps", () => {
    const decisions = checkSizeCaps(tree({ a: "x".repeat(9), b: "x".repeat(9), c: "x".repeat(9), d: "" }), limits);
    expect(decisions.map((d) => d.detail)).toEqual(["the files total 27 bytes, over the 25-byte limit", "4 files, over the limit of 3"]);
  });
});
