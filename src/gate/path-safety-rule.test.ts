import { describe, expect, it } from "vitest";
import { checkPathSafety } from "./path-safety-rule.ts";
import { tree } from "./test-files.ts";

describe("checkPathSafety", () => {
  it("blocks each unsafe path by name and passes a clean tree", () => {
    const decisions = checkPathSafety(tree({ "index.html": "x", "../x": "y", ".git/HEAD": "z" }));
    expect(decisions.map((d) => [d.path, d.passed, d.severity])).toEqual([
      ["../x", false, "block"],
      [".git/HEAD", false, "block"],
    ]);
    expect(checkPathSafety(tree({ "index.html": "x" }))).toEqual([{ rule: "path-safety", passed: true, severity: "block", detail: "1 paths are relative and inside the repository" }]);
  });

  it("refuses a new hidden path but keeps one the repository already holds", () => {
    const files = tree({ "index.html": "x", ".editorconfig": "root = true", ".env": "A=1", ".github/workflows/ci.yml": "on: push" });
    const previous = tree({ ".editorconfig": "root = true" });
    expect(checkPathSafety(files, previous).map((d) => d.path)).toEqual([".env"]);
    expect(checkPathSafety(files).map((d) => d.path)).toEqual([".editorconfig", ".env"]);
  });

  it("shows a control character escaped, not raw", () => {
    const [decision] = checkPathSafety(tree({ "a\u001b[31mb": "x" }));
    expect(decision!.detail).toContain("\\u001b");
    expect(decision!.detail).not.toContain("\u001b");
  });
});
