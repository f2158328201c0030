import { parse as parseCsv } from "csv-parse/sync";
import { parse as parseHtml, type DefaultTreeAdapterTypes } from "parse5";
import type { ContentRule, ParseFormat } from "../domain/content-rules.ts";
import { describeBounds } from "../domain/content-rules.ts";
import type { FileTree } from "../domain/files.ts";
import { jsonShapeProblems, type JsonShape } from "../domain/json-shape.ts";
import { countWords, wordCountFormatOf } from "../domain/word-count.ts";
import {
  checkAttachmentIdentical,
  checkFileExists,
  checkMitLicense,
  checkReadmeSections,
  checkValidJson,
  checkValidSvg,
  parseXmlRoot,
  type RepositoryCheckResult,
} from "./repository-checks.ts";

/**
 * The one rule engine: every content rule of the build contract, whether it came from the brief
 * or from a check, is decided here — on the files (a repository check) or, for the rules only a
 * browser can see, as an expression the check runner evaluates in the served page (a page check).
 * Failure details are written for the repair prompt: what was found, what is needed.
 * To add a kind: a case in `ContentRule`, one here, one in `describeContentRule`.
 */
export type RuleCheck =
  | { readonly on: "files"; readonly result: RepositoryCheckResult }
  | { readonly on: "page"; readonly expression: string };

export function ruleCheck(rule: ContentRule, files: FileTree, attachments: ReadonlyMap<string, Buffer>): RuleCheck {
  switch (rule.kind) {
    case "title":
    case "element-id":
    case "plain-numbers":
      return { on: "page", expression: pageExpression(rule) };
    default:
      return { on: "files", result: checkFileRule(rule, files, attachments) };
  }
}

function checkFileRule(rule: Exclude<ContentRule, { kind: "title" | "element-id" | "plain-numbers" }>, files: FileTree, attachments: ReadonlyMap<string, Buffer>): RepositoryCheckResult {
  switch (rule.kind) {
    case "mit-license":
      return checkMitLicense(files);
    case "readme-quality":
      return checkReadmeSections(files);
    case "no-secrets":
      // The safety gate scanned every file before the candidate got here.
      return { id: "no-secrets", passed: true, detail: "scanned by the safety gate" };
    case "file-exists":
      return checkFileExists(files, rule.path);
    case "file-absent":
      return checkFileAbsent(files, rule.path);
    case "file-matches-attachment": {
      const attachment = attachments.get(rule.path);
      return attachment ? checkAttachmentIdentical(files, rule.path, attachment) : checkFileExists(files, rule.path);
    }
    case "parses":
      return checkParses(files, rule.path, rule.format);
    case "word-count":
      return checkWordCount(files, rule.path, rule.min, rule.max);
    case "json-shape":
      return checkJsonShape(files, rule.path, rule.shape);
    case "links-every-file":
      return checkLinksEveryFile(files, rule.page);
  }
}

function text(content: Buffer): string {
  return content.toString("utf8").replace(/^\uFEFF/, "");
}

/** No file at `path`: the brief said it must not be committed. */
export function checkFileAbsent(files: FileTree, path: string): RepositoryCheckResult {
  const id = `repo:file-absent:${path}`;
  if (!files.has(path)) return { id, passed: true, detail: `${path} is not committed` };
  return { id, passed: false, detail: `${path} is in the candidate but must not be committed; leave it out` };
}

/** The file's words are within bounds, counted both ways (see src/domain/word-count.ts). */
export function checkWordCount(files: FileTree, path: string, min: number | undefined, max: number | undefined): RepositoryCheckResult {
  const id = `repo:word-count:${path}`;
  const content = files.get(path);
  if (!content) return { id, passed: false, detail: `${path} is missing; it must have ${describeBounds(min, max)}` };
  const { words, tokens } = countWords(text(content), wordCountFormatOf(path));
  const inRange = (n: number) => (min === undefined || n >= min) && (max === undefined || n <= max);
  const need = describeBounds(min, max);
  if (inRange(words) && inRange(tokens)) return { id, passed: true, detail: `${path} has ${words} words (${tokens} whitespace-separated tokens); needs ${need}` };
  const off = inRange(words) ? tokens : words;
  const direction = max !== undefined && off > max ? `remove at least ${off - max}` : `add at least ${(min ?? 0) - off}`;
  const how = inRange(words)
    ? `${words} words but ${tokens} whitespace-separated tokens (markdown marks or stray symbols count for graders that split on spaces)`
    : `${words} words${tokens !== words ? ` (${tokens} whitespace-separated tokens)` : ""}`;
  return { id, passed: false, detail: `${path} has ${how}; it must have ${need}: ${direction} word${Math.abs(off - (max ?? min ?? 0)) === 1 ? "" : "s"}` };
}

