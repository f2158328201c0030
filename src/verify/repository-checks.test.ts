import { describe, expect, it } from "vitest";
import {
  checkAttachmentIdentical,
  checkFileExists,
  checkMitLicense,
  checkReadmeSections,
  checkValidJson,
  checkValidSvg,
  markdownHeadings,
  parseXmlRoot,
} from "./repository-checks.ts";
import { mitLicense } from "../generation/mit-license.ts";

const mit = `MIT License

Copyright (c) 2025 Student Example

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT.
`;

const tree = (entries: Record<string, string | Buffer>) => new Map(Object.entries(entries).map(([path, content]) => [path, Buffer.isBuffer(content) ? content : Buffer.from(content)]));

describe("checkMitLicense", () => {
  it("passes the licence briefwright itself writes", () => {
    expect(checkMitLicense(tree({ LICENSE: mitLicense(2026, "Ada Lovelace") })).passed).toBe(true);
  });

  it("passes a complete MIT licence at the root", () => {
    expect(checkMitLicense(tree({ LICENSE: mit }))).toEqual({ id: "repo:mit-license", passed: true, detail: "LICENSE holds the MIT licence" });
    expect(checkMitLicense(tree({ "LICENSE.md": `\uFEFF${mit}` })).passed).toBe(true);
  });

  it("fails a missing, nested, altered or unfilled licence and says why", () => {
    expect(checkMitLicense(tree({ "docs/LICENSE": mit }))).toMatchObject({ passed: false, detail: "no LICENSE file at the repository root" });
    expect(checkMitLicense(tree({ LICENSE: "Apache License 2.0" })).detail).toMatch(/does not say "MIT License".*permission grant/);
    const template = mit.replace("2025 Student Example", "[year] [fullname]");
    expect(checkMitLicense(tree({ LICENSE: template }))).toMatchObject({ passed: false, detail: expect.stringContaining("[year]") });
  });
});

describe("checkReadmeSections", () => {
  const complete = `# Sales Summary

## Overview
Sums sales.

## ⚙️ Setup & Installation
Open it.

## Usage
Look at it.

## How it works
\`\`\`js
# not a heading
\`\`\`

License
-------
MIT
`;

  it("finds every section by heading, whatever the decoration", () => {
    expect(checkReadmeSections(tree({ "README.md": complete }))).toMatchObject({ passed: true });
  });

  it("names the missing sections", () => {
    const result = checkReadmeSections(tree({ "README.md": "# App\n\n## Usage\nx\n\n```\n## Setup\n```\n" }));
    expect(result).toEqual({ id: "repo:readme-sections", passed: false, detail: "README.md lacks a heading for: summary, setup, code explanation, license" });
    expect(checkReadmeSections(tree({}))).toMatchObject({ passed: false, detail: "no README.md at the repository root" });
  });

  it("reads ATX and setext headings but not code or list items", () => {
    expect(markdownHeadings("# One #\nText\n\nTwo\n===\n- item\n---\n~~~\n# no\n~~~\n   ### Three")).toEqual(["One", "Two", "Three"]);
  });
});

describe("file checks", () => {
  const files = tree({ "data.csv": "a,b\n1,2\n", "Data.json": "{}", "ok.json": '\uFEFF{"a": [1, 2]}', "bad.json": "{a: 1}" });

  it("checkFileExists notices case mismatches Pages will not forgive", () => {
    expect(checkFileExists(files, "data.csv")).toMatchObject({ id: "repo:file-exists:data.csv", passed: true });
    expect(checkFileExists(files, "data.json")).toMatchObject({ passed: false, detail: expect.stringContaining("case-sensitive") });
  });

  it("checkAttachmentIdentical compares bytes", () => {
    expect(checkAttachmentIdentical(files, "data.csv", Buffer.from("a,b\n1,2\n")).passed).toBe(true);
    const changed = checkAttachmentIdentical(files, "data.csv", Buffer.from("a,b\r\n1,2\r\n"));
    expect(changed).toMatchObject({ passed: false, detail: expect.stringMatching(/differs from the attachment: 8 bytes .* instead of 10 bytes/) });
    expect(checkAttachmentIdentical(files, "input.md", Buffer.from("x")).passed).toBe(false);
  });

  it("checkValidJson parses", () => {
    expect(checkValidJson(files, "ok.json").passed).toBe(true);
    expect(checkValidJson(files, "bad.json")).toMatchObject({ passed: false, detail: expect.stringContaining("not valid JSON") });
    expect(checkValidJson(files, "missing.json").passed).toBe(false);
  });
});

describe("checkValidSvg", () => {
  const svg = (content: string) => checkValidSvg(tree({ "logo.svg": content }), "logo.svg");

  it("accepts well-formed SVG in the SVG namespace", () => {
    expect(svg('<?xml version="1.0" encoding="UTF-8"?>\n<!-- logo -->\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><title>A &amp; B &#169;</title><style><![CDATA[ a < b ]]></style><circle cx="5" cy="5" r="4"/></svg>\n')).toMatchObject({ passed: true });
    expect(svg('<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><use xlink:href="#a"/></svg>').passed).toBe(true);
    expect(svg("<s:svg xmlns:s='http://www.w3.org/2000/svg'/>").passed).toBe(true);
  });

  it("rejects what a browser's XML parser or renderer would reject", () => {
    expect(svg("<svg><g></svg>").detail).toContain("</svg> closes <g>");
    expect(svg('<svg xmlns="http://www.w3.org/2000/svg"><text>a & b</text></svg>').detail).toContain("bare &");
    expect(svg('<svg xmlns="http://www.w3.org/2000/svg"><text>&nbsp;</text></svg>').detail).toContain("undefined entity &nbsp;");
    expect(svg('<svg xmlns="http://www.w3.org/2000/svg" width=10></svg>').detail).toContain("malformed attribute");
    expect(svg('<svg xmlns="http://www.w3.org/2000/svg" a="1" a="2"></svg>').detail).toContain("duplicate attribute");
    expect(svg('<svg xmlns="http://www.w3.org/2000/svg"></svg><svg></svg>').detail).toContain("second root");
    expect(svg("<html><body/></html>").detail).toContain("root element is <html>");
    expect(svg('<svg viewBox="0 0 1 1"></svg>').detail).toContain("lacks xmlns");
    expect(svg("").detail).toContain("no root element");
    expect(svg('<svg xmlns="http://www.w3.org/2000/svg">').detail).toContain("never closed");
    expect(checkValidSvg(tree({}), "logo.svg").passed).toBe(false);
  });

  it("parseXmlRoot reports positions", () => {
    expect(parseXmlRoot("<a>\n  <b>\n</a>")).toEqual({ error: "</a> closes <b> at line 3, column 1" });
  });
});
