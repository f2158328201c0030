import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BriefwrightError } from "../domain/errors.ts";
import { renderFiles } from "../fake-llm/render-files.ts";
import { applyEditBlocks, EditApplyError, EditBlockParseError, parseEditBlocks } from "./edit-blocks.ts";
import { sharedFixtures } from "../../test/support/shared-dir.ts";

function apply(files: Record<string, string>, answer: string) {
  const result = applyEditBlocks(new Map(Object.entries(files)), parseEditBlocks(answer));
  return { files: Object.fromEntries(result.files), applied: result.applied };
}

function catchError<T extends Error>(fn: () => unknown, type: new (...args: never[]) => T): T {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as T;
  }
  throw new Error(`expected ${type.name}`);
}

const page = [
  "<!doctype html>",
  "<html>",
  "<body>",
  "  <main>",
  '    <p id="total">0</p>',
  "  </main>",
  "  <script>",
  "    const n = 1;",
  "  </script>",
  "</body>",
  "</html>",
  "",
].join("\n");

describe("parseEditBlocks", () => {
  it("reads a FILE line and its blocks, lines newline-terminated", () => {
    const blocks = parseEditBlocks(["FILE: index.html", "<<<<<<< SEARCH", "a", "b", "=======", "c", ">>>>>>> REPLACE"].join("\n"));
    expect(blocks).toEqual([{ path: "index.html", search: "a\nb\n", replace: "c\n", line: 2 }]);
  });

  it("tolerates fences, prose, backticked and bold paths, CRLF answers", () => {
    const answer = [
      "Here are the changes:",
      "",
      "**FILE:** `app.js`",
      "```js",
      "<<<<<<< SEARCH",
      "x();",
      "=======",
      "y();",
      ">>>>>>> REPLACE",
      "```",
      "FILE: `style.css`",
      "```",
      "<<<<<<< SEARCH",
      "=======",
      "body {}",
      ">>>>>>> REPLACE",
      "```",
    ].join("\r\n");
    expect(parseEditBlocks(answer).map((b) => [b.path, b.search, b.replace])).toEqual([
      ["app.js", "x();\n", "y();\n"],
      ["style.css", "", "body {}\n"],
    ]);
  });

  it("keeps ======= inside REPLACE as content and allows an empty REPLACE", () => {
    const blocks = parseEditBlocks(["FILE: README.md", "<<<<<<< SEARCH", "Title", "=======", "Title", "=======", ">>>>>>> REPLACE", "FILE: x.txt", "<<<<<<< SEARCH", "gone", "=======", ">>>>>>> REPLACE"].join("\n"));
    expect(blocks[0]!.replace).toBe("Title\n=======\n");
    expect(blocks[1]!.replace).toBe("");
  });

  it.each([
    ["no blocks at all", "I changed nothing.", /no edit blocks found/],
    ["a block before any FILE line", "<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE", /line 1: <<<<<<< SEARCH before any FILE/],
    ["a missing divider", "FILE: a.html\n<<<<<<< SEARCH\na\n>>>>>>> REPLACE", /line 4: block for a\.html has no =======/],
    ["a missing REPLACE marker", "FILE: a.html\n<<<<<<< SEARCH\na\n=======\nb", /block for a\.html starting at line 2 ends without >>>>>>> REPLACE/],
    ["a stray divider", "FILE: a.html\n=======", /line 2: "=======" outside a block/],
    ["an empty FILE line", "FILE: ``\n<<<<<<< SEARCH\n=======\nb\n>>>>>>> REPLACE", /line 1: FILE: line has no path/],
  ])("throws EditBlockParseError on %s", (_, answer, message) => {
    const error = catchError(() => parseEditBlocks(answer), EditBlockParseError);
    expect(error.message).toMatch(message);
    expect(error).toBeInstanceOf(BriefwrightError);
    expect(error.code).toBe("edit-blocks-unparseable");
    expect(error.isRetryable).toBe(true);
  });
});

