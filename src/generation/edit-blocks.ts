import { BriefwrightError } from "../domain/errors.ts";

/**
 * Search/replace edit blocks, the answer format for round N (see `edit-blocks` in
 * src/domain/output-format.ts):
 *
 *     FILE: index.html
 *     <<<<<<< SEARCH
 *     <p id="old">
 *     =======
 *     <p id="new">
 *     >>>>>>> REPLACE
 *
 * An empty SEARCH replaces (or creates) the whole file. Every line of SEARCH and REPLACE counts
 * as ending in a newline, so a whole-file block of "a\n" gives a file "a\n" — what the scripted
 * LLM renders and what a model means.
 */
export interface EditBlock {
  /** Repository-relative path from the `FILE:` line. */
  readonly path: string;
  /** Text to find, each line newline-terminated; "" means "the whole file". */
  readonly search: string;
  /** Text to put in its place, each line newline-terminated. */
  readonly replace: string;
  /** 1-based line of the answer where the block's SEARCH marker stands, for messages. */
  readonly line: number;
}

export type EditMode = "exact" | "whitespace" | "whole-file";

export interface AppliedEdit {
  readonly path: string;
  readonly mode: EditMode;
}

export interface EditFailure {
  /** 0-based index of the block in the list given to applyEditBlocks. */
  readonly blockIndex: number;
  readonly path: string;
  /** Sentence to send back to the model, e.g. `index.html: search text not found (first line: "…")`. */
  readonly reason: string;
}

/** The answer is not a well-formed list of edit blocks; the message says where and why. */
export class EditBlockParseError extends BriefwrightError {
  /** 1-based line of the answer where the problem was found, when there is one. */
  readonly line: number | undefined;
  constructor(message: string, options: { line?: number; cause?: unknown } = {}) {
    super("edit-blocks-unparseable", options.line === undefined ? message : `line ${options.line}: ${message}`, {
      cause: options.cause,
      // The model can be asked again with this message.
      isRetryable: true,
    });
    this.line = options.line;
  }
}

/** Some blocks did not apply; `failures` says which and why, `partial` what the others did. */
export class EditApplyError extends BriefwrightError {
  readonly failures: readonly EditFailure[];
  /** The files with every applicable block applied, for a caller that wants to keep them. */
  readonly partial: { readonly files: Map<string, string>; readonly applied: readonly AppliedEdit[] };
  constructor(failures: readonly EditFailure[], total: number, partial: EditApplyError["partial"], options: { cause?: unknown } = {}) {
    super(
      "edit-blocks-not-applied",
      `${failures.length} of ${total} edit block${total === 1 ? "" : "s"} did not apply:\n${failures.map((f) => `- block ${f.blockIndex + 1}: ${f.reason}`).join("\n")}`,
      { ...options, isRetryable: true },
    );
    this.failures = failures;
    this.partial = partial;
  }
}

