import * as XLSX from "@e965/xlsx";
import { describe, expect, it } from "vitest";
import { createSheetJsSpreadsheetReader } from "../adapters/spreadsheet/sheetjs-spreadsheet-reader.ts";
import { buildContract } from "../domain/build-contract.ts";
import type { BriefwrightEvent } from "../events/event-map.ts";
import { createInProcessEventBus } from "../events/in-process-event-bus.ts";
import type { LanguageModel } from "../ports/language-model.ts";
import type { Clock } from "../ports/clock.ts";
import type { AnalyzedAttachment } from "./analyze-stage.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";
import { prepareBuildTools } from "./prepare-build-tools.ts";

const clock: Clock = { now: () => 0, sleep: async () => {} };

function workbook(): Buffer {
  const book = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet([["k", "v"], ["a", 1]]), "S");
  return Buffer.from(XLSX.write(book, { type: "buffer", bookType: "xlsx" }));
}

function attachment(name: string, content: Buffer): AnalyzedAttachment {
  return { name, mimeType: "application/octet-stream", base64: content.toString("base64") } as AnalyzedAttachment;
}

/** Only what preparing the tools touches: events, settings, the adapters and whether the model takes tools. */
function deps(options: { spreadsheets: boolean; tools: boolean }) {
  const events: BriefwrightEvent[] = [];
  const bus = createInProcessEventBus(clock);
  bus.subscribe((event) => events.push(event));
  const value = {
    events: bus,
    fetch: () => Promise.reject(new Error("no fetch expected")),
    model: { supportsTools: options.tools } as LanguageModel,
    buildTools: options.spreadsheets ? { spreadsheets: createSheetJsSpreadsheetReader() } : {},
    settings: { allowPrivateUrls: false, maxAttachmentBytes: 1 << 20 },
  } as unknown as PipelineDeps;
  return { value, events };
}

async function prepare(brief: string, attachments: AnalyzedAttachment[], options: { spreadsheets: boolean; tools: boolean }) {
  const contract = buildContract({ brief, checks: [], attachments: attachments.map((a) => ({ name: a.name, mimeType: a.mimeType, content: Buffer.from(a.base64, "base64") })) });
  const { value, events } = deps(options);
  const prepared = await prepareBuildTools({ roundId: "r1", email: "s@example.edu", attachments }, contract, value);
  return { prepared, runs: events.filter((e) => e.name === "build-tool-run").map((e) => e.payload) };
}

describe("prepareBuildTools", () => {
  it("makes the brief's conversion before the model is asked and offers only the tools it has adapters for", async () => {
    const { prepared, runs } = await prepare("Convert data.xlsx to data.csv.", [attachment("data.xlsx", workbook())], { spreadsheets: true, tools: true });
    expect(prepared.files.all().map((f) => [f.path, f.via, f.tool, Buffer.from(f.base64, "base64").toString()])).toEqual([["data.csv", "contract", "convert_file", "k,v\na,1\n"]]);
    expect(runs).toEqual([{ tool: "convert_file", outcome: "saved", path: "data.csv", from: "data.xlsx", bytes: Buffer.byteLength("k,v\na,1\n"), detail: "1 row from sheet S", via: "contract" }]);
    // No sandbox in these deps: run_js is not offered.
    expect(prepared.tools.map((t) => t.name)).toEqual(["fetch_url", "convert_file"]);
  });

  it("records a conversion it cannot make and goes on", async () => {
    const { prepared, runs } = await prepare("Convert data.xlsx to data.csv.", [attachment("data.xlsx", Buffer.from("just text"))], { spreadsheets: true, tools: false });
    expect(prepared.files.all()).toEqual([]);
    expect(prepared.tools).toEqual([]);
    expect(runs).toEqual([expect.objectContaining({ tool: "convert_file", outcome: "refused", path: "data.csv", detail: expect.stringMatching(/not a \.xlsx workbook/), via: "contract" })]);
  });

  it("says so when no spreadsheet reader is configured", async () => {
    const { runs } = await prepare("Convert data.xlsx to data.csv.", [attachment("data.xlsx", workbook())], { spreadsheets: false, tools: true });
    expect(runs).toEqual([expect.objectContaining({ outcome: "refused", detail: "no spreadsheet reader is configured" })]);
  });
});