describe("applyEditBlocks", () => {
  it("applies an exact match", () => {
    const result = apply({ "index.html": page }, 'FILE: index.html\n<<<<<<< SEARCH\n    <p id="total">0</p>\n=======\n    <p id="total">0</p>\n    <p id="count">0</p>\n>>>>>>> REPLACE');
    expect(result.files["index.html"]).toBe(page.replace('    <p id="total">0</p>\n', '    <p id="total">0</p>\n    <p id="count">0</p>\n'));
    expect(result.applied).toEqual([{ path: "index.html", mode: "exact" }]);
  });

  it("keeps $-patterns in the replacement literal", () => {
    const result = apply({ "a.js": "let x = 1;\n" }, "FILE: a.js\n<<<<<<< SEARCH\nlet x = 1;\n=======\nlet x = `$& $1 $$`;\n>>>>>>> REPLACE");
    expect(result.files["a.js"]).toBe("let x = `$& $1 $$`;\n");
  });

  it("matches ignoring indentation and keeps the file's indentation", () => {
    const answer = ["FILE: index.html", "<<<<<<< SEARCH", "<main>", '  <p id="total">0</p>', "</main>", "=======", "<main>", '  <p id="total">0</p>', '  <p id="count">0</p>', "</main>", ">>>>>>> REPLACE"].join("\n");
    const result = apply({ "index.html": page }, answer);
    expect(result.files["index.html"]).toBe(page.replace('    <p id="total">0</p>\n', '    <p id="total">0</p>\n    <p id="count">0</p>\n'));
    expect(result.applied).toEqual([{ path: "index.html", mode: "whitespace" }]);
  });

  it("matches despite trailing spaces and collapsed runs of spaces", () => {
    const file = "const  a =   1;   \nconst b = 2;\n";
    const result = apply({ "a.js": file }, "FILE: a.js\n<<<<<<< SEARCH\nconst a = 1;\n=======\nconst a = 10;\n>>>>>>> REPLACE");
    expect(result.files["a.js"]).toBe("const a = 10;\nconst b = 2;\n");
    expect(result.applied[0]!.mode).toBe("whitespace");
  });

  it("matches a CRLF file and keeps its CRLF line endings", () => {
    const file = "<ul>\r\n  <li>a</li>\r\n</ul>\r\n";
    const result = apply({ "list.html": file }, "FILE: list.html\n<<<<<<< SEARCH\n  <li>a</li>\n</ul>\n=======\n  <li>a</li>\n  <li>b</li>\n</ul>\n>>>>>>> REPLACE");
    expect(result.files["list.html"]).toBe("<ul>\r\n  <li>a</li>\r\n  <li>b</li>\r\n</ul>\r\n");
  });

  it("matches the last line of a file that has no final newline", () => {
    const result = apply({ "a.txt": "one\ntwo" }, "FILE: a.txt\n<<<<<<< SEARCH\ntwo\n=======\nthree\n>>>>>>> REPLACE");
    expect(result.files["a.txt"]).toBe("one\nthree");
  });

  it("applies several blocks to one file in order, and blocks to several files", () => {
    const answer = [
      "FILE: index.html",
      "<<<<<<< SEARCH",
      "    const n = 1;",
      "=======",
      "    const n = 2;",
      ">>>>>>> REPLACE",
      "<<<<<<< SEARCH",
      "    const n = 2;",
      "=======",
      "    const n = 3;",
      ">>>>>>> REPLACE",
      "FILE: style.css",
      "<<<<<<< SEARCH",
      "body { color: red; }",
      "=======",
      "body { color: blue; }",
      ">>>>>>> REPLACE",
    ].join("\n");
    const result = apply({ "index.html": page, "style.css": "body { color: red; }\n" }, answer);
    expect(result.files["index.html"]).toBe(page.replace("const n = 1;", "const n = 3;"));
    expect(result.files["style.css"]).toBe("body { color: blue; }\n");
    expect(result.applied).toEqual([
      { path: "index.html", mode: "exact" },
      { path: "index.html", mode: "exact" },
      { path: "style.css", mode: "exact" },
    ]);
  });

  it("creates a new file, and replaces a whole file, with an empty SEARCH", () => {
    const result = apply({ "index.html": page }, "FILE: app.js\n<<<<<<< SEARCH\n=======\nconsole.log(1);\n>>>>>>> REPLACE\nFILE: index.html\n<<<<<<< SEARCH\n=======\n<p>new</p>\n>>>>>>> REPLACE");
    expect(result.files).toEqual({ "index.html": "<p>new</p>\n", "app.js": "console.log(1);\n" });
    expect(result.applied.map((a) => a.mode)).toEqual(["whole-file", "whole-file"]);
  });

  it("leaves the input map untouched", () => {
    const input = new Map([["a.txt", "x\n"]]);
    applyEditBlocks(input, parseEditBlocks("FILE: a.txt\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE"));
    expect(input.get("a.txt")).toBe("x\n");
  });

  it("refuses an ambiguous match, exact or whitespace-tolerant", () => {
    const file = "<li>a</li>\n<li>a</li>\n  <b>c</b>\n<b>c</b>\n";
    const error = catchError(
      () => apply({ "l.html": file }, "FILE: l.html\n<<<<<<< SEARCH\n<li>a</li>\n=======\n<li>b</li>\n>>>>>>> REPLACE\n<<<<<<< SEARCH\n    <b>c</b>\n=======\n<b>d</b>\n>>>>>>> REPLACE"),
      EditApplyError,
    );
    expect(error.failures.map((f) => f.reason)).toEqual([
      'l.html: search text matches 2 places (first line: "<li>a</li>"); include more surrounding lines',
      'l.html: search text matches 2 places, ignoring whitespace (first line: "<b>c</b>"); include more surrounding lines',
    ]);
  });

  it("reports an absent search text with the reason, every failing block, and the partial result", () => {
    const answer = [
      "FILE: index.html",
      "<<<<<<< SEARCH",
      '    <p id="missing">0</p>',
      "=======",
      "x",
      ">>>>>>> REPLACE",
      "<<<<<<< SEARCH",
      "    const n = 1;",
      "=======",
      "    const n = 2;",
      ">>>>>>> REPLACE",
      "FILE: nope.js",
      "<<<<<<< SEARCH",
      "a",
      "=======",
      "b",
      ">>>>>>> REPLACE",
    ].join("\n");
    const error = catchError(() => apply({ "index.html": page }, answer), EditApplyError);
    expect(error.failures).toEqual([
      { blockIndex: 0, path: "index.html", reason: 'index.html: search text not found (first line: "<p id=\\"missing\\">0</p>")' },
      { blockIndex: 2, path: "nope.js", reason: 'nope.js: file does not exist (an empty SEARCH creates a file; first line: "a")' },
    ]);
    expect(error.message).toContain("2 of 3 edit blocks did not apply:");
    expect(error.message).toContain('- block 1: index.html: search text not found (first line: "<p id=\\"missing\\">0</p>")');
    expect(error.code).toBe("edit-blocks-not-applied");
    expect(error.isRetryable).toBe(true);
    expect(error.partial.files.get("index.html")).toBe(page.replace("const n = 1;", "const n = 2;"));
    expect(error.partial.applied).toEqual([{ path: "index.html", mode: "exact" }]);
  });
});

