import { describe, expect, it } from "vitest";
import { conversionRequestsOf, type ConversionRequest } from "./conversion-requests.ts";

const request = (from: string, to: string, format: "csv" | "json", sheet?: string): ConversionRequest => ({ from, to, format, sheet });

describe("conversionRequestsOf", () => {
  const cases: ReadonlyArray<readonly [string, readonly string[], readonly ConversionRequest[]]> = [
    ["Convert data.xlsx to data.csv and commit it.", ["data.xlsx"], [request("data.xlsx", "data.csv", "csv")]],
    ["convert data.xlsx to data.csv", [], [request("data.xlsx", "data.csv", "csv")]],
    ["Convert the attached workbook into CSV.", ["sales.xlsx"], [request("sales.xlsx", "sales.csv", "csv")]],
    ["Convert the attached workbook into CSV and commit it as figures.csv.", ["q3.xlsx"], [request("q3.xlsx", "figures.csv", "csv")]],
    ["Convert the attached workbook as JSON.", ["stock.ods"], [request("stock.ods", "stock.json", "json")]],
    ["Save the spreadsheet as JSON", ["inventory.xls"], [request("inventory.xls", "inventory.json", "json")]],
    ["Turn sales.xlsx into sales.json for the chart.", ["sales.xlsx"], [request("sales.xlsx", "sales.json", "json")]],
    ["Export budget.ods to budget.csv", ["budget.ods"], [request("budget.ods", "budget.csv", "csv")]],
    ["Transform the attached Excel file into a CSV file named data/out.csv.", ["book.xlsx"], [request("book.xlsx", "data/out.csv", "csv")]],
    ["Commit data.csv converted from data.xlsx.", ["data.xlsx"], [request("data.xlsx", "data.csv", "csv")]],
    ["Include rows.json, generated from the attached spreadsheet.", ["rows.xlsx"], [request("rows.xlsx", "rows.json", "json")]],
    ["data.csv should be a CSV version of data.xlsx", ["data.xlsx"], [request("data.xlsx", "data.csv", "csv")]],
    ["Convert the 'Q2' sheet of report.xlsx to q2.csv.", ["report.xlsx"], [request("report.xlsx", "q2.csv", "csv", "Q2")]],
    ["Convert report.xlsx (sheet \"Totals\") to totals.json", ["report.xlsx"], [request("report.xlsx", "totals.json", "json", "Totals")]],
    ["Convert the Summary sheet of the attached workbook into CSV as summary.csv", ["report.xlsx"], [request("report.xlsx", "summary.csv", "csv", "Summary")]],
    ["Convert data.csv to data.json so the page can load it.", ["data.csv"], [request("data.csv", "data.json", "json")]],
    ["Convert items.json into items.csv.", ["items.json"], [request("items.json", "items.csv", "csv")]],
    ["Convert the xlsx attachment to CSV and commit it as data.csv.", ["input.xlsx", "logo.png"], [request("input.xlsx", "data.csv", "csv")]],
    ["Please convert the attachment to JSON.", ["people.csv"], [request("people.csv", "people.json", "json")]],
    ["Fix execute.py. Convert data.xlsx to data.csv. Add a workflow.", ["data.xlsx", "execute.py"], [request("data.xlsx", "data.csv", "csv")]],
    ["Convert a.xlsx to a.csv.\nConvert b.ods to b.json.", ["a.xlsx", "b.ods"], [request("a.xlsx", "a.csv", "csv"), request("b.ods", "b.json", "json")]],
    ["Re-save the provided spreadsheet in CSV format.", ["s.xlsx"], [request("s.xlsx", "s.csv", "csv")]],
    // Not requests: unit conversions, app features, no resolvable source, same format, ambiguity.
    ["Convert the temperature from Celsius to Fahrenheit on the page.", [], []],
    ["Build a page that lets users convert an Excel file to CSV in the browser.", ["sample.xlsx"], []],
    ["Convert the attached workbook into CSV.", [], []],
    ["Convert the attached workbook into CSV.", ["a.xlsx", "b.xlsx"], []],
    ["Render data.csv as a table with id #rows.", ["data.csv"], []],
    ["Convert markdown to HTML with marked.", ["README.md"], []],
    ["Save data.json as data.json.", ["data.json"], []],
    ["Fetch https://example.com/a.json and save it as data.json.", [], []],
  ];
  it.each(cases)("%j with attachments %j", (brief, attachments, expected) => {
    expect(conversionRequestsOf(brief, attachments)).toEqual(expected);
  });

  it("asks for one output file only once", () => {
    expect(conversionRequestsOf("Convert data.xlsx to data.csv. Then convert data.xlsx to data.csv again.", ["data.xlsx"])).toEqual([request("data.xlsx", "data.csv", "csv")]);
  });
});
