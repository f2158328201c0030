import type { ChatRequest } from "./chat-request.ts";

/**
 * Answers for the calls fixtures do not script (README prose, check translation, judging): the
 * same request always gets the same well-formed answer, so tests are repeatable without
 * writing a fixture for every helper call.
 */
export function synthesizeAnswerText(request: ChatRequest): string {
  switch (request.responseFormat.type) {
    case "json-schema":
      return JSON.stringify(synthesizeFromSchema(request.responseFormat.schema, topicWords(request.lastUserText)));
    case "json-object":
      return JSON.stringify({ answer: sentence("Answer", topicWords(request.lastUserText)) });
    case "text":
      return synthesizeProse(request.lastUserText);
  }
}

/** A short paragraph that mentions words of the question, so a reader sees it was answered. */
export function synthesizeProse(question: string): string {
  const words = topicWords(question);
  const about = words.length > 0 ? ` It concerns ${joinWords(words)}.` : "";
  return `This is a scripted answer from fake-llm.${about} It is deterministic: the same request always gets the same text.`;
}

/** The first few distinct longer words of a text, in order: stable and recognisable. */
export function topicWords(text: string): string[] {
  const words: string[] = [];
  for (const match of text.matchAll(/[A-Za-z][A-Za-z0-9-]{3,}/g)) {
    const word = match[0].toLowerCase();
    if (!words.includes(word)) words.push(word);
    if (words.length === 5) break;
  }
  return words;
}

function joinWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

function sentence(subject: string, words: readonly string[]): string {
  return words.length > 0 ? `${subject} about ${joinWords(words)}.` : `${subject}.`;
}

type Schema = Record<string, unknown>;

/**
 * A minimal value that satisfies a JSON Schema (or the OpenAPI subset Gemini uses, whose type
 * names may be upper case): every property present, strings as short sentences, numbers 0
 * (or the nearest bound when 0 is out of range), booleans true, arrays at their minimum length but at least one item.
 */
export function synthesizeFromSchema(schema: unknown, words: readonly string[], root: unknown = schema, name = "value"): unknown {
  if (schema === true || schema === undefined || schema === null) return sentence(label(name), words);
  if (typeof schema !== "object") return null;
  const s = schema as Schema;

  if (typeof s.$ref === "string") return synthesizeFromSchema(resolveReference(root, s.$ref), words, root, name);
  if ("const" in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  for (const key of ["anyOf", "oneOf"] as const) {
    const options = s[key];
    if (Array.isArray(options) && options.length > 0) {
      // Prefer a non-null branch: a nullable field that is always null tests nothing.
      const chosen = options.find((o) => typeOf(o) !== "null") ?? options[0];
      return synthesizeFromSchema(chosen, words, root, name);
    }
  }
  if (Array.isArray(s.allOf) && s.allOf.length > 0) {
    const merged = Object.assign({}, ...s.allOf.map((part) => resolvePart(part, root))) as Schema;
    return synthesizeFromSchema(merged, words, root, name);
  }

  switch (typeOf(s)) {
    case "object": {
      const properties = (s.properties ?? {}) as Record<string, unknown>;
      const result: Record<string, unknown> = {};
      for (const [key, propertySchema] of Object.entries(properties)) {
        result[key] = synthesizeFromSchema(propertySchema, words, root, key);
      }
      return result;
    }
    case "array": {
      const count = Math.max(1, typeof s.minItems === "number" ? s.minItems : 0);
      const itemName = name.endsWith("s") ? name.slice(0, -1) : "item";
      return Array.from({ length: count }, () => synthesizeFromSchema(s.items, words, root, itemName));
    }
    case "number":
    case "integer":
      return lowerBound(s);
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return synthesizeString(s, name, words);
  }
}

function synthesizeString(s: Schema, name: string, words: readonly string[]): string {
  switch (s.format) {
    case "uri":
    case "url":
      return "https://example.com/";
    case "email":
      return "fake-llm@example.com";
    case "date":
      return "2025-01-01";
    case "date-time":
      return "2025-01-01T00:00:00Z";
  }
  let text = sentence(label(name), words);
  if (typeof s.minLength === "number" && text.length < s.minLength) text = text.padEnd(s.minLength, ".");
  if (typeof s.maxLength === "number") text = text.slice(0, s.maxLength);
  return text;
}

function typeOf(schema: unknown): string {
  if (typeof schema !== "object" || schema === null) return "";
  const s = schema as Schema;
  const type = Array.isArray(s.type) ? (s.type.find((t) => String(t).toLowerCase() !== "null") ?? s.type[0]) : s.type;
  if (typeof type === "string") return type.toLowerCase();
  if (s.properties !== undefined) return "object";
  if (s.items !== undefined) return "array";
  return "";
}

/** 0, unless the schema's bounds exclude it; then the nearest allowed value. */
function lowerBound(s: Schema): number {
  let value = 0;
  if (typeof s.minimum === "number" && value < s.minimum) value = s.minimum;
  if (typeof s.exclusiveMinimum === "number" && value <= s.exclusiveMinimum) value = s.exclusiveMinimum + 1;
  if (typeof s.maximum === "number" && value > s.maximum) value = s.maximum;
  return value;
}

function label(name: string): string {
  const spaced = name.replace(/[_-]+/g, " ").replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

function resolvePart(part: unknown, root: unknown): unknown {
  const s = part as Schema;
  return typeof s?.$ref === "string" ? resolveReference(root, s.$ref) : part;
}

/** Resolves a local `#/…` reference; anything else becomes an unconstrained schema. */
function resolveReference(root: unknown, reference: string): unknown {
  if (!reference.startsWith("#")) return true;
  let node: unknown = root;
  for (const segment of reference.slice(1).split("/").filter(Boolean)) {
    const key = segment.replace(/~1/g, "/").replace(/~0/g, "~");
    node = typeof node === "object" && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  }
  return node ?? true;
}