describe("round 2 of the reference tasks through edit blocks", () => {
  const reference = (task: string) =>
    (JSON.parse(readFileSync(join(sharedFixtures, "llm", `${task}.json`), "utf8")) as { fixtures: Array<{ match: string[]; responses: Array<{ files: Record<string, string> }> }> }).fixtures;

  it("turns sum-of-sales round 1 into the round 2 reference with surgical blocks", () => {
    const [round2, round1] = reference("sum-of-sales").map((f) => f.responses[0]!.files["index.html"]!);
    const answer = [
      "FILE: index.html",
      "```html",
      "<<<<<<< SEARCH",
      '  <p>Total sales: <strong id="total-sales">…</strong></p>',
      "=======",
      '  <p>Total sales: <strong id="total-sales">…</strong></p>',
      '  <table id="product-sales" class="table table-striped">',
      "    <thead><tr><th>Product</th><th>Sales</th></tr></thead>",
      "    <tbody></tbody>",
      "  </table>",
      ">>>>>>> REPLACE",
      "```",
      "```html",
      "<<<<<<< SEARCH",
      // Indented differently on purpose: the whitespace-tolerant pass must find it.
      "const col = header.split(\",\").indexOf(\"sales\");",
      "const total = lines.reduce((sum, line) => sum + parseFloat(line.split(\",\")[col]), 0);",
      "=======",
      "const cols = header.split(\",\");",
      "const p = cols.indexOf(\"product\"), s = cols.indexOf(\"sales\");",
      "const byProduct = new Map();",
      "let total = 0;",
      "for (const line of lines) {",
      "  const cells = line.split(\",\");",
      "  const value = parseFloat(cells[s]);",
      "  total += value;",
      "  byProduct.set(cells[p], (byProduct.get(cells[p]) || 0) + value);",
      "}",
      "const body = document.querySelector(\"#product-sales tbody\");",
      "for (const [product, value] of byProduct) {",
      "  const tr = document.createElement(\"tr\");",
      "  tr.innerHTML = \"<td></td><td></td>\";",
      "  tr.children[0].textContent = product;",
      "  tr.children[1].textContent = value.toFixed(2);",
      "  body.appendChild(tr);",
      "}",
      ">>>>>>> REPLACE",
      "```",
    ].join("\n");
    const result = apply({ "index.html": round1! }, answer);
    expect(result.files["index.html"]).toBe(round2);
    expect(result.applied.map((a) => a.mode)).toEqual(["exact", "whitespace"]);
  });

  it.each(["sum-of-sales", "markdown-to-html"])("reproduces %s round 2 byte for byte from the scripted LLM's whole-file blocks", (task) => {
    const [round2, round1] = reference(task).map((f) => f.responses[0]!.files);
    const answer = renderFiles(round2!, "edit-blocks");
    const result = apply(round1!, answer);
    expect(result.files).toEqual({ ...round1, ...round2 });
  });
});
