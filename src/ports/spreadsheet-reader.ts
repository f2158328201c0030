/**
 * Reads one sheet of a workbook (or a CSV table) as plain cell values, so conversions are made by
 * the product from the real bytes rather than retyped by a model. Version 1.
 */

/** A date or date-time cell, already in ISO form with no time zone (spreadsheets keep none). */
export interface SheetDate {
  readonly date: string;
}

/** One cell: text, an unformatted number, a boolean, a date, or null for a blank. */
export type SheetCell = string | number | boolean | SheetDate | null;

export interface SheetTable {
  /** Every sheet's name, in workbook order (one, unnamed `Sheet1`, for a CSV). */
  readonly sheetNames: readonly string[];
  /** The sheet that was read. */
  readonly sheet: string;
  /** One array per row of the sheet's used range, top to bottom; blank rows inside it kept. */
  readonly rows: readonly (readonly SheetCell[])[];
}

export interface SpreadsheetReader {
  readonly version: 1;
  /** File extensions it reads, lower case without the dot (`xlsx`, `xls`, `ods`, `csv`). */
  readonly formats: readonly string[];
  /**
   * Reads the named sheet, or the first one. Throws SpreadsheetReadError for bytes that are not
   * a workbook of that format or a sheet name the workbook lacks.
   */
  read(bytes: Buffer, options: { readonly format: string; readonly sheet?: string }): SheetTable;
}

export function isSheetDate(cell: SheetCell): cell is SheetDate {
  return typeof cell === "object" && cell !== null;
}
