import { describe, expect, it } from "vitest";
import type { ContentRule } from "../domain/content-rules.ts";
import { parseJsonShape } from "../domain/json-shape.ts";
import { ruleCheck } from "./rule-engine.ts";

const tree = (entries: Record<string, string | Buffer>) => new Map(Object.entries(entries).map(([path, content]) => [path, Buffer.isBuffer(content) ? content : Buffer.from(content)]));
const nWords = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(" ");

function decide(rule: ContentRule, files: ReturnType<typeof tree>, attachments = new Map<string, Buffer>()) {
  const check = ruleCheck(rule, files, attachments);
  if (check.on !== "files") throw new Error("expected a files check");
  return check.result;
}

describe("rule engine: files", () => {
  it.each<[string, ContentRule, Record<string, string>, boolean, RegExp]>([
    ["a story in range", { kind: "word-count", path: "story.md", min: 300, max: 400 }, { "story.md": `# Title\n\n${nWords(350)}` }, true, /351 words \(352 whitespace-separated tokens\)/],
    ["a 439-word story for 300-400", { kind: "word-count", path: "story.md", min: 300, max: 400 }, { "story.md": nWords(439) }, false, /story\.md has 439 words; it must have between 300 and 400 words: remove at least 39 words/],
    ["a short story", { kind: "word-count", path: "story.md", min: 300, max: undefined }, { "story.md": nWords(120) }, false, /has 120 words; it must have at least 300 words: add at least 180 words/],
    ["exactly three words", { kind: "word-count", path: "about.md", min: 3, max: 3 }, { "about.md": "Curious, patient, kind.\n" }, true, /3 words/],
    ["three words under a heading", { kind: "word-count", path: "about.md", min: 3, max: 3 }, { "about.md": "# Me\nCurious patient kind" }, false, /about\.md has 4 words \(5 whitespace-separated tokens\); it must have exactly 3 words/],
    ["words in range but markdown marks as tokens", { kind: "word-count", path: "about.md", min: 3, max: 3 }, { "about.md": "- Curious\n- patient\n- kind" }, false, /3 words but 6 whitespace-separated tokens/],
    ["a missing word file", { kind: "word-count", path: "story.md", min: 1, max: 2 }, {}, false, /story\.md is missing; it must have between 1 and 2 words/],
    ["a JSON shape kept", { kind: "json-shape", path: "ethics.json", shape: parseJsonShape("{people: 3, case_1: {swerve: bool, reason: str}}")! }, { "ethics.json": '{"people":3,"case_1":{"swerve":false,"reason":"stay"}}' }, true, /required keys/],
    ["a JSON key missing", { kind: "json-shape", path: "ethics.json", shape: parseJsonShape("{people: 3, case_1: {swerve: bool, reason: str}}")! }, { "ethics.json": '{"people":3,"case_1":{"swerve":false}}' }, false, /ethics\.json does not have the required shape: \$\.case_1\.reason is missing/],
    ["JSON that does not parse", { kind: "json-shape", path: "a.json", shape: parseJsonShape("{a: int}")! }, { "a.json": "{a: 1}" }, false, /a\.json is not valid JSON/],
    ["a CSV with even rows", { kind: "parses", path: "d.csv", format: "csv" }, { "d.csv": 'name,n\n"Smith, J",3\nLee,4\n' }, true, /3 rows of 2 columns/],
    ["a CSV with a ragged row", { kind: "parses", path: "d.csv", format: "csv" }, { "d.csv": "name,n\nLee,4,extra\n" }, false, /d\.csv is not valid CSV: .*(?:record|column)/i],
    ["a CSV with an open quote", { kind: "parses", path: "d.csv", format: "csv" }, { "d.csv": 'name,n\n"Lee,4\n' }, false, /not valid CSV: .*quote/i],
    ["well-formed XML", { kind: "parses", path: "f.xml", format: "xml" }, { "f.xml": "<?xml version=\"1.0\"?><rss><item/></rss>" }, true, /root <rss>/],
    ["broken XML", { kind: "parses", path: "f.xml", format: "xml" }, { "f.xml": "<rss><item></rss>" }, false, /not well-formed XML: <\/rss> closes <item>/],
    ["an SVG", { kind: "parses", path: "logo.svg", format: "svg" }, { "logo.svg": '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><circle r="1"/></svg>' }, true, /well-formed SVG/],
    ["an SVG without its namespace", { kind: "parses", path: "logo.svg", format: "svg" }, { "logo.svg": "<svg><circle r=\"1\"/></svg>" }, false, /lacks xmlns/],
    ["invalid JSON", { kind: "parses", path: "d.json", format: "json" }, { "d.json": "{'a': 1}" }, false, /not valid JSON/],
    ["a forbidden file left out", { kind: "file-absent", path: "result.json" }, { "index.html": "x" }, true, /not committed/],
    ["a forbidden file present", { kind: "file-absent", path: "result.json" }, { "result.json": "{}" }, false, /result\.json is in the candidate but must not be committed/],
    ["a file that exists", { kind: "file-exists", path: "notes.txt" }, { "notes.txt": "x" }, true, /exists/],
    ["a file in the wrong case", { kind: "file-exists", path: "data.csv" }, { "Data.csv": "x" }, false, /Pages paths are case-sensitive/],
  ])("%s", (_, rule, files, passed, detail) => {
    const result = decide(rule, tree(files));
    expect(result.passed).toBe(passed);
    expect(result.detail).toMatch(detail);
  });

  describe("a page linking every file", () => {
    const rule: ContentRule = { kind: "links-every-file", page: "index.html" };
    const files = {
      "story.md": "s",
      "data/people.json": "{}",
      "logo.svg": "<svg/>",
      "my notes.txt": "n",
      "app.js": "",
      LICENSE: "l",
      "README.md": "r",
      ".nojekyll": "",
    };

    it("passes with relative, ./ and percent-encoded links; scripts count by their src; LICENSE, README and dot-files need none", () => {
      const html = '<a href="story.md">s</a> <a href="./data/people.json">p</a> <a href="logo.svg"><img src="logo.svg"></a> <a href="my%20notes.txt">n</a><script src="app.js"></script>';
      expect(decide(rule, tree({ ...files, "index.html": html }))).toMatchObject({ passed: true, detail: "index.html links to all 5 other files" });
    });

    it("names the files without a link, and does not count links built by a script or pointing elsewhere", () => {
      const html = '<a href="story.md">s</a><a href="https://elsewhere.example/logo.svg">x</a><script src="app.js">document.body.innerHTML += \'<a href="my notes.txt">n</a>\'</script>';
      const result = decide(rule, tree({ ...files, "index.html": html }));
      expect(result.passed).toBe(false);
      expect(result.detail).toMatch(/^index\.html has no <a href> link to: data\/people\.json, logo\.svg, my notes\.txt /);
    });
  });

  it("compares an attachment byte for byte", () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    const attachments = new Map([["uid.txt", bytes]]);
    expect(decide({ kind: "file-matches-attachment", path: "uid.txt" }, tree({ "uid.txt": bytes }), attachments).passed).toBe(true);
    expect(decide({ kind: "file-matches-attachment", path: "uid.txt" }, tree({ "uid.txt": Buffer.from([0, 1, 2]) }), attachments).detail).toMatch(/differs from the attachment: 3 bytes/);
  });
});

