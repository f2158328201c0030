import { createHash } from "node:crypto";
import type { FileTree } from "../domain/files.ts";

/**
 * Deterministic checks over a repository's files, from the build contract (PROTOCOL §2): they
 * need no browser and no model, so they run on every candidate and never flake.
 */
export interface RepositoryCheckResult {
  /** Stable id, e.g. `repo:mit-license`, `repo:valid-json:data.json`. */
  readonly id: string;
  readonly passed: boolean;
  /** What was found, in words a repair prompt can use. */
  readonly detail: string;
}

/** The README sections the course asks for, with the headings that count for each. */
export const readmeSections: Readonly<Record<string, readonly string[]>> = {
  summary: ["summary", "overview", "about", "introduction", "description", "what it does"],
  setup: ["setup", "set up", "set-up", "installation", "install", "getting started", "prerequisites", "requirements", "deploy"],
  usage: ["usage", "how to use", "using", "use", "run", "running", "quick start", "quickstart", "demo"],
  "code explanation": ["code explanation", "explanation", "how it works", "code overview", "code structure", "code walkthrough", "architecture", "implementation", "project structure", "file structure", "structure", "files", "technical details"],
  license: ["license", "licence", "licensing"],
};

const licenseNames = ["LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "LICENCE.md", "LICENCE.txt"];

function text(content: Buffer): string {
  // A byte-order mark is invisible to people and to GitHub; it must not fail a check.
  return content.toString("utf8").replace(/^\uFEFF/, "");
}

function flatten(value: string): string {
  return value.replace(/\s+/g, " ").trim().toLowerCase();
}

function findCaseInsensitive(files: FileTree, names: readonly string[]): string | undefined {
  for (const name of names) if (files.has(name)) return name;
  const wanted = new Set(names.map((name) => name.toLowerCase()));
  return [...files.keys()].find((path) => !path.includes("/") && wanted.has(path.toLowerCase()));
}

/** An MIT licence at the repository root: the title, the permission grant, no template placeholders. */
export function checkMitLicense(files: FileTree): RepositoryCheckResult {
  const id = "repo:mit-license";
  const name = findCaseInsensitive(files, licenseNames);
  if (!name) return { id, passed: false, detail: "no LICENSE file at the repository root" };
  const body = flatten(text(files.get(name)!));
  const problems: string[] = [];
  if (!body.includes("mit license")) problems.push('it does not say "MIT License"');
  if (!body.includes("permission is hereby granted, free of charge, to any person obtaining a copy")) problems.push("the MIT permission grant is missing or altered");
  if (!body.includes('the software is provided "as is"')) problems.push('the "AS IS" warranty disclaimer is missing');
  const placeholder = /\[(year|yyyy|fullname|full name|name|copyright holders?)\]|<(year|name|copyright holders?)>/i.exec(text(files.get(name)!));
  if (placeholder) problems.push(`it still has the template placeholder ${placeholder[0]}`);
  if (problems.length > 0) return { id, passed: false, detail: `${name} is not a complete MIT licence: ${problems.join("; ")}` };
  return { id, passed: true, detail: `${name} holds the MIT licence` };
}

/** Markdown headings (ATX `#` and setext underlines), skipping fenced code blocks. */
export function markdownHeadings(markdown: string): string[] {
  const headings: string[] = [];
  const lines = markdown.split(/\r?\n/);
  let fence: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fenceMatch = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fenceMatch) {
      const marker = fenceMatch[1]!;
      if (fence === undefined) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const atx = /^ {0,3}#{1,6}(?:\s+(.*?))?\s*#*\s*$/.exec(line);
    if (atx) {
      if (atx[1]) headings.push(atx[1].trim());
      continue;
    }
    const next = lines[i + 1];
    if (next !== undefined && line.trim() !== "" && /^ {0,3}(=+|-+)\s*$/.test(next) && !/^ {0,3}([-*+]|\d+[.)])\s/.test(line)) {
      headings.push(line.trim());
      i++;
    }
  }
  return headings;
}

function headingWords(heading: string): string {
  // Emoji, numbering and punctuation around a heading ("## 2. ⚙️ Setup & Installation") do not matter.
  return ` ${heading.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, " ").trim()} `;
}

