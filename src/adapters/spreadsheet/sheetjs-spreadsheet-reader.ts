import * as XLSX from "@e965/xlsx";
import { BriefwrightError } from "../../domain/errors.ts";
import type { SheetCell, SheetTable, SpreadsheetReader } from "../../ports/spreadsheet-reader.ts";

/** A workbook could not be read: not that format, damaged, or the sheet it names is missing. */
export class SpreadsheetReadError extends BriefwrightError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("spreadsheet-unreadable", message, options);
  }
}

const formats = ["xlsx", "xlsm", "xls", "ods", "csv"] as const;

/**
 * SheetJS (the `@e965/xlsx` republication of SheetJS 0.20.3; see docs/decisions/0012). Cells are
 * read as stored, never as displayed: numbers keep every digit, and a number whose format is a
 * date format becomes an ISO date from the serial itself, so no time zone can shift a day.
 */
export function createSheetJsSpreadsheetReader(): SpreadsheetReader {
  return {
    version: 1,
    formats,
    read(bytes, options) {
      const format = options.format.toLowerCase();
      if (!(formats as readonly string[]).includes(format)) throw new SpreadsheetReadError(`.${format} is not a spreadsheet format this reader knows (${formats.join(", ")})`);
      if (!hasSignatureOf(format, bytes)) throw new SpreadsheetReadError(`the bytes are not a .${format} workbook (its file signature is missing)`);
      let workbook: XLSX.WorkBook;
      try {
        // CSV text is kept as text (`raw`): "01234" or "1/2/2024" are not numbers or dates to guess at.
        workbook = format === "csv" ? XLSX.read(bytes.toString("utf8"), { type: "string", raw: true, dense: true }) : XLSX.read(bytes, { type: "buffer", cellDates: false, cellNF: true, dense: true });
      } catch (cause) {
        throw new SpreadsheetReadError(`the bytes are not a readable .${format} workbook: ${(cause as Error).message}`, { cause });
      }
      if (workbook.SheetNames.length === 0) throw new SpreadsheetReadError("the workbook has no sheets");
      const sheetName = options.sheet === undefined ? workbook.SheetNames[0]! : pickSheet(workbook.SheetNames, options.sheet);
      return { sheetNames: [...workbook.SheetNames], sheet: sheetName, rows: rowsOf(workbook.Sheets[sheetName]!, workbook.Workbook?.WBProps?.date1904 === true) };
    },
  };
}

const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const compoundFile = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

// SheetJS reads almost any bytes as some sheet (plain text becomes one cell); a file that does not
// start like its format is refused instead of converted into nonsense.
function hasSignatureOf(format: string, bytes: Buffer): boolean {
  if (format === "csv") return true;
  if (format === "xls") return bytes.subarray(0, 8).equals(compoundFile) || /^\s*</.test(bytes.subarray(0, 64).toString("latin1")); // BIFF8, or the XML/HTML tables Excel also saves as .xls
  return bytes.subarray(0, 4).equals(zip);
}

function pickSheet(names: readonly string[], wanted: string): string {
  const exact = names.find((name) => name === wanted) ?? names.find((name) => name.toLowerCase() === wanted.trim().toLowerCase());
  if (exact === undefined) throw new SpreadsheetReadError(`the workbook has no sheet named ${JSON.stringify(wanted)} (it has ${names.map((n) => JSON.stringify(n)).join(", ")})`);
  return exact;
}

function rowsOf(sheet: XLSX.WorkSheet, date1904: boolean): SheetCell[][] {
  const ref = sheet["!ref"];
  if (!ref) return [];
  const range = XLSX.utils.decode_range(ref);
  const dense = (sheet as { "!data"?: (XLSX.CellObject | undefined)[][] })["!data"];
  const rows: SheetCell[][] = [];
  for (let r = range.s.r; r <= range.e.r; r++) {
    const row: SheetCell[] = [];
    for (let c = range.s.c; c <= range.e.c; c++) {
      const cell = dense ? dense[r]?.[c] : (sheet[XLSX.utils.encode_cell({ r, c })] as XLSX.CellObject | undefined);
      row.push(valueOf(cell, date1904));
    }
    rows.push(row);
  }
  // The used range can run past the last value (formatting only): trailing empty columns and rows are not data.
  let width = 0;
  for (const row of rows) for (let c = row.length - 1; c >= width; c--) if (row[c] !== null) { width = c + 1; break; }
  let height = rows.length;
  while (height > 0 && rows[height - 1]!.every((cell) => cell === null)) height--;
  return rows.slice(0, height).map((row) => row.slice(0, width));
}

function valueOf(cell: XLSX.CellObject | undefined, date1904: boolean): SheetCell {
  if (!cell || cell.t === "z" || cell.v === undefined || cell.v === null || cell.v === "") return null;
  switch (cell.t) {
    case "n": {
      const value = cell.v as number;
      if (cell.z !== undefined && XLSX.SSF.is_date(cell.z)) return { date: isoFromSerial(value, date1904) };
      return value;
    }
    case "d":
      return { date: isoFromDate(cell.v as Date) };
    case "b":
      return cell.v as boolean;
    case "e":
      // An error cell shows its code (#DIV/0!, #N/A); that text is what the sheet holds.
      return cell.w ?? XLSX.SSF.format("General", cell.v);
    default:
      return String(cell.v);
  }
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** An Excel serial as `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM:SS` when it has a time of day. */
function isoFromSerial(serial: number, date1904: boolean): string {
  const parts = XLSX.SSF.parse_date_code(serial, { date1904 });
  const date = `${pad(parts.y, 4)}-${pad(parts.m)}-${pad(parts.d)}`;
  if (parts.H === 0 && parts.M === 0 && parts.S === 0) return date;
  return `${date}T${pad(parts.H)}:${pad(parts.M)}:${pad(parts.S)}`;
}

function isoFromDate(value: Date): string {
  const iso = value.toISOString();
  return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso.slice(0, 19);
}
