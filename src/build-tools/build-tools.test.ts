import * as XLSX from "@e965/xlsx";
import { describe, expect, it } from "vitest";
import { createQuickJsCodeSandbox } from "../adapters/sandbox/quickjs-code-sandbox.ts";
import { createSheetJsSpreadsheetReader } from "../adapters/spreadsheet/sheetjs-spreadsheet-reader.ts";
import { BuildFiles } from "./build-files.ts";
import type { BuildToolContext, BuildToolRun } from "./build-tool.ts";
import { convertFileBuildTool, type ConvertFileResult } from "./convert-file-tool.ts";
import { runJsBuildTool, type RunJsResult } from "./run-js-tool.ts";

function round(readable: Record<string, string | Buffer>) {
  const runs: BuildToolRun[] = [];
  const files = new BuildFiles({
    readable: new Map(Object.entries(readable).map(([path, content]) => [path, Buffer.isBuffer(content) ? content : Buffer.from(content)])),
    reservedPaths: ["LICENSE", "README.md", "index.html", ...Object.keys(readable)],
  });
  const context: BuildToolContext = { files, record: (run) => runs.push(run) };
  return { files, runs, context };
}

const signal = new AbortController().signal;

describe("run_js", () => {
  const tool = (context: BuildToolContext) => runJsBuildTool({ sandbox: createQuickJsCodeSandbox(), limits: { timeoutMs: 3000 } })(context);

  it("passes .json inputs parsed and other files as text, and saves the result as a file of the round", async () => {
    const { files, runs, context } = round({ "prices.json": '{"items":[{"p":3},{"p":9},{"p":4}]}', "notes.txt": "a\nb\n" });
    const result = (await tool(context).execute(
      { code: `(f) => ({ max: Math.max(...f["prices.json"].items.map((i) => i.p)), lines: f["notes.txt"].trim().split("\\n").length })`, inputs: ["prices.json", "notes.txt"], save_as: "out/summary.json" },
      { signal },
    )) as RunJsResult;
    const savedText = '{\n  "max": 9,\n  "lines": 2\n}\n';
    const bytes = Buffer.byteLength(savedText);
    expect(result).toEqual({ ok: true, kind: "json", bytes, saved_as: "out/summary.json", result: '{\n  "max": 9,\n  "lines": 2\n}', truncated: false });
    const saved = files.all();
    expect(saved.map(({ base64, ...rest }) => ({ ...rest, text: Buffer.from(base64, "base64").toString() }))).toEqual([
      { path: "out/summary.json", url: "prices.json, notes.txt", bytes, contentType: "application/json", via: "tool", tool: "run_js", text: savedText },
    ]);
    expect(runs).toEqual([{ tool: "run_js", outcome: "saved", path: "out/summary.json", from: "prices.json, notes.txt", bytes, detail: "json" }]);
  });

  it.each([
    [{ code: "() => 1", inputs: ["missing.json"] }, /no file "missing\.json"; readable files: prices\.json/],
    [{ code: "() => 1", inputs: [], save_as: "index.html" }, /written for you/],
    [{ code: "() => 1", inputs: [], save_as: "../escape.json" }, /not a safe relative path/],
  ])("refuses before running: %j", async (args, reason) => {
    const { files, runs, context } = round({ "prices.json": "{}" });
    const result = (await tool(context).execute(args, { signal })) as RunJsResult;
    expect(result).toEqual({ ok: false, error: expect.stringMatching(reason) });
    expect(files.all()).toEqual([]);
    expect(runs).toEqual([expect.objectContaining({ tool: "run_js", outcome: "refused" })]);
  });

  it("answers a throwing function with its error and saves nothing", async () => {
    const { files, context } = round({ "prices.json": "{}" });
    const result = (await tool(context).execute({ code: `(f) => f["prices.json"].items.length`, inputs: ["prices.json"], save_as: "data.json" }, { signal })) as RunJsResult;
    expect(result).toEqual({ ok: false, error: expect.stringMatching(/^the function failed \(thrown\): TypeError/) });
    expect(files.all()).toEqual([]);
  });
});

describe("convert_file", () => {
  const reader = createSheetJsSpreadsheetReader();

  it("converts a workbook the round can read into the file it names", async () => {
    const book = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet([["a", "b"], [1, 2]]), "First");
    XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet([["c"], ["x"]]), "Second");
    const { files, runs, context } = round({ "book.xlsx": Buffer.from(XLSX.write(book, { type: "buffer", bookType: "xlsx" })) });
    const result = (await convertFileBuildTool(reader)(context).execute({ from: "book.xlsx", to: "second.json", sheet: "Second" }, { signal })) as ConvertFileResult;
    expect(result).toMatchObject({ ok: true, saved_as: "second.json", rows: 1, sheet: "Second" });
    expect(JSON.parse(files.read("second.json")!.toString())).toEqual([{ c: "x" }]);
    expect(files.all()[0]).toMatchObject({ path: "second.json", url: "book.xlsx", via: "tool", tool: "convert_file" });
    expect(runs).toEqual([{ tool: "convert_file", outcome: "saved", path: "second.json", from: "book.xlsx", bytes: files.read("second.json")!.length, detail: "1 rows from sheet Second" }]);
  });

  it.each([
    [{ from: "nothing.xlsx", to: "out.csv" }, /no file "nothing\.xlsx" to convert; readable files: book\.csv/],
    [{ from: "book.csv", to: "out.txt" }, /must end in \.csv or \.json/],
    [{ from: "book.csv", to: "book.csv" }, /written for you/],
  ])("refuses %j with a reason the model reads", async (args, reason) => {
    const { files, context } = round({ "book.csv": "a\n1\n" });
    const result = (await convertFileBuildTool(reader)(context).execute(args, { signal })) as ConvertFileResult;
    expect(result).toEqual({ ok: false, error: expect.stringMatching(reason) });
    expect(files.all()).toEqual([]);
  });
});
