import { readFile, readdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { z } from "zod";
import { ValidationError } from "../domain/errors.ts";

/**
 * One scripted answer. `files` is the usual case; the other fields script failures and timing.
 * `text` (an extension beyond PROTOCOL §6) answers with that literal text instead of rendered
 * files, so tests can feed the product an unparseable answer; `tool_calls` (another) answers
 * with calls to tools the request offers, and the request that brings their results back gets
 * the fixture's next response.
 */
export interface FixtureResponse {
  /** Complete content of each file, rendered in the format the request asks for. */
  readonly files?: Readonly<Record<string, string>>;
  /** Literal answer text, served as is (no rendering). */
  readonly text?: string;
  /** Calls to tools the request offers, in the protocol's own shape (OpenAI `tool_calls`, Gemini `functionCall`). */
  readonly tool_calls?: readonly ScriptedToolCall[];
  /** HTTP status; anything but 200 answers with that error in the provider's error shape. */
  readonly status?: number;
  /** Message of the error body when `status` is an error. */
  readonly message?: string;
  /** Seconds for a `Retry-After` header on an error answer. */
  readonly retry_after?: number;
  /** Wait this long before answering (for streams: before the first byte). */
  readonly delay_ms?: number;
  /** Never answer; the request stays open until the client gives up. */
  readonly hang?: boolean;
}

export interface ScriptedToolCall {
  /** A tool the request offers, e.g. `fetch_url`. */
  readonly name: string;
  /** The call's arguments object. */
  readonly arguments: Readonly<Record<string, unknown>>;
}

export interface Fixture {
  /** Every string must occur in the request's messages; empty matches every request. */
  readonly match: readonly string[];
  /** Served in turn, one per request; the last repeats. */
  readonly responses: readonly FixtureResponse[];
}

export interface FixtureFile {
  readonly description?: string;
  readonly fixtures: readonly Fixture[];
}

/** A fixture file together with where it came from, for error messages and records. */
export interface LoadedFixtureFile {
  readonly source: string;
  readonly file: FixtureFile;
}

const responseSchema = z
  .object({
    files: z.record(z.string(), z.string()).optional(),
    text: z.string().optional(),
    tool_calls: z
      .array(z.object({ name: z.string().min(1), arguments: z.record(z.string(), z.unknown()) }).strict())
      .min(1)
      .optional(),
    status: z.number().int().min(100).max(599).optional(),
    message: z.string().optional(),
    retry_after: z.number().min(0).optional(),
    delay_ms: z.number().min(0).optional(),
    hang: z.boolean().optional(),
  })
  .strict()
  .superRefine((response, context) => {
    const failing = response.hang === true || (response.status !== undefined && response.status !== 200);
    const answers = [response.files, response.text, response.tool_calls].filter((answer) => answer !== undefined).length;
    if (!failing && answers === 0) {
      context.addIssue({ code: "custom", message: "needs files, text, tool_calls, an error status or hang" });
    }
    if (answers > 1) {
      context.addIssue({ code: "custom", message: "files, text and tool_calls exclude each other" });
    }
  });

const fixtureFileSchema = z
  .object({
    description: z.string().optional(),
    fixtures: z.array(
      z
        .object({
          match: z.array(z.string()),
          responses: z.array(responseSchema).min(1),
        })
        .strict(),
    ),
  })
  // Unknown top-level keys (comments, authoring notes) are harmless; unknown keys inside a
  // fixture are almost always typos (`response`, `matches`) that would silently change behaviour.
  .loose();

/** Checks one parsed fixture file; the ValidationError names the source and each broken field. */
export function parseFixtureFile(value: unknown, source: string): FixtureFile {
  const result = fixtureFileSchema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(
    result.error.issues.map((issue) => ({
      path: `${source}:${issue.path.join(".") || "(root)"}`,
      message: issue.message,
    })),
    { cause: result.error },
  );
}

/**
 * Reads fixture files in the order given; a directory contributes its `*.json` files in name
 * order, which is the order PROTOCOL §6 matches in.
 */
export async function loadFixtureFiles(paths: readonly string[]): Promise<LoadedFixtureFile[]> {
  const files: string[] = [];
  for (const path of paths) {
    if ((await stat(path)).isDirectory()) {
      const names = (await readdir(path)).filter((name) => name.endsWith(".json")).sort();
      files.push(...names.map((name) => join(path, name)));
    } else {
      files.push(path);
    }
  }
  const loaded: LoadedFixtureFile[] = [];
  for (const file of files) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, "utf8"));
    } catch (error) {
      throw new ValidationError([{ path: file, message: `not readable JSON (${(error as Error).message})` }], {
        cause: error,
      });
    }
    loaded.push({ source: basename(file), file: parseFixtureFile(json, basename(file)) });
  }
  return loaded;
}