/** The file is JSON with the keys, types and fixed values of the shape. */
export function checkJsonShape(files: FileTree, path: string, shape: JsonShape): RepositoryCheckResult {
  const id = `repo:json-shape:${path}`;
  const content = files.get(path);
  if (!content) return { id, passed: false, detail: `${path} is missing` };
  let value: unknown;
  try {
    value = JSON.parse(text(content));
  } catch (error) {
    return { id, passed: false, detail: `${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const problems = jsonShapeProblems(value, shape);
  if (problems.length === 0) return { id, passed: true, detail: `${path} has the required keys, types and values` };
  return { id, passed: false, detail: `${path} does not have the required shape: ${problems.slice(0, 8).join("; ")}${problems.length > 8 ? `; and ${problems.length - 8} more` : ""}` };
}

/** The file parses as `format`. */
export function checkParses(files: FileTree, path: string, format: ParseFormat): RepositoryCheckResult {
  switch (format) {
    case "json":
      return checkValidJson(files, path);
    case "svg":
      return checkValidSvg(files, path);
    case "xml": {
      const id = `repo:valid-xml:${path}`;
      const content = files.get(path);
      if (!content) return { id, passed: false, detail: `${path} is missing` };
      const parsed = parseXmlRoot(text(content));
      return "error" in parsed ? { id, passed: false, detail: `${path} is not well-formed XML: ${parsed.error}` } : { id, passed: true, detail: `${path} is well-formed XML (root <${parsed.root.name}>)` };
    }
    case "csv":
      return checkValidCsv(files, path);
  }
}

/** RFC 4180 CSV: quotes balanced, every record as wide as the first (the header). */
export function checkValidCsv(files: FileTree, path: string): RepositoryCheckResult {
  const id = `repo:valid-csv:${path}`;
  const content = files.get(path);
  if (!content) return { id, passed: false, detail: `${path} is missing` };
  try {
    const rows = parseCsv(text(content), { relax_column_count: false, skip_empty_lines: true, bom: true });
    if (rows.length === 0) return { id, passed: false, detail: `${path} has no rows` };
    return { id, passed: true, detail: `${path} is valid CSV: ${rows.length} rows of ${rows[0]!.length} columns` };
  } catch (error) {
    return { id, passed: false, detail: `${path} is not valid CSV: ${error instanceof Error ? error.message : String(error)}` };
  }
}

type Element = DefaultTreeAdapterTypes.Element;
type Node = DefaultTreeAdapterTypes.Node;

function* elementsOf(node: Node): Generator<Element> {
  if ("tagName" in node) yield node;
  if ("childNodes" in node) for (const child of node.childNodes) yield* elementsOf(child);
}

// Files a site does not link to: the product adds LICENSE and README.md, dot-paths are not published.
function needsLink(path: string, page: string): boolean {
  return path !== page && path !== "LICENSE" && path !== "README.md" && path !== "404.html" && !path.split("/").some((segment) => segment.startsWith("."));
}

/**
 * `page` links to every other file: an `<a href>` (or, for scripts and styles, the `<script src>`
 * or `<link href>` that loads them) in the HTML itself, resolved relative to the page.
 */
export function checkLinksEveryFile(files: FileTree, page: string): RepositoryCheckResult {
  const id = `repo:links-every-file:${page}`;
  const content = files.get(page);
  if (!content) return { id, passed: false, detail: `${page} is missing; it must link to every other file` };
  const base = new URL(page, "https://site.invalid/");
  const linked = new Set<string>();
  for (const element of elementsOf(parseHtml(text(content)))) {
    const attribute = element.tagName === "a" || element.tagName === "link" ? "href" : element.tagName === "script" || element.tagName === "img" || element.tagName === "iframe" ? "src" : undefined;
    const value = attribute && element.attrs.find((a) => a.name === attribute)?.value;
    if (!value) continue;
    try {
      const url = new URL(value.trim(), base);
      if (url.origin !== base.origin) continue;
      const target = decodeURIComponent(url.pathname.slice(1));
      // A script or style counts only for the file it loads; an <a> counts for anything.
      if (element.tagName === "a" || /\.(?:m?js|css)$/i.test(target) || element.tagName === "img" || element.tagName === "iframe") linked.add(target);
    } catch {
      // Not a URL: it links nowhere.
    }
  }
  const expected = [...files.keys()].filter((path) => needsLink(path, page)).sort();
  const missing = expected.filter((path) => !linked.has(path));
  if (missing.length === 0) return { id, passed: true, detail: `${page} links to all ${expected.length} other files` };
  return { id, passed: false, detail: `${page} has no <a href> link to: ${missing.join(", ")} (links must be relative paths in the HTML itself, e.g. <a href="${missing[0]}">${missing[0]}</a>)` };
}

/** A JS expression that is true on a page that keeps the rule, and throws the reason otherwise. */
export function pageExpression(rule: Extract<ContentRule, { kind: "title" | "element-id" | "plain-numbers" }>): string {
  switch (rule.kind) {
    case "title":
      return `(() => { const want = ${JSON.stringify(rule.text)}; if (document.title === want) return true; throw new Error("document.title is " + JSON.stringify(document.title) + ", it must be exactly " + JSON.stringify(want)); })()`;
    case "element-id":
      return `(() => { if (document.getElementById(${JSON.stringify(rule.id)})) return true; throw new Error(${JSON.stringify(`no element with id="${rule.id}" in the page`)}); })()`;
    case "plain-numbers":
      return String.raw`(() => { const shown = (document.body ? document.body.innerText : "").match(/\d{1,3}(?:[,\u00a0\u202f]\d{3})+(?!\d)/g); if (!shown) return true; throw new Error("the page shows numbers with thousands separators (" + shown.slice(0, 3).join(", ") + "); show them plainly, exactly as in the data, e.g. " + shown[0].replace(/[^\d]/g, "")); })()`;
  }
}
