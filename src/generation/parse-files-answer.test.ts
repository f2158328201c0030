import { describe, expect, it } from "vitest";
import { GenerationParseError } from "../domain/errors.ts";
import { parseFilesAnswer } from "./parse-files-answer.ts";

describe("parseFilesAnswer", () => {
  it("reads a plain JSON object", () => {
    expect([...parseFilesAnswer('{"files":{"index.html":"<p>hi</p>","js/app.js":"x()"}}')]).toEqual([
      ["index.html", "<p>hi</p>"],
      ["js/app.js", "x()"],
    ]);
  });

  it("tolerates a fenced block with prose around it", () => {
    const text = 'Here you go:\n```json\n{"files":{"index.html":"ok"}}\n```\nEnjoy.';
    expect(parseFilesAnswer(text).get("index.html")).toBe("ok");
  });

  it("drops files briefwright writes itself", () => {
    const files = parseFilesAnswer('{"files":{"index.html":"a","LICENSE":"b","README.md":"c"}}');
    expect([...files.keys()]).toEqual(["index.html"]);
  });

  it("keeps the dot-paths a repository needs and refuses other hidden paths", () => {
    const files = parseFilesAnswer(JSON.stringify({ files: { ".github/workflows/ci.yml": "on: push", ".gitignore": "result.json\n", "./execute.py": "print(1)" } }));
    expect([...files.keys()]).toEqual([".github/workflows/ci.yml", ".gitignore", "execute.py"]);
    expect(() => parseFilesAnswer(JSON.stringify({ files: { ".env": "KEY=1" } }))).toThrow(/hidden path/);
    expect(() => parseFilesAnswer(JSON.stringify({ files: { ".git/config": "x" } }))).toThrow(/\.git segment/);
  });

  it.each([
    ["not json at all", /not a JSON object/],
    ['{"file":{}}', /no "files"/],
    ['{"files":{"index.html":3}}', /not a string/],
    ['{"files":{"../x.html":"a"}}', /not allowed/],
    ['{"files":{}}', /no files/],
  ])("refuses %s", (text, message) => {
    expect(() => parseFilesAnswer(text)).toThrow(GenerationParseError);
    expect(() => parseFilesAnswer(text)).toThrow(message);
  });
});
