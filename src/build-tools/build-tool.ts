import type { ModelTool } from "../ports/language-model.ts";
import type { BuildFiles } from "./build-files.ts";

/** Build-time tools by the name the model calls them (the prompts name them too). */
export type BuildToolName = "fetch_url" | "convert_file" | "run_js";

/** One run of a build-time tool, for the round's record. */
export interface BuildToolRun {
  readonly tool: BuildToolName;
  /** `saved`: a file was written; `answered`: the model only read a result; `refused`: it got a reason instead. */
  readonly outcome: "saved" | "answered" | "refused";
  /** The file written, null when none. */
  readonly path: string | null;
  /** What the tool read: a URL, or file paths. */
  readonly from: string;
  readonly bytes: number;
  /** The refusal's reason, or a short note (rows converted, result kind). */
  readonly detail: string | null;
}

/** What a build-time tool is given for its round: the files it reads and writes, and the record. */
export interface BuildToolContext {
  readonly files: BuildFiles;
  readonly record: (run: BuildToolRun) => void;
}

/**
 * The one interface of build-time tools: given a round's context, a tool the model can call.
 * Each tool saves through `context.files` (so its files join the build like any fetched file)
 * and answers refusals as `{ok: false, error}` results the model reads, never as exceptions.
 */
export type BuildToolFactory = (context: BuildToolContext) => ModelTool;

/** Text shown to the model from a tool's result (4 KiB), cut cleanly at a character boundary. */
export function textPreview(body: Buffer, maxBytes = 4096): { readonly preview: string; readonly truncated: boolean } {
  const text = body.subarray(0, maxBytes).toString("utf8");
  // A cut through a multi-byte character leaves a replacement character at the end.
  return body.length > maxBytes ? { preview: text.replace(/\uFFFD+$/, ""), truncated: true } : { preview: text, truncated: false };
}
