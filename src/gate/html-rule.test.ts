import { describe, expect, it } from "vitest";
import { buildContract } from "../domain/build-contract.ts";
import { normalizeChecks } from "../domain/check.ts";
import { checkHtml } from "./html-rule.ts";
import { tree } from "./test-files.ts";

const contract = (brief: string, checks: string[]) => buildContract({ brief, checks: normalizeChecks(checks), attachments: [] });
const sales = contract('Sets the title to "Sales Summary 7f3a9" and shows the total in #total-sales.', [
  "js: document.title === `Sales Summary 7f3a9`",
  'js: document.querySelector("#github-user").tagName === "FORM"',
  'js: document.querySelector("#status").getAttribute("aria-live") === "polite"',
]);
const good = `<!doctype html><html><head><title>
  Sales   Summary 7f3a9
</title></head><body><form id="github-user"></form><div id="status" aria-live="polite"></div><p id="total-sales"></p></body></html>`;

const blocking = (decisions: ReturnType<typeof checkHtml>) => decisions.filter((d) => !d.passed && d.severity === "block").map((d) => d.detail);
const warnings = (decisions: ReturnType<typeof checkHtml>) => decisions.filter((d) => d.severity === "warn").map((d) => d.detail);

describe("checkHtml", () => {
  it("passes a page with the title (whitespace collapsed like document.title) and every required element", () => {
    const decisions = checkHtml(tree({ "index.html": good }), sales);
    expect(blocking(decisions)).toEqual([]);
    expect(decisions[0]).toMatchObject({ rule: "html", passed: true, detail: 'index.html parses, <title> is "Sales Summary 7f3a9", 3 required element ids checked' });
  });

  it("blocks a missing index.html", () => {
    expect(blocking(checkHtml(tree({ "app.html": good }), sales))).toEqual(["index.html is missing; Pages serves it as the app's entry page"]);
  });

  it("blocks a page without a <title>, even with no contract", () => {
    expect(blocking(checkHtml(tree({ "index.html": "<!doctype html><p>hi</p>" })))).toEqual(["index.html has no <title> element"]);
    expect(blocking(checkHtml(tree({ "index.html": "<!doctype html><title> </title><p>hi</p>" })))).toEqual(["index.html has no text in its <title>"]);
  });

  it("ignores an SVG <title> when looking for the document title", () => {
    expect(blocking(checkHtml(tree({ "index.html": "<!doctype html><body><svg><title>icon</title></svg></body>" })))).toEqual(["index.html has no <title> element"]);
  });

  it("names the wrong title and each missing id, wrong tag and wrong attribute", () => {
    const page = `<!doctype html><html><head><title>Sales</title></head><body><div id="github-user"></div><div id="status" aria-live="assertive"></div></body></html>`;
    expect(blocking(checkHtml(tree({ "index.html": page }), sales))).toEqual([
      '<title> is "Sales"; the checks need document.title exactly "Sales Summary 7f3a9"',
      "element #total-sales is missing (the checks query it)",
      "element #github-user is a <div>, the checks need a <form>",
      'element #status has aria-live="assertive", the checks need "polite"',
    ]);
  });

  it("warns instead of blocking when a script may create the element or set the title", () => {
    const page = `<!doctype html><html><head><title>Loading</title></head><body><form id="github-user"></form><div id="status"></div>
<script src="app.js"></script></body></html>`;
    const app = `document.title = "Sales Summary 7f3a9"; const p = document.createElement("p"); p.id = "total-sales"; status.setAttribute("aria-live", "polite");`;
    const decisions = checkHtml(tree({ "index.html": page, "app.js": app }), sales);
    expect(blocking(decisions)).toEqual([]);
    expect(warnings(decisions)).toHaveLength(3);
  });

  it("records parse errors as a warning, not a block", () => {
    const decisions = checkHtml(tree({ "index.html": "<html><head><title>x</title></head><body><p></div></body></html>" }));
    expect(blocking(decisions)).toEqual([]);
    expect(warnings(decisions)[0]).toMatch(/^index\.html has \d+ HTML parse errors? \(missing-doctype at line 1/);
  });
});
