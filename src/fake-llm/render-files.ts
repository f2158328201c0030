import {
  EDIT_DIVIDER_MARKER,
  EDIT_REPLACE_MARKER,
  EDIT_SEARCH_MARKER,
  FILE_MARKER,
  type OutputFormat,
} from "../domain/output-format.ts";

/**
 * Renders a fixture's files the way a well-behaved model answers a prompt that declared
 * `format`. Content inside blocks ends with exactly one newline before the closing marker: a
 * file that lacks a final newline gains one, as it would from a real model.
 */
export function renderFiles(files: Readonly<Record<string, string>>, format: OutputFormat): string {
  const entries = Object.entries(files);
  switch (format) {
    case "files-json":
      return JSON.stringify({ files }, null, 2);
    case "file-blocks":
      return entries.map(([path, content]) => renderFileBlock(path, content)).join("\n");
    case "edit-blocks":
      return entries.map(([path, content]) => renderEditBlock(path, content)).join("\n");
  }
}

function renderFileBlock(path: string, content: string): string {
  // A fence longer than any backtick run inside keeps Markdown inside the file from closing it.
  const longestRun = Math.max(0, ...[...content.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longestRun + 1));
  return `${FILE_MARKER} ${path}\n${fence}${fenceLanguage(path)}\n${withFinalNewline(content)}${fence}\n`;
}

function renderEditBlock(path: string, content: string): string {
  return [
    `${FILE_MARKER} ${path}`,
    EDIT_SEARCH_MARKER,
    EDIT_DIVIDER_MARKER,
    `${withFinalNewline(content)}${EDIT_REPLACE_MARKER}`,
    "",
  ].join("\n");
}

function withFinalNewline(content: string): string {
  return content.endsWith("\n") ? content : `${content}\n`;
}

const LANGUAGES: Readonly<Record<string, string>> = {
  html: "html",
  htm: "html",
  js: "javascript",
  mjs: "javascript",
  css: "css",
  json: "json",
  md: "markdown",
  svg: "xml",
  txt: "text",
  csv: "csv",
};

function fenceLanguage(path: string): string {
  const extension = path.includes(".") ? path.slice(path.lastIndexOf(".") + 1).toLowerCase() : "";
  return LANGUAGES[extension] ?? "";
}
