/**
 * JSON shapes as briefs write them: `Fill in {people: 3, case_1: {swerve: bool, reason: str}}`.
 * The notation is loose pseudo-JSON/Python — unquoted or quoted keys, type names where values go
 * (str, int, float, bool, list, dict …), literal values that the file must hold exactly, and
 * placeholders (`...`, `"…"`, `?`) that accept anything. Pure: no I/O.
 */
export type JsonType = "string" | "number" | "integer" | "boolean" | "array" | "object" | "null" | "any";

export type JsonShape =
  | { readonly kind: "object"; readonly fields: readonly JsonField[] }
  | { readonly kind: "array"; readonly items: JsonShape | undefined }
  | { readonly kind: "type"; readonly type: JsonType }
  | { readonly kind: "literal"; readonly value: string | number | boolean | null };

export interface JsonField {
  readonly key: string;
  readonly shape: JsonShape;
}

/** Type names the notation uses, in any case. */
const typeNames: Readonly<Record<string, JsonType>> = {
  str: "string", string: "string", text: "string", date: "string",
  int: "integer", integer: "integer",
  float: "number", number: "number", num: "number", double: "number", numeric: "number", decimal: "number",
  bool: "boolean", boolean: "boolean",
  list: "array", array: "array",
  dict: "object", object: "object", obj: "object", map: "object",
  null: "null", none: "null",
  any: "any",
};

export function jsonTypeOf(word: string): JsonType | undefined {
  return typeNames[word.toLowerCase()];
}

type Token =
  | { readonly t: "punct"; readonly v: "{" | "}" | "[" | "]" | ":" | "," | "|" }
  | { readonly t: "string"; readonly v: string }
  | { readonly t: "number"; readonly v: number }
  | { readonly t: "word"; readonly v: string }
  | { readonly t: "ellipsis" };

function tokenize(source: string): Token[] | undefined {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const rest = source.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const c = source[i]!;
    if ("{}[]:,|".includes(c)) {
      tokens.push({ t: "punct", v: c as "{" });
      i++;
      continue;
    }
    if (rest.startsWith("...") || c === "…") {
      tokens.push({ t: "ellipsis" });
      i += c === "…" ? 1 : 3;
      continue;
    }
    const quoted = /^"((?:[^"\\]|\\.)*)"|^'((?:[^'\\]|\\.)*)'|^“([^”]*)”|^‘([^’]*)’|^`([^`]*)`/.exec(rest);
    if (quoted) {
      const body = quoted[1] ?? quoted[2] ?? quoted[3] ?? quoted[4] ?? quoted[5] ?? "";
      tokens.push({ t: "string", v: body.replace(/\\(.)/g, "$1") });
      i += quoted[0].length;
      continue;
    }
    const number = /^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])/.exec(rest);
    if (number) {
      tokens.push({ t: "number", v: Number(number[0]) });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_$][\w$.-]*(?:\[[A-Za-z]+\])?/.exec(rest);
    if (word) {
      tokens.push({ t: "word", v: word[0] });
      i += word[0].length;
      continue;
    }
    if (c === "?") {
      tokens.push({ t: "ellipsis" });
      i++;
      continue;
    }
    return undefined;
  }
  return tokens;
}

const placeholderStrings = /^(?:\.\.\.|…|\?+|<[^>]*>|_+|\.\.\.\s*\w*|xxx)$/i;

/**
 * Parses the loose notation; `undefined` when it is not a shape (unbalanced, or prose inside the
 * braces). Keys keep their order.
 */
