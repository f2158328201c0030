/**
 * Conversions the brief asks the product to make ("convert data.xlsx to data.csv", "convert the
 * attached workbook into CSV", "… as JSON"): read here from the brief's words, made by the build
 * stage from the attachment's bytes before any model is asked, so no model ever retypes a table.
 * Pure: no I/O.
 */

export interface ConversionRequest {
  /** The file to read: an attachment (or a file of the repository in a later round). */
  readonly from: string;
  /** The file to write, repository-relative. */
  readonly to: string;
  readonly format: "csv" | "json";
  /** A workbook's sheet the brief names; the first sheet when absent. */
  readonly sheet: string | undefined;
}

const spreadsheetExtensions = ["xlsx", "xlsm", "xls", "ods"];
const sourceExtensions = "xlsx|xlsm|xls|ods|csv|json";
const fileChars = "(?:[\\w-]+/)*[\\w][\\w.-]*";
const sourceFile = `(${fileChars}\\.(?:${sourceExtensions}))(?![\\w/-])`;
const targetFile = `(${fileChars}\\.(?:csv|json))(?![\\w/-])`;
// "the attached workbook", "the Excel file", "the xlsx attachment", "this spreadsheet": a
// determiner is required, so "lets users convert an Excel file" (an app feature) is not a request.
const spreadsheetPhrase =
  "(?:the|this|that|your|my|our)\\s+(?:(?:attached|provided|given|included|uploaded|supplied|accompanying)\\s+)?(?:(?:excel|xlsx|xls|ods|libreoffice|calc)\\s+)?(?:workbook|spreadsheet|excel\\s+file|xlsx\\s+file|xls\\s+file|ods\\s+file|(?:excel|xlsx|xls|ods|spreadsheet)\\s+attachment|sheet|file|attachment)";
const verbs = "convert(?:s|ed|ing)?|turn(?:s|ed|ing)?|transform(?:s|ed|ing)?|export(?:s|ed|ing)?|re-?save|save(?:s|d)?|change(?:s|d)?|rewrite|write|dump";
const format = "(?:an?\\s+)?(csv|json)(?:\\s+(?:file|format|table|document))?";
const boundary = "(?<![\\w/.-])";