/** README.md has a heading for each required section (summary, setup, usage, code explanation, license). */
export function checkReadmeSections(files: FileTree, required: readonly string[] = Object.keys(readmeSections)): RepositoryCheckResult {
  const id = "repo:readme-sections";
  const name = findCaseInsensitive(files, ["README.md"]);
  if (!name) return { id, passed: false, detail: "no README.md at the repository root" };
  const headings = markdownHeadings(text(files.get(name)!)).map(headingWords);
  const missing = required.filter((section) => {
    const synonyms = readmeSections[section] ?? [section];
    return !headings.some((heading) => synonyms.some((synonym) => heading.includes(` ${synonym.replace(/-/g, " ")} `)));
  });
  if (missing.length > 0) return { id, passed: false, detail: `${name} lacks a heading for: ${missing.join(", ")}` };
  return { id, passed: true, detail: `${name} has every required section (${required.join(", ")})` };
}

/** A file exists at `path`. */
export function checkFileExists(files: FileTree, path: string): RepositoryCheckResult {
  const id = `repo:file-exists:${path}`;
  if (files.has(path)) return { id, passed: true, detail: `${path} exists (${files.get(path)!.length} bytes)` };
  const differentCase = [...files.keys()].find((candidate) => candidate.toLowerCase() === path.toLowerCase());
  // Pages is case-sensitive: `Data.csv` does not answer a fetch of `data.csv`.
  return { id, passed: false, detail: differentCase ? `${path} is missing (there is ${differentCase}, but Pages paths are case-sensitive)` : `${path} is missing` };
}

function sha256(content: Buffer): string {
  return createHash("sha256").update(content).digest("hex").slice(0, 12);
}

/** The file at `path` is byte for byte the attachment. */
export function checkAttachmentIdentical(files: FileTree, path: string, attachment: Buffer): RepositoryCheckResult {
  const id = `repo:attachment-identical:${path}`;
  const content = files.get(path);
  if (!content) return { id, passed: false, detail: `${path} is missing; it must be the attachment unchanged` };
  if (content.equals(attachment)) return { id, passed: true, detail: `${path} is identical to the attachment (${attachment.length} bytes)` };
  return {
    id,
    passed: false,
    detail: `${path} differs from the attachment: ${content.length} bytes (sha256 ${sha256(content)}…) instead of ${attachment.length} bytes (sha256 ${sha256(attachment)}…)`,
  };
}