export function parseJsonShape(source: string): JsonShape | undefined {
  const tokens = tokenize(source);
  if (!tokens || tokens.length === 0) return undefined;
  let position = 0;
  const peek = () => tokens[position];
  const take = () => tokens[position++];
  const isPunct = (token: Token | undefined, v: string) => token?.t === "punct" && token.v === v;

  // `true|false`, `str | null`, `int|float`: a union is the one type both sides share, else any.
  function value(): JsonShape | undefined {
    const first = single();
    if (!first || !isPunct(peek(), "|")) return first;
    take();
    const other = value();
    if (!other) return undefined;
    const typeOf = (shape: JsonShape): string => (shape.kind === "type" ? shape.type : shape.kind === "literal" ? (shape.value === null ? "null" : typeof shape.value) : shape.kind);
    const a = typeOf(first);
    return { kind: "type", type: a === typeOf(other) && a !== "object" && a !== "array" ? (a as JsonType) : "any" };
  }

  function single(): JsonShape | undefined {
    const token = take();
    if (!token) return undefined;
    if (token.t === "punct" && token.v === "{") return object();
    if (token.t === "punct" && token.v === "[") return array();
    if (token.t === "ellipsis") return { kind: "type", type: "any" };
    if (token.t === "number") return { kind: "literal", value: token.v };
    if (token.t === "string") {
      if (placeholderStrings.test(token.v.trim()) || token.v.trim() === "") return { kind: "type", type: token.v.trim() === "" ? "string" : "any" };
      return { kind: "literal", value: token.v };
    }
    if (token.t === "word") {
      const word = token.v;
      const generic = /^(list|array|List|Array)\[([A-Za-z]+)\]$/.exec(word);
      if (generic) {
        const inner = jsonTypeOf(generic[2]!);
        return { kind: "array", items: inner ? { kind: "type", type: inner } : undefined };
      }
      if (/^(?:true|True|TRUE)$/.test(word)) return { kind: "literal", value: true };
      if (/^(?:false|False|FALSE)$/.test(word)) return { kind: "literal", value: false };
      if (/^(?:null|None)$/.test(word)) return { kind: "literal", value: null };
      const type = jsonTypeOf(word);
      return type ? { kind: "type", type } : undefined;
    }
    return undefined;
  }

  function object(): JsonShape | undefined {
    const fields: JsonField[] = [];
    for (;;) {
      const next = peek();
      if (isPunct(next, "}")) {
        take();
        return { kind: "object", fields };
      }
      if (next?.t === "ellipsis") {
        take();
      } else {
        const key = take();
        if (!key || (key.t !== "string" && key.t !== "word" && key.t !== "number")) return undefined;
        if (!isPunct(take(), ":")) return undefined;
        const shape = value();
        if (!shape) return undefined;
        fields.push({ key: String(key.v), shape });
      }
      const after = take();
      if (isPunct(after, "}")) return { kind: "object", fields };
      if (!isPunct(after, ",")) return undefined;
    }
  }

  function array(): JsonShape | undefined {
    const items: JsonShape[] = [];
    for (;;) {
      const next = peek();
      if (isPunct(next, "]")) {
        take();
        break;
      }
      const item = value();
      if (!item) return undefined;
      items.push(item);
      const after = take();
      if (isPunct(after, "]")) break;
      if (!isPunct(after, ",")) return undefined;
    }
    const typed = items.filter((item) => !(item.kind === "type" && item.type === "any"));
    // `[str]` or `[str, ...]` describes the items; a list of literals is a fixed value of its own.
    if (typed.length === 0) return { kind: "array", items: undefined };
    if (typed.every((item) => item.kind !== "literal")) return { kind: "array", items: typed[0] };
    return { kind: "array", items: { kind: "type", type: "any" } };
  }

  const shape = value();
  return shape && position === tokens.length ? shape : undefined;
}

/** The ways `value` departs from `shape`, as `$.path: problem` lines; empty when it fits. */
export function jsonShapeProblems(value: unknown, shape: JsonShape, path = "$"): string[] {
  switch (shape.kind) {
    case "literal":
      return value === shape.value ? [] : [`${path} must be ${JSON.stringify(shape.value)}, found ${preview(value)}`];
    case "type":
      return fitsType(value, shape.type) ? [] : [`${path} must be ${article(shape.type)}, found ${preview(value)}`];
    case "array": {
      if (!Array.isArray(value)) return [`${path} must be an array, found ${preview(value)}`];
      if (!shape.items) return [];
      return value.flatMap((item, index) => jsonShapeProblems(item, shape.items!, `${path}[${index}]`)).slice(0, 5);
    }
    case "object": {
      if (value === null || typeof value !== "object" || Array.isArray(value)) return [`${path} must be an object, found ${preview(value)}`];
      const record = value as Record<string, unknown>;
      return shape.fields.flatMap((field) => {
        const fieldPath = /^[A-Za-z_$][\w$]*$/.test(field.key) ? `${path}.${field.key}` : `${path}[${JSON.stringify(field.key)}]`;
        if (!Object.hasOwn(record, field.key)) {
          const near = Object.keys(record).find((key) => key.toLowerCase().replace(/[\s_-]/g, "") === field.key.toLowerCase().replace(/[\s_-]/g, ""));
          return [`${fieldPath} is missing${near !== undefined ? ` (there is ${JSON.stringify(near)}; keys must match exactly)` : ""}`];
        }
        return jsonShapeProblems(record[field.key], field.shape, fieldPath);
      });
    }
  }
}

function fitsType(value: unknown, type: JsonType): boolean {
  switch (type) {
    case "any":
      return value !== undefined;
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "array":
      return Array.isArray(value);
    case "object":
      return value !== null && typeof value === "object" && !Array.isArray(value);
    case "null":
      return value === null;
  }
}

function article(type: JsonType): string {
  return { string: "a string", number: "a number", integer: "an integer", boolean: "a boolean (true/false)", array: "an array", object: "an object", null: "null", any: "present" }[type];
}

function preview(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  const kind = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  return `${kind} ${text.length > 60 ? `${text.slice(0, 60)}…` : text}`;
}

/** The shape as a JSON-like template for prompts: `{"people": 3, "case_1": {"swerve": <boolean>}}`. */
export function describeJsonShape(shape: JsonShape): string {
  switch (shape.kind) {
    case "literal":
      return JSON.stringify(shape.value);
    case "type":
      return `<${shape.type}>`;
    case "array":
      return shape.items ? `[${describeJsonShape(shape.items)}, …]` : "[…]";
    case "object":
      return `{${shape.fields.map((field) => `${JSON.stringify(field.key)}: ${describeJsonShape(field.shape)}`).join(", ")}}`;
  }
}
