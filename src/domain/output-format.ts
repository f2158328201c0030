/**
 * How a file-producing prompt tells the model (and the scripted LLM) the shape of its answer.
 * The prompt's system message carries one line `OUTPUT FORMAT: <name>`; the scripted LLM reads
 * that line to render its fixture files, so prompts and the fake must share these names.
 */

/** Prefix of the line that declares the answer's format. */
export const OUTPUT_FORMAT_LINE = "OUTPUT FORMAT:";

/**
 * - `files-json`: a JSON object `{"files": {"<path>": "<complete content>"}}`.
 * - `file-blocks`: for each file a line `FILE: <path>` and then one fenced block with its content.
 * - `edit-blocks`: for each file a line `FILE: <path>` and then
 *   `<<<<<<< SEARCH` / `=======` / `>>>>>>> REPLACE`; an empty SEARCH replaces the whole file.
 */
export const OUTPUT_FORMATS = ["files-json", "file-blocks", "edit-blocks"] as const;

export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function isOutputFormat(value: string): value is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(value);
}

/** The line a prompt puts into its system message, e.g. `OUTPUT FORMAT: files-json`. */
export function outputFormatLine(format: OutputFormat): string {
  return `${OUTPUT_FORMAT_LINE} ${format}`;
}

/**
 * The format a system text declares: `undefined` when it declares none, the raw name (as a
 * string that is not an OutputFormat) when it declares an unknown one, so callers can say so.
 * Only a whole line counts, so prose that merely mentions the phrase declares nothing.
 */
export function declaredOutputFormat(systemText: string): OutputFormat | { unknown: string } | undefined {
  for (const line of systemText.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (!trimmed.startsWith(OUTPUT_FORMAT_LINE)) continue;
    const name = trimmed.slice(OUTPUT_FORMAT_LINE.length).trim();
    return isOutputFormat(name) ? name : { unknown: name };
  }
  return undefined;
}

/** Marker line that starts each file in `file-blocks` and `edit-blocks`. */
export const FILE_MARKER = "FILE:";
export const EDIT_SEARCH_MARKER = "<<<<<<< SEARCH";
export const EDIT_DIVIDER_MARKER = "=======";
export const EDIT_REPLACE_MARKER = ">>>>>>> REPLACE";
