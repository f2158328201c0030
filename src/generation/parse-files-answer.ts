import { GenerationParseError, describeError } from "../domain/errors.ts";
import { repositoryPathProblem } from "../domain/repository-path.ts";

/** Files we write ourselves; a model's version of them is ignored. */
const ownedPaths = new Set(["LICENSE", "README.md"]);

function extractJson(text: string): unknown {
  const trimmed = text.trim();
  const fenced = /```(?:json)?\s*\n([\s\S]*?)\n```/i.exec(trimmed);
  const candidates = [trimmed, fenced?.[1], trimmed.slice(trimmed.indexOf("{"), trimmed.lastIndexOf("}") + 1)];
  let lastError: unknown;
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      return JSON.parse(candidate);
    } catch (error) {
      lastError = error;
    }
  }
  throw new GenerationParseError(`the answer is not a JSON object: ${describeError(lastError)}`, { cause: lastError });
}

/**
 * Reads a `files-json` answer: `{"files": {"<path>": "<content>"}}`. Tolerates a fenced block or
 * prose around the object, since some models add it whatever they are told.
 */
export function parseFilesAnswer(text: string): Map<string, string> {
  const value = extractJson(text) as { files?: unknown };
  if (!value || typeof value !== "object" || !value.files || typeof value.files !== "object" || Array.isArray(value.files)) {
    throw new GenerationParseError('the answer has no "files" object');
  }
  const files = new Map<string, string>();
  for (const [rawPath, content] of Object.entries(value.files as Record<string, unknown>)) {
    if (typeof content !== "string") throw new GenerationParseError(`files.${rawPath} is not a string`);
    const path = rawPath.trim().replace(/^\.\//, "");
    const problem = repositoryPathProblem(path);
    if (problem) throw new GenerationParseError(`file path ${JSON.stringify(rawPath)} is not allowed: ${problem}`);
    if (!ownedPaths.has(path)) files.set(path, content);
  }
  if (files.size === 0) throw new GenerationParseError("the answer contains no files");
  return files;
}
