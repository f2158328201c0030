import { describe, expect, it } from "vitest";
import { checkPathSafety, pathProblem } from "./path-safety-rule.ts";
import { tree } from "./test-files.ts";

describe("pathProblem", () => {
  it.each([
    ["index.html"],
    ["assets/app.js"],
    [".nojekyll"],
    [".github/workflows/x.yml"],
    ["data/.gitkeep"],
    ["émoji-ñame.txt"],
  ])("accepts %j", (path) => {
    expect(pathProblem(path)).toBeUndefined();
  });

  it.each([
    ["", /empty path/],
    ["/etc/passwd", /absolute/],
    ["C:/x.txt", /absolute/],
    ["../outside.txt", /"\.\." segment/],
    ["a/../../b", /"\.\." segment/],
    ["./index.html", /"\." segment/],
    ["a\\b.txt", /backslash/],
    [".git/config", /\.git segment/],
    ["sub/.git/hooks/pre-commit", /\.git segment/],
    [".GIT/config", /\.git segment/],
    [".git", /\.git segment/],
    ["a//b", /empty path segment/],
    ["dir/", /empty path segment/],
    ["bad\u0000name", /control character/],
    ["tab\tname", /control character/],
    [`${"x".repeat(256)}.txt`, /segment longer than 255/],
    [Array.from({ length: 120 }, () => "abcdefghi").join("/"), /path longer than 1024/],
  ])("refuses %j", (path, reason) => {
    expect(pathProblem(path)).toMatch(reason);
  });
});

describe("checkPathSafety", () => {
  it("blocks each unsafe path by name and passes a clean tree", () => {
    const decisions = checkPathSafety(tree({ "index.html": "x", "../x": "y", ".git/HEAD": "z" }));
    expect(decisions.map((d) => [d.path, d.passed, d.severity])).toEqual([
      ["../x", false, "block"],
      [".git/HEAD", false, "block"],
    ]);
    expect(checkPathSafety(tree({ "index.html": "x" }))).toEqual([{ rule: "path-safety", passed: true, severity: "block", detail: "1 paths are relative and inside the repository" }]);
  });

  it("shows a control character escaped, not raw", () => {
    const [decision] = checkPathSafety(tree({ "a\u001b[31mb": "x" }));
    expect(decision!.detail).toContain("\\u001b");
    expect(decision!.detail).not.toContain("\u001b");
  });
});
