import { describe, expect, it } from "vitest";
import { isAllowedHiddenPath, pagesPublishes, repositoryPathProblem, unsafePathProblem } from "./repository-path.ts";

describe("repositoryPathProblem", () => {
  it.each([
    ["index.html"],
    ["assets/app.js"],
    ["execute.py"],
    ["émoji-ñame.txt"],
    ["Input File (1).md"],
    [".github/workflows/ci.yml"],
    [".github/workflows/Deploy Pages.yaml"],
    [".gitignore"],
    ["data/.gitignore"],
    [".gitattributes"],
    ["data/.gitkeep"],
    [".nojekyll"],
    [".well-known/security.txt"],
    [".well-known/acme/token"],
  ])("accepts %j", (path) => {
    expect(repositoryPathProblem(path)).toBeUndefined();
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
    [".git.", /\.git segment/],
    ["a//b", /empty path segment/],
    ["dir/", /empty path segment/],
    ["bad\u0000name", /control character/],
    ["tab\tname", /control character/],
    [`${"x".repeat(256)}.txt`, /segment longer than 255/],
    [Array.from({ length: 120 }, () => "abcdefghi").join("/"), /path longer than 1024/],
    ["con.txt", /reserved file name/],
    ["x?.csv", /not allowed in file names/],
    [".env", /hidden path/],
    [".npmrc", /hidden path/],
    ["config/.env.local", /hidden path/],
    [".github/workflows/ci.json", /hidden path/],
    [".github/workflows/sub/ci.yml", /hidden path/],
    [".github/CODEOWNERS", /hidden path/],
    ["sub/.github/workflows/ci.yml", /hidden path/],
    ["sub/.nojekyll", /hidden path/],
    [".well-known/.secret", /hidden path/],
    [".well-known", /hidden path/],
  ])("refuses %j", (path, reason) => {
    expect(repositoryPathProblem(path)).toMatch(reason);
  });

  it("keeps the unsafe layer apart: a hand-made dot-file is safe, .git never is", () => {
    expect(unsafePathProblem(".editorconfig")).toBeUndefined();
    expect(repositoryPathProblem(".editorconfig")).toMatch(/hidden path/);
    expect(unsafePathProblem(".git/HEAD")).toMatch(/\.git segment/);
    expect(isAllowedHiddenPath(".github/workflows/ci.yml")).toBe(true);
    expect(isAllowedHiddenPath(".github/dependabot.yml")).toBe(false);
  });
});

describe("pagesPublishes", () => {
  it.each([
    // path, with Jekyll (no .nojekyll), without Jekyll
    ["index.html", true, true],
    ["data/result.json", true, true],
    [".github/workflows/ci.yml", false, false],
    [".gitignore", false, false],
    [".nojekyll", false, false],
    [".well-known/security.txt", false, true],
    ["_layouts/default.html", false, true],
    ["notes.md~", false, true],
    ["#draft.md", false, true],
    ["node_modules/x/index.js", false, true],
    ["vendor/lib.js", false, true],
  ])("%j: %s under Jekyll, %s with .nojekyll", (path, withJekyll, withoutJekyll) => {
    expect(pagesPublishes(path, false)).toBe(withJekyll);
    expect(pagesPublishes(path, true)).toBe(withoutJekyll);
  });
});