// "<verb> <source> to|into|as <target or format>"
const sourceFirst = new RegExp(`\\b(?:${verbs})\\s+(?:(?:the\\s+)?(?:(?:"|'|\`|‘|“)?([^"'\`’”]+?)(?:"|'|\`|’|”)?\\s+(?:sheet|tab|worksheet)\\s+(?:of|in|from)\\s+))?(?:${boundary}${sourceFile}|(${spreadsheetPhrase}))(?:\\s*\\([^)]*\\))?\\s+(?:(?:in)?to|as|in)\\s+(?:${boundary}${targetFile}|${format}\\b)`, "i");
// "<target> converted|generated|exported|made|derived from <source>"
const targetFirst = new RegExp(`${boundary}${targetFile}[\\s,]+(?:(?:which|that)\\s+is\\s+|(?:must|should)\\s+be\\s+)?(?:converted|generated|exported|made|derived|created|produced)\\s+from\\s+(?:${boundary}${sourceFile}|(${spreadsheetPhrase}))`, "i");
// "<target> should be|is a CSV version|copy|export of <source>"
const versionOf = new RegExp(`${boundary}${targetFile}\\s+(?:should|must|will|shall)?\\s*(?:be|is|holds?|contains?)\\s+(?:an?|the)\\s+(?:csv|json)\\s+(?:version|copy|export|conversion|rendering)\\s+of\\s+(?:${boundary}${sourceFile}|(${spreadsheetPhrase}))`, "i");
const namedTarget = new RegExp(`\\b(?:as|named|called|to|into|in|at|under)\\s+${boundary}${targetFile}`, "gi");
const quotedSheet = /\b(?:sheet|tab|worksheet)\s+(?:named\s+|called\s+)?(?:"|'|`|‘|“)([^"'`’”]+)(?:"|'|`|’|”)|(?:"|'|`|‘|“)([^"'`’”]+)(?:"|'|`|’|”)\s+(?:sheet|tab|worksheet)\b|\bthe\s+([A-Z][\w-]*)\s+(?:sheet|tab|worksheet)\b/;

function sentencesOf(brief: string): string[] {
  // A full stop ends a sentence only before a space; "data.xlsx" keeps its dot.
  return brief.split(/\n+|(?<=[.!?;])\s+/).map((s) => s.trim()).filter(Boolean);
}

function extensionOf(path: string): string {
  return /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase() ?? "";
}

/** The one spreadsheet attachment a phrase like "the attached workbook" can mean, if exactly one. */
function onlySpreadsheet(attachments: readonly string[], phrase: string): string | undefined {
  const wantsSpreadsheet = !/^\S+\s+(?:(?:attached|provided|given|included|uploaded|supplied|accompanying)\s+)?(?:file|attachment)$/i.test(phrase.trim());
  const candidates = attachments.filter((name) => (wantsSpreadsheet ? spreadsheetExtensions : [...spreadsheetExtensions, "csv", "json"]).includes(extensionOf(name)));
  return candidates.length === 1 ? candidates[0] : undefined;
}

function replaceExtension(path: string, extension: string): string {
  return /\.[A-Za-z0-9]+$/.test(path) ? path.replace(/\.[A-Za-z0-9]+$/, `.${extension}`) : `${path}.${extension}`;
}

/**
 * Reads the conversions a brief asks for. `attachments` are the names the request carries; a
 * phrase such as "the attached workbook" resolves to the only spreadsheet among them (and is
 * skipped when there are none or several). When the brief names only a format ("into CSV"), the
 * output takes the source's name with the new extension, unless the same sentence names a file of
 * that format ("… into CSV and commit it as sales.csv").
 */
export function conversionRequestsOf(brief: string, attachments: readonly string[]): ConversionRequest[] {
  const found = new Map<string, ConversionRequest>();
  for (const sentence of sentencesOf(brief)) {
    const match = readSentence(sentence, attachments);
    if (match && !found.has(match.to.toLowerCase())) found.set(match.to.toLowerCase(), match);
  }
  return [...found.values()];
}

function readSentence(sentence: string, attachments: readonly string[]): ConversionRequest | undefined {
  let from: string | undefined;
  let to: string | undefined;
  let targetFormat: "csv" | "json" | undefined;
  let sheet: string | undefined;
  const first = sourceFirst.exec(sentence);
  if (first) {
    sheet = first[1]?.trim();
    from = first[2] ?? (first[3] ? onlySpreadsheet(attachments, first[3]) : undefined);
    to = first[4];
    targetFormat = (first[5]?.toLowerCase() as "csv" | "json" | undefined) ?? (to ? (extensionOf(to) as "csv" | "json") : undefined);
  } else {
    const other = targetFirst.exec(sentence) ?? versionOf.exec(sentence);
    if (!other) return undefined;
    to = other[1];
    from = other[2] ?? (other[3] ? onlySpreadsheet(attachments, other[3]) : undefined);
    targetFormat = extensionOf(to!) as "csv" | "json";
  }
  if (!from || !targetFormat) return undefined;
  if (!to) {
    // "into CSV … as sales.csv": a file of that format named later in the sentence is the output.
    const named = [...sentence.matchAll(namedTarget)].map((m) => m[1]!).find((path) => extensionOf(path) === targetFormat && path.toLowerCase() !== from!.toLowerCase());
    to = named ?? replaceExtension(from, targetFormat);
  }
  if (extensionOf(from) === targetFormat || to.toLowerCase() === from.toLowerCase()) return undefined;
  if (sheet === undefined) {
    const quoted = quotedSheet.exec(sentence);
    sheet = quoted ? (quoted[1] ?? quoted[2] ?? quoted[3])?.trim() : undefined;
  }
  return { from, to, format: targetFormat, sheet: sheet || undefined };
}
