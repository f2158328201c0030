import { describe, expect, it } from "vitest";
import { attachmentTreatment, editableAttachments } from "./editable-attachments.ts";

// Phrasings in the style of real repository-work briefs (our own wording), both ways.
const editable: ReadonlyArray<[string, string]> = [
  ["Commit execute.py after fixing the non-trivial error in it.", "execute.py"],
  ["Fix the bug in execute.py and commit it.", "execute.py"],
  ["fix the off-by-one error in `report.py`", "report.py"],
  ["Update data.json with the prices for March.", "data.json"],
  ["Please correct the typos in notes.md before publishing.", "notes.md"],
  ["Extend utils.js with a function that formats dates.", "utils.js"],
  ["Complete the TODOs in app.js.", "app.js"],
  ["Edit config.yml so the port is 8080.", "config.yml"],
  ["Modify main.py to print the total as JSON.", "main.py"],
  ["The attached script.py has a bug. Fix it and commit the working version.", "script.py"],
  ["analyze.py crashes on empty rows; fix this.", "analyze.py"],
  ["Commit a corrected version of the attached cleaner.py.", "cleaner.py"],
  ["Repair parse.py so it handles quoted commas.", "parse.py"],
  ["Add a row for Zanzibar to cities.csv.", "cities.csv"],
  ["Refactor helpers.js to use ES modules.", "helpers.js"],
  ["Debug compute.py and commit the result.", "compute.py"],
  ["Fill in the missing values in scores.json.", "scores.json"],
  ["Translate strings.json into French.", "strings.json"],
  ["Commit execute.py with the bug fixed.", "execute.py"],
  ["Patch server.py: the port is read as a string.", "server.py"],
  ["Clean up style.css, removing unused rules.", "style.css"],
  ["Rewrite legacy.js in modern JavaScript.", "legacy.js"],
  ["Append a line with today's date to log.txt.", "log.txt"],
  ["Change the greeting in hello.py to 'Hi'.", "hello.py"],
];

const asIs: ReadonlyArray<[string, string]> = [
  ["Commit data.csv as-is.", "data.csv"],
  ["Include logo.png unchanged next to index.html.", "logo.png"],
  ["The page loads data.csv and shows the total.", "data.csv"],
  ["Use input.json to render the list.", "input.json"],
  ["Do not modify data.csv.", "data.csv"],
  ["Convert data.xlsx to data.csv.", "data.xlsx"],
  ["Fix the page so that it reads data.csv correctly.", "data.csv"],
  ["Add a chart of sales from sales.csv.", "sales.csv"],
  ["Update the table whenever products.json changes.", "products.json"],
  ["Keep rules.md intact; fix the layout instead.", "rules.md"],
  ["Fix the bug in execute.py but leave data.csv alone.", "data.csv"],
  ["Publish story.txt verbatim.", "story.txt"],
  ["Render README-like content from notes.md.", "notes.md"],
  ["Commit uid.txt exactly as attached.", "uid.txt"],
  ["Show the contents of quote.txt in #quote.", "quote.txt"],
  ["Without changing schema.json, validate the form against it.", "schema.json"],
  ["Fix execute.py, which reads data.csv, so it prints JSON.", "data.csv"],
  ["Update index.html to fetch prices.json every minute.", "prices.json"],
  ["The attached photo.jpg should appear as the hero image.", "photo.jpg"],
  ["Improve the README; reference input.csv as the data source.", "input.csv"],
  ["Correct the page title; the data in stats.json is fine.", "stats.json"],
  ["The workflow runs `python execute.py > result.json`.", "execute.py"],
  ["Keep config.json byte-identical and fix app.js.", "config.json"],
];

describe("attachmentTreatment", () => {
  it.each(editable)("editable: %j → %s", (brief, name) => {
    expect(attachmentTreatment(brief, name)).toBe("editable");
  });

  it.each(asIs)("as-is: %j → %s", (brief, name) => {
    expect(attachmentTreatment(brief, name)).toBe("as-is");
  });

  it("covers at least 20 phrasings each way", () => {
    expect(editable.length).toBeGreaterThanOrEqual(20);
    expect(asIs.length).toBeGreaterThanOrEqual(20);
  });

  it("is as-is for a name the brief never mentions", () => {
    expect(attachmentTreatment("Fix every bug you find.", "secret.py")).toBe("as-is");
  });
});

describe("editableAttachments", () => {
  it("picks the attachments to change out of a repository-work brief, in the given order", () => {
    const brief =
      "Commit calc.py after fixing the non-trivial error in it. Convert table.xlsx to table.csv. Commit logo.svg as-is. Add a workflow that runs `python calc.py > out.json`.";
    expect(editableAttachments(brief, ["table.xlsx", "calc.py", "logo.svg"])).toEqual(["calc.py"]);
  });
});
