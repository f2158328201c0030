import { z } from "zod";
import type { SpreadsheetReader } from "../ports/spreadsheet-reader.ts";
import type { BuildToolContext, BuildToolFactory } from "./build-tool.ts";
import { ConversionError, convertFile, convertibleSources, extensionOf, type ConversionTarget } from "./convert-file.ts";

export const CONVERT_FILE_TOOL = "convert_file" as const;

const convertFileArguments = z.object({
  from: z.string().describe("The file to read: an attachment, a file fetched or saved earlier, or a repository file (xlsx, xls, ods, csv or json)"),
  to: z.string().describe("The relative path to write; its extension, .csv or .json, is the format"),
  sheet: z.string().optional().describe("A workbook's sheet by name; the first sheet when left out"),
});

export type ConvertFileArguments = z.infer<typeof convertFileArguments>;

export type ConvertFileResult =
  | { readonly ok: true; readonly saved_as: string; readonly rows: number; readonly sheet: string | null; readonly bytes: number; readonly preview: string; readonly truncated: boolean }
  | { readonly ok: false; readonly error: string };

export interface ConvertedBuildFile {
  readonly path: string;
  readonly rows: number;
  readonly sheet: string | null;
  readonly bytes: Buffer;
}

/**
 * Converts `from` into `to` and saves it into the round's files: shared by the contract's
 * conversions (made before the model is asked) and the model's `convert_file`. Throws
 * ConversionError with a reason the model or the record can read.
 */
export function convertIntoBuildFiles(
  request: { readonly from: string; readonly to: string; readonly sheet?: string },
  context: BuildToolContext,
  reader: SpreadsheetReader,
  via: "contract" | "tool",
): ConvertedBuildFile {
  const format = extensionOf(request.to);
  if (format !== "csv" && format !== "json") throw new ConversionError(`to ${JSON.stringify(request.to)} must end in .csv or .json`);
  const problem = context.files.savePathProblem(request.to, "to");
  if (problem) throw new ConversionError(problem);
  const source = context.files.read(request.from);
  if (!source) throw new ConversionError(`there is no file ${JSON.stringify(request.from)} to convert; readable files: ${context.files.readablePaths().filter((p) => convertibleSources.includes(extensionOf(p))).join(", ") || "(none)"}`);
  const converted = convertFile({ bytes: source, from: request.from, to: format as ConversionTarget, sheet: request.sheet }, reader);
  context.files.save({ path: request.to, url: request.from, bytes: converted.bytes.length, contentType: converted.contentType, base64: converted.bytes.toString("base64"), via, tool: CONVERT_FILE_TOOL });
  return { path: request.to, rows: converted.rows, sheet: converted.sheet, bytes: converted.bytes };
}

/**
 * `convert_file({from, to, sheet?})` for the model: the product reads the workbook or table and
 * writes CSV or JSON itself (ISO dates, unformatted numbers, one row per row), so the data is
 * never retyped by a model. The model reads back the row count and the start of the output.
 */
export function convertFileBuildTool(reader: SpreadsheetReader): BuildToolFactory {
  return (context) => ({
    name: CONVERT_FILE_TOOL,
    description:
      "Convert a spreadsheet (xlsx, xls, ods), CSV or JSON table into CSV or JSON and save it into the repository. Use it " +
      "whenever the brief asks for a file converted from another: never retype data yourself. Dates come out as ISO " +
      "dates and numbers unformatted; a workbook's first row becomes the JSON keys.",
    parameters: convertFileArguments,
    async execute(args: ConvertFileArguments): Promise<ConvertFileResult> {
      const from = args.from.trim();
      const to = args.to.trim();
      try {
        const converted = convertIntoBuildFiles({ from, to, sheet: args.sheet?.trim() || undefined }, context, reader, "tool");
        context.record({ tool: CONVERT_FILE_TOOL, outcome: "saved", path: to, from, bytes: converted.bytes.length, detail: `${converted.rows} rows${converted.sheet ? ` from sheet ${converted.sheet}` : ""}` });
        const preview = converted.bytes.subarray(0, 2048).toString("utf8").replace(/\uFFFD+$/, "");
        return { ok: true, saved_as: to, rows: converted.rows, sheet: converted.sheet, bytes: converted.bytes.length, preview, truncated: converted.bytes.length > 2048 };
      } catch (error) {
        if (!(error instanceof ConversionError)) throw error;
        context.record({ tool: CONVERT_FILE_TOOL, outcome: "refused", path: to, from, bytes: 0, detail: error.message });
        return { ok: false, error: error.message };
      }
    },
  });
}
