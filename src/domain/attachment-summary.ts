/**
 * What the model is told about an attachment before it sees any byte of it: name, type, size and
 * a capped preview (CSV header and first rows, JSON shape, first lines of text), so a 5 MB CSV
 * costs a few hundred characters of prompt. Part of the build contract.
 */
import type { DecodedAttachment } from "./attachment.ts";

export interface AttachmentSummary {
  readonly name: string;
  readonly mimeType: string;
  readonly size: number;
  readonly kind: "csv" | "json" | "text" | "binary";
  /** Capped, human-readable preview (never more than PREVIEW_MAX_CHARS). */
  readonly preview: string;
}

export const PREVIEW_MAX_CHARS = 800;
const PREVIEW_LINE_MAX_CHARS = 200;

const textMimeTypes = /^(?:text\/|application\/(?:json|xml|javascript|x-yaml|yaml|geo\+json|ld\+json|csv|x-ndjson)|image\/svg\+xml)/;

function looksLikeText(content: Buffer): boolean {
  const head = content.subarray(0, 8192);
  if (head.includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(head.length < content.length ? trimPartialUtf8(head) : head);
    return true;
  } catch {
    return false;
  }
}

// A UTF-8 sequence cut by the 8 KiB window is not a sign of binary content.
function trimPartialUtf8(bytes: Buffer): Buffer {
  let end = bytes.length;
  for (let back = 1; back <= 3 && end - back >= 0; back += 1) {
    const byte = bytes[end - back]!;
    if ((byte & 0xc0) === 0xc0) return bytes.subarray(0, end - back);
    if ((byte & 0x80) === 0) break;
  }
  return bytes;
}

function shapeOf(value: unknown, depth: number): string {
  if (Array.isArray(value)) {
    const first = value[0];
    return value.length === 0 ? "array (empty)" : `array of ${value.length} × ${depth > 0 ? shapeOf(first, depth - 1) : typeof first}`;
  }
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    const shown = keys.slice(0, 20).map((key) => `${key}: ${typeOf((value as Record<string, unknown>)[key])}`);
    return `object {${shown.join(", ")}${keys.length > 20 ? `, … ${keys.length - 20} more` : ""}}`;
  }
  return typeOf(value);
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `array(${value.length})`;
  return typeof value;
}

function firstLines(text: string, count: number): string[] {
  return text.split(/\r?\n/).slice(0, count).map((line) => clip(line, PREVIEW_LINE_MAX_CHARS));
}

/** Name, type, size and a capped preview an LLM can plan against without seeing every byte. */
export function summarizeAttachment(attachment: DecodedAttachment): AttachmentSummary {
  const { name, mimeType, content } = attachment;
  const size = content.length;
  const extension = /\.([\w]+)$/.exec(name)?.[1]?.toLowerCase() ?? "";
  const isText = (textMimeTypes.test(mimeType) || ["csv", "tsv", "json", "md", "txt", "geojson"].includes(extension)) && looksLikeText(content);
  if (!isText && !looksLikeText(content)) {
    return { name, mimeType, size, kind: "binary", preview: `binary ${size} bytes` };
  }
  const text = content.toString("utf8").replace(/^\uFEFF/, "");
  if (extension === "csv" || extension === "tsv" || /\/(?:csv|tab-separated-values)$/.test(mimeType)) {
    const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
    const [header = "", ...rows] = lines;
    const preview = [`CSV, ${rows.length} data rows`, `header: ${clip(header, PREVIEW_LINE_MAX_CHARS)}`, ...rows.slice(0, 3).map((row) => clip(row, PREVIEW_LINE_MAX_CHARS))].join("\n");
    return { name, mimeType, size, kind: "csv", preview: clip(preview, PREVIEW_MAX_CHARS) };
  }
  if (extension === "json" || extension === "geojson" || /[/+]json$/.test(mimeType)) {
    try {
      return { name, mimeType, size, kind: "json", preview: clip(`JSON ${shapeOf(JSON.parse(text), 1)}`, PREVIEW_MAX_CHARS) };
    } catch {
      return { name, mimeType, size, kind: "text", preview: clip(["not valid JSON; first lines:", ...firstLines(text, 5)].join("\n"), PREVIEW_MAX_CHARS) };
    }
  }
  return { name, mimeType, size, kind: "text", preview: clip(firstLines(text, 5).join("\n"), PREVIEW_MAX_CHARS) };
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