describe("rule engine: page rules become expressions for the browser", () => {
  // The expressions run in Chromium in the e2e test; here, in a stand-in `document`, so each
  // rule's pass and its failure message are pinned without a browser.
  function run(rule: ContentRule, document: { title?: string; ids?: string[]; text?: string }): { passed: boolean; error?: string } {
    const check = ruleCheck(rule, new Map(), new Map());
    if (check.on !== "page") throw new Error("expected a page check");
    const fake = { title: document.title ?? "", getElementById: (id: string) => ((document.ids ?? []).includes(id) ? {} : null), body: { innerText: document.text ?? "" } };
    try {
      return { passed: Boolean(new Function("document", `return ${check.expression};`)(fake)) };
    } catch (error) {
      return { passed: false, error: (error as Error).message };
    }
  }

  it.each<[string, ContentRule, { title?: string; ids?: string[]; text?: string }, { passed: boolean; error?: string }]>([
    ["title equal", { kind: "title", text: "ACME 10-K" }, { title: "ACME 10-K" }, { passed: true }],
    ["title different", { kind: "title", text: "ACME 10-K" }, { title: "ACME" }, { passed: false, error: 'document.title is "ACME", it must be exactly "ACME 10-K"' }],
    ["id present", { kind: "element-id", id: "max-val" }, { ids: ["max-val"] }, { passed: true }],
    ["id missing", { kind: "element-id", id: "max-val" }, { ids: [] }, { passed: false, error: 'no element with id="max-val" in the page' }],
    ["plain numbers", { kind: "plain-numbers" }, { text: "Max 25000000 in FY2021, min 1234.5, year 2024" }, { passed: true }],
    ["grouped numbers", { kind: "plain-numbers" }, { text: "Max 25,000,000 in FY2021" }, { passed: false, error: "the page shows numbers with thousands separators (25,000,000); show them plainly, exactly as in the data, e.g. 25000000" }],
    ["narrow-space grouping", { kind: "plain-numbers" }, { text: "Max 25\u202f000\u202f000" }, { passed: false, error: expect.stringContaining("25000000") as unknown as string }],
  ])("%s", (_, rule, document, outcome) => expect(run(rule, document)).toEqual(outcome));
});
