import * as XLSX from "@e965/xlsx";
import { describe, expect, it } from "vitest";
import { createSheetJsSpreadsheetReader } from "../adapters/spreadsheet/sheetjs-spreadsheet-reader.ts";
import { ConversionError, convertFile } from "./convert-file.ts";

const reader = createSheetJsSpreadsheetReader();

/** A workbook as a person would make it: a header, dates, formatted numbers, a blank, a second sheet. */
function workbook(bookType: XLSX.BookType): Buffer {
  const book = XLSX.utils.book_new();
  const orders = XLSX.utils.aoa_to_sheet([
    ["Region", "Date", "Units", "Revenue", "Paid"],
    ["North", null, 1200, 25000000, true],
    ["South, East", null, 3, 0.125, false],
    ["West \"Main\"", null, null, -42.5, true],
  ]);
  // Dates as Excel stores them: a serial with a date format (45352 is 2024-03-01), one with a time.
  orders["B2"] = { t: "n", v: 45352, z: "dd/mm/yyyy" };
  orders["B3"] = { t: "n", v: 45383.4375, z: "m/d/yy h:mm" };
  orders["B4"] = { t: "n", v: 45657, z: "m/d/yy" };
  // Shown with separators and two decimals in the sheet; the number itself must come through.
  orders["D2"]!.z = "#,##0.00";
  XLSX.utils.book_append_sheet(book, orders, "Orders");
  XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet([["Key", "Value"], ["rate", 0.07]]), "Settings");
  return Buffer.from(XLSX.write(book, { type: "buffer", bookType }));
}

const expectedCsv = [
  "Region,Date,Units,Revenue,Paid",
  "North,2024-03-01,1200,25000000,TRUE",
  '"South, East",2024-04-01T10:30:00,3,0.125,FALSE',
  '"West ""Main""",2024-12-31,,-42.5,TRUE',
  "",
].join("\n");

describe("convertFile", () => {
  it.each(["xlsx", "xls", "ods"] as const)("turns the first sheet of a .%s workbook into CSV row for row", (format) => {
    const converted = convertFile({ bytes: workbook(format === "xls" ? "biff8" : format), from: `orders.${format}`, to: "csv" }, reader);
    expect(converted.bytes.toString("utf8")).toBe(expectedCsv);
    expect(converted).toMatchObject({ rows: 3, sheet: "Orders", contentType: "text/csv; charset=utf-8" });
  });

  it("turns a workbook into JSON objects keyed by the header, blanks null and dates ISO", () => {
    const converted = convertFile({ bytes: workbook("xlsx"), from: "orders.xlsx", to: "json" }, reader);
    expect(JSON.parse(converted.bytes.toString("utf8"))).toEqual([
      { Region: "North", Date: "2024-03-01", Units: 1200, Revenue: 25000000, Paid: true },
      { Region: "South, East", Date: "2024-04-01T10:30:00", Units: 3, Revenue: 0.125, Paid: false },
      { Region: 'West "Main"', Date: "2024-12-31", Units: null, Revenue: -42.5, Paid: true },
    ]);
    expect(converted.rows).toBe(3);
  });

  it("reads the sheet it is told to, by name in any case", () => {
    const converted = convertFile({ bytes: workbook("xlsx"), from: "orders.xlsx", to: "csv", sheet: "settings" }, reader);
    expect(converted.bytes.toString("utf8")).toBe("Key,Value\nrate,0.07\n");
    expect(converted.sheet).toBe("Settings");
  });

  it("refuses a sheet the workbook lacks, naming the ones it has", () => {
    expect(() => convertFile({ bytes: workbook("xlsx"), from: "orders.xlsx", to: "csv", sheet: "Q9" }, reader)).toThrow(/no sheet named "Q9".*"Orders", "Settings"/);
  });

  it("keeps CSV text as text when turning it into JSON: only exact numbers become numbers", () => {
    const csv = "zip,amount,when,label\n01234,12.5,1/2/2024,\"a, b\"\n99,1.50,,x\n";
    const converted = convertFile({ bytes: Buffer.from(csv), from: "in.csv", to: "json" }, reader);
    expect(JSON.parse(converted.bytes.toString("utf8"))).toEqual([
      { zip: "01234", amount: 12.5, when: "1/2/2024", label: "a, b" },
      { zip: 99, amount: "1.50", when: null, label: "x" },
    ]);
  });

  it("turns a JSON array of objects into CSV with every key as a column", () => {
    const json = JSON.stringify([{ name: "Ada", born: 1815 }, { name: "Alan", died: 1954, tags: ["x"] }]);
    const converted = convertFile({ bytes: Buffer.from(json), from: "people.json", to: "csv" }, reader);
    expect(converted.bytes.toString("utf8")).toBe('name,born,died,tags\nAda,1815,,\nAlan,,1954,"[""x""]"\n');
    expect(converted.rows).toBe(2);
  });

  it.each([
    [{ bytes: Buffer.from("not a workbook at all"), from: "a.xlsx", to: "csv" as const }, /a\.xlsx/],
    [{ bytes: Buffer.from('{"rows": []}'), from: "a.json", to: "csv" as const }, /not a JSON array/],
    [{ bytes: Buffer.from("[1, [2]]"), from: "a.json", to: "csv" as const }, /every row must be/],
    [{ bytes: Buffer.from("x"), from: "a.docx", to: "csv" as const }, /\.docx cannot be converted/],
    [{ bytes: Buffer.from("a\n1\n"), from: "a.csv", to: "csv" as const }, /already CSV/],
  ])("refuses %#: a typed error the model or the record can read", (input, message) => {
    let thrown: unknown;
    try {
      convertFile(input, reader);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConversionError);
    expect((thrown as Error).message).toMatch(message);
  });
});