// Models vary the marker length a little; the words are what matter.
const searchMarker = /^\s*<{5,9}\s*SEARCH\s*$/;
const dividerMarker = /^\s*={5,9}\s*$/;
const replaceMarker = /^\s*>{5,9}\s*REPLACE\s*$/;
// `FILE: index.html`, `**FILE:** \`index.html\``, `### FILE: index.html`.
const fileLine = /^\s*(?:#{1,6}\s*)?(?:\*\*|__)?FILE:(?:\*\*|__)?\s*(.*?)\s*$/i;

function cleanPath(raw: string): string {
  let path = raw.trim();
  // Strip wrappers in any order: **`index.html`**, "index.html", `index.html`:
  for (let i = 0; i < 3; i += 1) {
    path = path.replace(/^(?:\*\*|__)|(?:\*\*|__)$/g, "").trim();
    path = path.replace(/^[`"']+|[`"']+$/g, "").trim();
    path = path.replace(/:$/, "").trim();
  }
  return path.replace(/^\.\//, "");
}

function joinLines(lines: readonly string[]): string {
  return lines.map((line) => `${line}\n`).join("");
}

/**
 * Parses an answer into edit blocks. Prose and ``` fence lines between blocks are ignored, so a
 * model that wraps its blocks in fences is understood; inside a block every line is content.
 */
export function parseEditBlocks(text: string): EditBlock[] {
  const lines = text.split(/\r?\n/);
  const blocks: EditBlock[] = [];
  let path: string | undefined;
  let state: "outside" | "search" | "replace" = "outside";
  let search: string[] = [];
  let replace: string[] = [];
  let blockLine = 0;

  lines.forEach((line, index) => {
    const lineNumber = index + 1;
    if (state === "outside") {
      const file = fileLine.exec(line);
      if (file) {
        const cleaned = cleanPath(file[1]!);
        if (cleaned === "") throw new EditBlockParseError("FILE: line has no path", { line: lineNumber });
        path = cleaned;
        return;
      }
      if (searchMarker.test(line)) {
        if (path === undefined) throw new EditBlockParseError("<<<<<<< SEARCH before any FILE: <path> line", { line: lineNumber });
        state = "search";
        search = [];
        replace = [];
        blockLine = lineNumber;
        return;
      }
      if (dividerMarker.test(line) || replaceMarker.test(line)) {
        throw new EditBlockParseError(`"${line.trim()}" outside a block (expected <<<<<<< SEARCH first)`, { line: lineNumber });
      }
      return; // prose or a fence
    }
    if (state === "search") {
      if (dividerMarker.test(line)) {
        state = "replace";
        return;
      }
      if (replaceMarker.test(line)) throw new EditBlockParseError(`block for ${path} has no ======= between SEARCH and REPLACE`, { line: lineNumber });
      if (searchMarker.test(line)) throw new EditBlockParseError(`block for ${path} starting at line ${blockLine} is not closed before the next <<<<<<< SEARCH`, { line: lineNumber });
      search.push(line);
      return;
    }
    if (replaceMarker.test(line)) {
      const searchText = joinLines(search);
      blocks.push({ path: path!, search: searchText.trim() === "" ? "" : searchText, replace: joinLines(replace), line: blockLine });
      state = "outside";
      return;
    }
    if (searchMarker.test(line)) throw new EditBlockParseError(`block for ${path} starting at line ${blockLine} has no >>>>>>> REPLACE before the next <<<<<<< SEARCH`, { line: lineNumber });
    replace.push(line);
  });

  if (state !== "outside") {
    throw new EditBlockParseError(
      `block for ${path} starting at line ${blockLine} ends without ${state === "search" ? "=======" : ">>>>>>> REPLACE"}`,
      { line: lines.length },
    );
  }
  if (blocks.length === 0) throw new EditBlockParseError("no edit blocks found (expected FILE: <path> then <<<<<<< SEARCH / ======= / >>>>>>> REPLACE)");
  return blocks;
}

// ---------------------------------------------------------------------------------------------
// Applying

function countOccurrences(haystack: string, needle: string): number[] {
  const positions: number[] = [];
  let from = 0;
  for (;;) {
    const at = haystack.indexOf(needle, from);
    if (at === -1) return positions;
    positions.push(at);
    from = at + 1;
  }
}

function normalizeLine(line: string): string {
  return line.trim().replace(/\s+/g, " ");
}

function leadingWhitespace(line: string): string {
  return /^\s*/.exec(line)![0];
}

function firstLineOf(search: string): string {
  const line = search.split("\n").find((l) => l.trim() !== "") ?? "";
  const trimmed = line.trim();
  return trimmed.length > 80 ? `${trimmed.slice(0, 79)}…` : trimmed;
}

function splitLines(text: string): string[] {
  const lines = text.split("\n").map((line) => line.replace(/\r$/, ""));
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

type Outcome = { ok: true; content: string; mode: EditMode } | { ok: false; reason: string };

/**
 * Line-by-line match that ignores indentation, runs of spaces, trailing spaces and CRLF. The
 * replacement is re-indented by the difference between the model's indentation and the file's,
 * so a model that drops or doubles the indentation still leaves the file's style intact.
 */
function applyWhitespaceTolerant(content: string, block: EditBlock): Outcome {
  const eol = content.includes("\r\n") ? "\r\n" : "\n";
  const fileLines = content.split(/\r?\n/);
  const searchLines = splitLines(block.search);
  while (searchLines.length > 0 && searchLines[0]!.trim() === "") searchLines.shift();
  while (searchLines.length > 0 && searchLines.at(-1)!.trim() === "") searchLines.pop();
  const wanted = searchLines.map(normalizeLine);

  const matches: number[] = [];
  for (let start = 0; start + wanted.length <= fileLines.length; start += 1) {
    if (wanted.every((line, offset) => normalizeLine(fileLines[start + offset]!) === line)) matches.push(start);
  }
  const first = firstLineOf(block.search);
  if (matches.length === 0) return { ok: false, reason: `${block.path}: search text not found (first line: ${JSON.stringify(first)})` };
  if (matches.length > 1) {
    return { ok: false, reason: `${block.path}: search text matches ${matches.length} places, ignoring whitespace (first line: ${JSON.stringify(first)}); include more surrounding lines` };
  }

  const start = matches[0]!;
  const modelIndent = leadingWhitespace(searchLines[0]!);
  const fileIndent = leadingWhitespace(fileLines[start]!);
  const replacement = splitLines(block.replace).map((line) => {
    if (line.trim() === "") return "";
    if (line.startsWith(modelIndent)) return fileIndent + line.slice(modelIndent.length);
    return line;
  });
  const result = [...fileLines.slice(0, start), ...replacement, ...fileLines.slice(start + wanted.length)];
  return { ok: true, content: result.join(eol), mode: "whitespace" };
}

function applyOne(files: Map<string, string>, block: EditBlock): Outcome {
  if (block.search === "") {
    return { ok: true, content: block.replace, mode: "whole-file" };
  }
  const content = files.get(block.path);
  if (content === undefined) {
    return { ok: false, reason: `${block.path}: file does not exist (an empty SEARCH creates a file; first line: ${JSON.stringify(firstLineOf(block.search))})` };
  }
  const positions = countOccurrences(content, block.search);
  if (positions.length === 1) {
    const at = positions[0]!;
    const replace = content.includes("\r\n") && !block.replace.includes("\r\n") ? block.replace.replace(/\n/g, "\r\n") : block.replace;
    // Slicing, not String.replace: `$&` or `$1` in the model's text must stay literal.
    return { ok: true, content: content.slice(0, at) + replace + content.slice(at + block.search.length), mode: "exact" };
  }
  if (positions.length > 1) {
    return { ok: false, reason: `${block.path}: search text matches ${positions.length} places (first line: ${JSON.stringify(firstLineOf(block.search))}); include more surrounding lines` };
  }
  return applyWhitespaceTolerant(content, block);
}

/**
 * Applies blocks in order (a later block sees the earlier ones' result). Exact first, then
 * whitespace-tolerant; a block that does not apply, or applies in more than one place, is
 * reported with its reason and the rest still run, so one answer yields every reason at once.
 * The input map is not changed.
 */
export function applyEditBlocks(
  files: ReadonlyMap<string, string>,
  blocks: readonly EditBlock[],
): { files: Map<string, string>; applied: AppliedEdit[] } {
  const result = new Map(files);
  const applied: AppliedEdit[] = [];
  const failures: EditFailure[] = [];
  blocks.forEach((block, blockIndex) => {
    const outcome = applyOne(result, block);
    if (outcome.ok) {
      result.set(block.path, outcome.content);
      applied.push({ path: block.path, mode: outcome.mode });
    } else {
      failures.push({ blockIndex, path: block.path, reason: outcome.reason });
    }
  });
  if (failures.length > 0) throw new EditApplyError(failures, blocks.length, { files: result, applied });
  return { files: result, applied };
}