/** The file at `path` parses as JSON. */
export function checkValidJson(files: FileTree, path: string): RepositoryCheckResult {
  const id = `repo:valid-json:${path}`;
  const content = files.get(path);
  if (!content) return { id, passed: false, detail: `${path} is missing` };
  try {
    JSON.parse(text(content));
    return { id, passed: true, detail: `${path} is valid JSON` };
  } catch (error) {
    return { id, passed: false, detail: `${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The file at `path` is well-formed XML whose root is an `<svg>` in the SVG namespace. */
export function checkValidSvg(files: FileTree, path: string): RepositoryCheckResult {
  const id = `repo:valid-svg:${path}`;
  const content = files.get(path);
  if (!content) return { id, passed: false, detail: `${path} is missing` };
  const parsed = parseXmlRoot(text(content));
  if ("error" in parsed) return { id, passed: false, detail: `${path} is not well-formed XML: ${parsed.error}` };
  const localName = parsed.root.name.includes(":") ? parsed.root.name.split(":")[1] : parsed.root.name;
  if (localName !== "svg") return { id, passed: false, detail: `${path}'s root element is <${parsed.root.name}>, not <svg>` };
  const prefix = parsed.root.name.includes(":") ? parsed.root.name.split(":")[0] : undefined;
  const namespace = parsed.root.attributes.get(prefix ? `xmlns:${prefix}` : "xmlns");
  // Without the namespace a browser shows a standalone .svg (and an <img src>) as plain XML, not a picture.
  if (namespace !== "http://www.w3.org/2000/svg") {
    return { id, passed: false, detail: `${path}'s <svg> lacks xmlns="http://www.w3.org/2000/svg", so browsers will not draw it as an image` };
  }
  return { id, passed: true, detail: `${path} is a well-formed SVG document` };
}

interface XmlElement {
  readonly name: string;
  readonly attributes: Map<string, string>;
}

const namePattern = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;
const predefinedEntities = new Set(["amp", "lt", "gt", "quot", "apos"]);

/**
 * A small well-formedness check (XML 1.0: one root, balanced and matching tags, quoted unique
 * attributes, no raw `<` in values, known or character entities). No dependency needed for
 * the one question asked: would a browser's XML parser accept this?
 */
export function parseXmlRoot(source: string): { root: XmlElement } | { error: string } {
  let position = 0;
  const stack: string[] = [];
  let root: XmlElement | undefined;
  let declaredEntities = false;
  const where = () => {
    const before = source.slice(0, position);
    const line = before.split("\n").length;
    return `line ${line}, column ${position - before.lastIndexOf("\n")}`;
  };
  const checkReferences = (value: string): string | undefined => {
    const ampersands = value.matchAll(/&/g);
    for (const match of ampersands) {
      const reference = /^&(#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z_][-A-Za-z0-9_.]*);/.exec(value.slice(match.index));
      if (!reference) return "a bare & (write &amp;)";
      const name = reference[1]!;
      if (!name.startsWith("#") && !predefinedEntities.has(name) && !declaredEntities) return `the undefined entity &${name}; (XML knows only &amp; &lt; &gt; &quot; &apos; and numeric references)`;
    }
    return undefined;
  };

  while (position < source.length) {
    const next = source.indexOf("<", position);
    const textRun = source.slice(position, next === -1 ? source.length : next);
    if (textRun.trim() !== "") {
      if (stack.length === 0) return { error: `text outside the root element at ${where()}` };
      const problem = checkReferences(textRun);
      if (problem) return { error: `${problem} at ${where()}` };
    }
    if (next === -1) break;
    position = next;
    if (source.startsWith("<!--", position)) {
      const end = source.indexOf("-->", position + 4);
      if (end === -1) return { error: `unclosed comment at ${where()}` };
      position = end + 3;
    } else if (source.startsWith("<![CDATA[", position)) {
      if (stack.length === 0) return { error: `CDATA outside the root element at ${where()}` };
      const end = source.indexOf("]]>", position);
      if (end === -1) return { error: `unclosed CDATA section at ${where()}` };
      position = end + 3;
    } else if (source.startsWith("<?", position)) {
      const end = source.indexOf("?>", position + 2);
      if (end === -1) return { error: `unclosed processing instruction at ${where()}` };
      if (/^<\?xml\s/i.test(source.slice(position, position + 6)) && position !== 0) return { error: `the XML declaration must come first, at ${where()}` };
      position = end + 2;
    } else if (source.startsWith("<!DOCTYPE", position)) {
      if (root) return { error: `DOCTYPE after the root element at ${where()}` };
      let depth = 0;
      let end = position;
      for (; end < source.length; end++) {
        const character = source[end];
        if (character === "[") depth++;
        else if (character === "]") depth--;
        else if (character === ">" && depth === 0) break;
      }
      if (end >= source.length) return { error: `unclosed DOCTYPE at ${where()}` };
      if (source.slice(position, end).includes("<!ENTITY")) declaredEntities = true;
      position = end + 1;
    } else if (source.startsWith("</", position)) {
      const match = /^<\/([^\s>]+)\s*>/.exec(source.slice(position));
      if (!match) return { error: `malformed end tag at ${where()}` };
      const open = stack.pop();
      if (open !== match[1]) return { error: open ? `</${match[1]}> closes <${open}> at ${where()}` : `</${match[1]}> without an open element at ${where()}` };
      position += match[0].length;
    } else {
      position++;
      const nameMatch = namePattern.exec(source.slice(position));
      if (!nameMatch) return { error: `a "<" that starts no tag at ${where()} (write &lt;)` };
      const name = nameMatch[0];
      position += name.length;
      const attributes = new Map<string, string>();
      for (;;) {
        const spaceMatch = /^\s*/.exec(source.slice(position))!;
        position += spaceMatch[0].length;
        if (source.startsWith("/>", position) || source.startsWith(">", position)) break;
        if (spaceMatch[0] === "") return { error: `expected whitespace, ">" or "/>" in <${name}> at ${where()}` };
        const attribute = /^([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("([^"]*)"|'([^']*)')/.exec(source.slice(position));
        if (!attribute) return { error: `malformed attribute in <${name}> at ${where()} (attributes need name="value")` };
        const attributeName = attribute[1]!;
        const value = attribute[3] ?? attribute[4] ?? "";
        if (attributes.has(attributeName)) return { error: `duplicate attribute ${attributeName} in <${name}> at ${where()}` };
        if (value.includes("<")) return { error: `a raw "<" in attribute ${attributeName} at ${where()}` };
        const problem = checkReferences(value);
        if (problem) return { error: `${problem} in attribute ${attributeName} at ${where()}` };
        attributes.set(attributeName, value);
        position += attribute[0].length;
      }
      const selfClosing = source.startsWith("/>", position);
      position += selfClosing ? 2 : 1;
      if (stack.length === 0) {
        if (root) return { error: `a second root element <${name}> at ${where()}` };
        root = { name, attributes };
      }
      if (!selfClosing) stack.push(name);
    }
  }
  if (stack.length > 0) return { error: `<${stack.at(-1)}> is never closed` };
  if (!root) return { error: "no root element" };
  return { root };
}
