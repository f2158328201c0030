import { BriefwrightError } from "../domain/errors.ts";
import { isSheetDate, type SheetCell, type SpreadsheetReader } from "../ports/spreadsheet-reader.ts";

/** A conversion could not be made: an unknown format, unreadable bytes, a shape with no rows. */
export class ConversionError extends BriefwrightError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("conversion-failed", message, options);
  }
}

export type ConversionTarget = "csv" | "json";

/** Formats a conversion reads: spreadsheets through the reader, CSV and JSON as text. */
export const convertibleSources: readonly string[] = ["xlsx", "xlsm", "xls", "ods", "csv", "json"];

export interface ConvertFileInput {
  readonly bytes: Buffer;
  /** The source's file name; its extension says how to read it. */
  readonly from: string;
  readonly to: ConversionTarget;
  /** A workbook's sheet by name; the first sheet when absent. */
  readonly sheet?: string;
}

export interface ConvertedFile {
  readonly bytes: Buffer;
  readonly contentType: string;
  /** Data rows written (the header row of a table not counted). */
  readonly rows: number;
  /** The sheet read, for a workbook; null for CSV or JSON sources. */
  readonly sheet: string | null;
}

/** The lower-case extension of a path, without the dot ("" when it has none). */
export function extensionOf(path: string): string {
  const match = /\.([A-Za-z0-9]+)$/.exec(path);
  return match ? match[1]!.toLowerCase() : "";
}

/**
 * Converts a spreadsheet (xlsx, xls, ods), a CSV or a JSON table into CSV or JSON, one output row
 * per input row: dates as ISO dates (`2024-03-01`, with `T10:30:00` only when there is a time),
 * numbers as stored (never as displayed: no thousands separators, no rounding), blanks empty in
 * CSV and null in JSON. A workbook's first row becomes the JSON objects' keys when it reads as a
 * header (all distinct text); otherwise JSON rows are arrays.
 */
export function convertFile(input: ConvertFileInput, reader: SpreadsheetReader): ConvertedFile {
  const source = extensionOf(input.from);
  if (!convertibleSources.includes(source)) throw new ConversionError(`${input.from}: .${source || "(no extension)"} cannot be converted; sources are ${convertibleSources.map((s) => `.${s}`).join(", ")}`);
  if (source === input.to) throw new ConversionError(`${input.from} is already ${input.to.toUpperCase()}`);
  let rows: readonly (readonly SheetCell[])[];
  let sheet: string | null = null;
  if (source === "json") {
    rows = rowsFromJson(input.bytes, input.from);
  } else {
    let table;
    try {
      table = reader.read(input.bytes, { format: source, sheet: input.sheet });
    } catch (cause) {
      throw new ConversionError(`${input.from}: ${(cause as Error).message}`, { cause });
    }
    rows = source === "csv" ? table.rows.map((row) => row.map(numberFromCsvText)) : table.rows;
    sheet = source === "csv" ? null : table.sheet;
  }
  if (input.to === "csv") {
    return { bytes: Buffer.from(toCsv(rows), "utf8"), contentType: "text/csv; charset=utf-8", rows: Math.max(0, rows.length - 1), sheet };
  }
  const header = headerOf(rows);
  const body = header ? rows.slice(1).map((row) => Object.fromEntries(header.map((key, i) => [key, jsonValue(row[i] ?? null)]))) : rows.map((row) => row.map(jsonValue));
  return { bytes: Buffer.from(`${JSON.stringify(body, null, 2)}\n`, "utf8"), contentType: "application/json", rows: header ? rows.length - 1 : rows.length, sheet };
}

function cellText(cell: SheetCell): string {
  if (cell === null) return "";
  if (isSheetDate(cell)) return cell.date;
  if (typeof cell === "boolean") return cell ? "TRUE" : "FALSE";
  if (typeof cell === "number") return Object.is(cell, -0) ? "0" : String(cell);
  return cell;
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function toCsv(rows: readonly (readonly SheetCell[])[]): string {
  const width = Math.max(0, ...rows.map((row) => row.length));
  // Every line has the table's width, so a reader sees the same columns on every row.
  return rows.map((row) => Array.from({ length: width }, (_, i) => csvField(cellText(row[i] ?? null))).join(",") + "\n").join("");
}

function jsonValue(cell: SheetCell): string | number | boolean | null {
  return isSheetDate(cell) ? cell.date : cell;
}

/** The first row as keys when it is all distinct, non-empty text. */
function headerOf(rows: readonly (readonly SheetCell[])[]): string[] | undefined {
  const first = rows[0];
  if (!first || first.length === 0 || !first.every((cell): cell is string => typeof cell === "string" && cell.trim() !== "")) return undefined;
  return new Set(first).size === first.length ? [...first] : undefined;
}

// CSV is text; a field is a number only when writing that number back gives the same text.
function numberFromCsvText(cell: SheetCell): SheetCell {
  if (typeof cell !== "string" || !/^-?\d/.test(cell)) return cell;
  const value = Number(cell);
  return Number.isFinite(value) && String(value) === cell ? value : cell;
}

function rowsFromJson(bytes: Buffer, name: string): SheetCell[][] {
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString("utf8"));
  } catch (cause) {
    throw new ConversionError(`${name} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (!Array.isArray(data)) throw new ConversionError(`${name} is not a JSON array of rows (it is ${data === null ? "null" : typeof data}); only an array of objects or of arrays converts to rows`);
  const scalar = (value: unknown): SheetCell => (value === null || value === undefined ? null : typeof value === "object" ? JSON.stringify(value) : (value as string | number | boolean));
  if (data.every((row) => Array.isArray(row))) return (data as unknown[][]).map((row) => row.map(scalar));
  if (!data.every((row) => typeof row === "object" && row !== null && !Array.isArray(row))) throw new ConversionError(`${name} mixes objects, arrays and plain values; every row must be an object or every row an array`);
  const keys: string[] = [];
  for (const row of data as Record<string, unknown>[]) for (const key of Object.keys(row)) if (!keys.includes(key)) keys.push(key);
  return [keys, ...(data as Record<string, unknown>[]).map((row) => keys.map((key) => scalar(row[key])))];
}
