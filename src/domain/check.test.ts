import { describe, expect, it } from "vitest";
import { normalizeCheck } from "./check.ts";

describe("normalizeCheck", () => {
  it.each([
    ["js: document.title === `Sales Summary 7f3a9`", "js", "document.title === `Sales Summary 7f3a9`"],
    ["JS:!!document.querySelector('x')", "js", "!!document.querySelector('x')"],
    ['document.querySelector("#github-user-9e0b4").tagName === "FORM"', "js", 'document.querySelector("#github-user-9e0b4").tagName === "FORM"'],
    ["Repo has MIT license", "text", "Repo has MIT license"],
    ["README.md is professional", "text", "README.md is professional"],
    ["Page displays the captcha text within 15 seconds", "text", "Page displays the captcha text within 15 seconds"],
    ["Responsive", "text", "Responsive"],
  ])("classifies %j", (raw, kind, body) => {
    const check = normalizeCheck(raw, 0);
    expect(check.kind).toBe(kind);
    expect(check.kind === "js" ? check.expression : check.text).toBe(body);
  });

  it("accepts the object shape", () => {
    expect(normalizeCheck({ js: " !!document.body " }, 2)).toEqual({
      id: "c3",
      kind: "js",
      expression: "!!document.body",
      source: { js: " !!document.body " },
    });
  });

  it("never runs a check while classifying it", () => {
    const marker = globalThis as { __ran?: boolean };
    normalizeCheck("(globalThis.__ran = true) && document", 0);
    expect(marker.__ran).toBeUndefined();
  });
});
