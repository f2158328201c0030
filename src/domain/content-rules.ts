/**
 * Content rules: what the brief and the plain-English checks demand of the repository's files,
 * read without a model ("story.md has 300-400 words", "Fill in {people: 3, …}", "result.json is
 * NOT committed", "index.html links to every file" …). Each rule is a pure value; the rule engine
 * (src/verify/rule-engine.ts) checks a candidate against it, and the prompt states it up front.
 * A phrase that maps onto no rule gives `undefined`: it stays a natural-language check.
 * See docs/decisions/0011-content-rules.md.
 */
import { describeJsonShape, jsonTypeOf, parseJsonShape, type JsonField, type JsonShape } from "./json-shape.ts";

export type ParseFormat = "json" | "svg" | "xml" | "csv";

export type ContentRule =
  | { readonly kind: "mit-license" }
  | { readonly kind: "readme-quality" }
  | { readonly kind: "no-secrets" }
  | { readonly kind: "file-exists"; readonly path: string }
  | { readonly kind: "file-absent"; readonly path: string }
  | { readonly kind: "file-matches-attachment"; readonly path: string }
  | { readonly kind: "parses"; readonly path: string; readonly format: ParseFormat }
  /** `min === max` for an exact count; either bound may be open. */
  | { readonly kind: "word-count"; readonly path: string; readonly min: number | undefined; readonly max: number | undefined }
  | { readonly kind: "json-shape"; readonly path: string; readonly shape: JsonShape }
  /** `page` links (statically, `<a href>`) to every other file of the site. */
  | { readonly kind: "links-every-file"; readonly page: string }
  /** Page rules: checked in the browser on the served site. */
  | { readonly kind: "title"; readonly text: string }
  | { readonly kind: "element-id"; readonly id: string }
  | { readonly kind: "plain-numbers" };

export type ContentRuleKind = ContentRule["kind"];

/** Rules the browser checks on the served page rather than the engine on the files. */
export function isPageRule(rule: ContentRule): rule is Extract<ContentRule, { kind: "title" | "element-id" | "plain-numbers" }> {
  return rule.kind === "title" || rule.kind === "element-id" || rule.kind === "plain-numbers";
}

/** A stable key: two phrasings of the same demand are one rule. */
export function ruleKey(rule: ContentRule): string {
  return JSON.stringify(rule);
}

// ---------------------------------------------------------------------------------------------
// Paths in prose

// Names that look like `name.ext` files but are libraries or products.
export const notFiles = new Set([
  "chart.js", "highlight.js", "d3.js", "marked.js", "node.js", "three.js", "vue.js", "react.js", "alpine.js",
  "p5.js", "anime.js", "pdf.js", "math.js", "moment.js", "day.js", "next.js", "express.js", "showdown.js",
  "leaflet.js", "plotly.js", "mermaid.js", "prism.js", "intl.numberformat", "paper.js", "fabric.js", "socket.io",
]);

const ruleExtensions = "json|csv|tsv|txt|md|markdown|html?|css|m?js|svg|png|jpe?g|gif|webp|ico|xml|ya?ml|pdf|ics|geojson|wasm|py|toml|ini|cfg|sh|ts|xlsx?|ods|log|lock|env";
const pathToken = new RegExp(`(?<![\\w/.:@-])((?:\\.?[\\w-]+/)*\\.?[\\w][\\w.-]*\\.(?:${ruleExtensions})|LICENSE|README)(?![\\w/-]|\\.\\w)`, "gi");

export interface PathMention {
  readonly path: string;
  readonly index: number;
  readonly end: number;
}

/** File paths a text names, in order (URLs blanked out first, library names skipped). */
export function pathsIn(text: string): PathMention[] {
  const blanked = text.replace(/\bhttps?:\/\/\S+/g, (url) => " ".repeat(url.length));
  const found: PathMention[] = [];
  for (const m of blanked.matchAll(pathToken)) {
    const path = m[1]!.replace(/^\.\//, "");
    if (notFiles.has(path.toLowerCase()) || path.includes("..")) continue;
    found.push({ path: path === "README" ? "README.md" : path, index: m.index, end: m.index + m[0].length });
  }
  return found;
}

function extension(path: string): string {
  return /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase() ?? "";
}

// ---------------------------------------------------------------------------------------------
// Numbers written as words

const smallNumbers: Readonly<Record<string, number>> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19,
  twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90, a: 1, an: 1, single: 1,
};

/** `3`, `1,000`, `three`, `twenty-five`, `two hundred`, `a hundred` → a number. */
export function numberOf(text: string): number | undefined {
  const clean = text.trim().toLowerCase();
  if (/^\d{1,3}(?:,\d{3})+$|^\d+$/.test(clean)) return Number(clean.replace(/,/g, ""));
  const hundred = /^(.+?)\s+hundred(?:\s+(?:and\s+)?(.+))?$/.exec(clean);
  if (hundred) {
    const head = numberOf(hundred[1]!);
    const tail = hundred[2] === undefined ? 0 : numberOf(hundred[2]);
    return head === undefined || tail === undefined ? undefined : head * 100 + tail;
  }
  const compound = /^(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)[-\s](one|two|three|four|five|six|seven|eight|nine)$/.exec(clean);
  if (compound) return smallNumbers[compound[1]!]! + smallNumbers[compound[2]!]!;
  return Object.hasOwn(smallNumbers, clean) ? smallNumbers[clean] : undefined;
}

const numberWord =
  "(?:\\d{1,3}(?:,\\d{3})+|\\d+|(?:(?:a|one|two|three|four|five|six|seven|eight|nine)\\s+hundred(?:\\s+(?:and\\s+)?[a-z]+(?:-[a-z]+)?)?)|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[-\\s](?:one|two|three|four|five|six|seven|eight|nine))?|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|single)";

// ---------------------------------------------------------------------------------------------
// Word counts

interface WordBounds {
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly index: number;
}

const W = "(?:words?|word\\s+count)";
const wordPhrases: ReadonlyArray<{ readonly pattern: RegExp; readonly bounds: (a: number, b: number) => [number | undefined, number | undefined] }> = [
  // 300-400 words, 300 to 400 words, 300–400-word story, between 300 and 400 words
  { pattern: new RegExp(`\\bbetween\\s+(${numberWord})\\s+and\\s+(${numberWord})\\s+${W}`, "gi"), bounds: (a, b) => [Math.min(a, b), Math.max(a, b)] },
  { pattern: new RegExp(`(?<![\\w.])(${numberWord})\\s*(?:-|–|—|to|and)\\s*(${numberWord})(?:\\s+|-)${W}`, "gi"), bounds: (a, b) => [Math.min(a, b), Math.max(a, b)] },
  { pattern: new RegExp(`\\b${W}\\s*(?:count\\s+)?(?:of\\s+|:\\s*|between\\s+|from\\s+|in\\s+the\\s+range\\s+)?(${numberWord})\\s*(?:-|–|—|to|and)\\s*(${numberWord})\\b`, "gi"), bounds: (a, b) => [Math.min(a, b), Math.max(a, b)] },
  // at least / minimum / no fewer than / N or more
  { pattern: new RegExp(`\\b(?:at\\s+least|a\\s+minimum\\s+of|minimum(?:\\s+of)?|min\\.?|no\\s+(?:fewer|less)\\s+than|not\\s+(?:fewer|less)\\s+than)\\s+(${numberWord})\\s+${W}`, "gi"), bounds: (a) => [a, undefined] },
  { pattern: new RegExp(`(?<![\\w.])(${numberWord})\\s*(?:\\+|or\\s+more)\\s+${W}`, "gi"), bounds: (a) => [a, undefined] },
  { pattern: new RegExp(`\\b(?:more\\s+than|over)\\s+(${numberWord})\\s+${W}`, "gi"), bounds: (a) => [a + 1, undefined] },
  // at most / maximum / no more than / up to / N or fewer / under / fewer than
  { pattern: new RegExp(`\\b(?:at\\s+most|a\\s+maximum\\s+of|maximum(?:\\s+of)?|max\\.?|no\\s+more\\s+than|not\\s+more\\s+than|up\\s+to|no\\s+longer\\s+than|not\\s+exceeding|within)\\s+(${numberWord})\\s+${W}`, "gi"), bounds: (a) => [undefined, a] },
  { pattern: new RegExp(`(?<![\\w.])(${numberWord})\\s+or\\s+(?:fewer|less)\\s+${W}`, "gi"), bounds: (a) => [undefined, a] },
  { pattern: new RegExp(`\\b(?:under|fewer\\s+than|less\\s+than|below)\\s+(${numberWord})\\s+${W}`, "gi"), bounds: (a) => [undefined, a - 1] },
  // exactly N words, in N words, N-word, of N words, N words long
  { pattern: new RegExp(`\\b(?:exactly|precisely|just|only)\\s+(${numberWord})\\s+${W}`, "gi"), bounds: (a) => [a, a] },
  { pattern: new RegExp(`\\b(?:in|using|with|of|has|have|contains?|be|is)\\s+(${numberWord})\\s+words?\\b(?!\\s+(?:or|per|a|each|from|of\\s+(?:the|its)))`, "gi"), bounds: (a) => [a, a] },
  { pattern: new RegExp(`(?<![\\w.-])(${numberWord})-words?\\b`, "gi"), bounds: (a) => [a, a] },
  { pattern: new RegExp(`\\bword\\s+count\\s+(?:of\\s+|is\\s+|must\\s+be\\s+|should\\s+be\\s+|equal\\s+to\\s+|=\\s*)(?:exactly\\s+)?(${numberWord})\\b(?!\\s*(?:-|–|to|and)\\s*\\d)`, "gi"), bounds: (a) => [a, a] },
];

// "about 300 words", "roughly", "approximately": a target, not a bound anyone grades strictly.
const approximate = /\b(?:about|around|approximately|approx\.?|roughly|circa|~|some|nearly|almost|or\s+so)\s*$/i;

/** The word bounds a sentence states, if any (the first phrase that matches wins). */
export function wordBoundsIn(sentence: string): WordBounds | undefined {
  if (!/\bwords?\b/i.test(sentence)) return undefined;
  // "words per minute", "keywords", "a word cloud", "password": not counts.
  if (/\bwords?\s+per\b/i.test(sentence)) return undefined;
  const found: WordBounds[] = [];
  for (const { pattern, bounds } of wordPhrases) {
    for (const m of sentence.matchAll(pattern)) {
      if (approximate.test(sentence.slice(Math.max(0, m.index - 16), m.index))) continue;
      const a = numberOf(m[1]!);
      const b = m[2] === undefined ? 0 : numberOf(m[2]);
      if (a === undefined || b === undefined) continue;
      const [min, max] = bounds(a, b);
      if ((min !== undefined && min < 0) || (max !== undefined && max < 1)) continue;
      found.push({ min, max, index: m.index });
    }
  }
  return found.sort((x, y) => x.index - y.index)[0];
}

// ---------------------------------------------------------------------------------------------
// JSON shapes in prose: `'max' object with 'val' (number) and 'fy' (string) fields`

const quotedName = /(?:'([^'\n]{1,60})'|"([^"\n]{1,60})"|`([^`\n]{1,60})`|‘([^’\n]{1,60})’|“([^”\n]{1,60})”)/;
const typeWord = "(?:string|str|text|number|numeric|float|int|integer|bool|boolean|list|array|object|dict|null|date)";

function nameOf(m: RegExpMatchArray, offset = 1): string {
  return (m[offset] ?? m[offset + 1] ?? m[offset + 2] ?? m[offset + 3] ?? m[offset + 4])!;
}

/**
 * Fields a check or sentence names for a JSON file: quoted keys, each with an optional type
 * (`'val' (number)`, `"fy" as a string`, `'n' of type int`) or fixed value (`'people' = 3`,
 * `"people" equal to 3`), and `'max' object with …` nesting. `undefined` when no key is quoted
 * next to a word that says key, field, property, object or a type.
 */
export function jsonFieldsIn(text: string): JsonShape | undefined {
  const typed = new RegExp(`\\(\\s*${typeWord}\\s*\\)|:\\s*${typeWord}\\b|\\b(?:as|is|of\\s+type)\\s+(?:an?\\s+)?${typeWord}\\b`, "i");
  if (!/\b(?:keys?|fields?|propert(?:y|ies)|attributes?|objects?|entr(?:y|ies)|members?|equal|value|set\s+to)\b|=/i.test(text) && !typed.test(text)) return undefined;
  const quoted = new RegExp(quotedName.source, "g");
  const mentions = [...text.matchAll(quoted)].map((m) => ({ name: nameOf(m), index: m.index, end: m.index + m[0].length }));
  if (mentions.length === 0) return undefined;
  const fields: JsonField[] = [];
  let nested: { key: string; fields: JsonField[] } | undefined;
  let consumedUntil = -1;
  for (const mention of mentions) {
    if (mention.index < consumedUntil) continue;
    if (/\.(?:json|csv|md|txt|html|svg|xml)$/i.test(mention.name)) continue;
    const after = text.slice(mention.end, mention.end + 60);
    const objectWith = /^\s*(?:\(\s*object\s*\)\s*)?(?:key\s+|field\s+|property\s+)?(?:is\s+an?\s+|as\s+an?\s+|an?\s+)?(?:object|dict|dictionary|map)\s+(?:with|containing|that\s+has|having|holding)\b/i.exec(after);
    if (objectWith) {
      nested = { key: mention.name, fields: [] };
      fields.push({ key: mention.name, shape: { kind: "object", fields: nested.fields } });
      continue;
    }
    const typed =
      new RegExp(`^\\s*(?:\\(\\s*(${typeWord})\\s*\\)|:\\s*(${typeWord})\\b|(?:key\\s+|field\\s+|property\\s+)?(?:as\\s+an?|is\\s+an?|of\\s+type|which\\s+is\\s+an?|that\\s+is\\s+an?|must\\s+be\\s+an?|should\\s+be\\s+an?|being\\s+an?|,\\s+an?)\\s+(${typeWord})\\b|\\s+(${typeWord})\\s+(?:field|key|property|value)\\b)`, "i").exec(after) ??
      new RegExp(`(?:an?\\s+)?(${typeWord})\\s+(?:field|key|property|value)\\s+$`, "i").exec(text.slice(Math.max(0, mention.index - 30), mention.index));
    const literal = /^\s*(?:(?:key|field|property|value)\s+)?(?:=|==|is\s+set\s+to|set\s+to|equal\s+to|equals|with\s+(?:the\s+)?value|of)\s*(-?\d+(?:\.\d+)?|true|false|null|"[^"]*"|'[^']*')(?![\w.])/i.exec(after);
    let shape: JsonShape = { kind: "type", type: "any" };
    if (typed) {
      const type = jsonTypeOf(typed[1] ?? typed[2] ?? typed[3] ?? typed[4] ?? "");
      if (type) shape = type === "object" ? { kind: "type", type: "object" } : { kind: "type", type };
    } else if (literal) {
      const raw = literal[1]!;
      const value = /^["']/.test(raw) ? raw.slice(1, -1) : raw === "true" ? true : raw === "false" ? false : raw === "null" ? null : Number(raw);
      shape = { kind: "literal", value };
      consumedUntil = mention.end + literal.index + literal[0].length;
    }
    const field = { key: mention.name, shape };
    // After `'max' object with …`, the keys that follow belong to it until one is introduced with
    // an article ("…, and a 'count' (integer)") or after a semicolon: that one is top-level again.
    const lead = text.slice(Math.max(0, mention.index - 16), mention.index);
    const endsNesting = /(?:\band\s+(?:an?|the)\s+|;\s*(?:an?\s+|the\s+)?|,\s+(?:an?|the)\s+|\btop-level\s+)(?:key\s+|field\s+)?$/i.test(lead);
    if (nested && !endsNesting) {
      nested.fields.push(field);
    } else {
      nested = undefined;
      fields.push(field);
    }
  }
  if (fields.length === 0) return undefined;
  // Bare names with no type, value or nesting count only when the text says they are keys.
  const saysKeys = /\b(?:keys?|fields?|propert(?:y|ies)|attributes?|members?)\b/i.test(text);
  if (!saysKeys && fields.every((f) => f.shape.kind === "type" && f.shape.type === "any")) return undefined;
  return { kind: "object", fields };
}

/** `{…}` with balanced braces starting at `start`, or undefined. */
function bracedAt(text: string, start: number): string | undefined {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return text.slice(start, i + 1);
    }
  }
  return undefined;
}

// "Fill in {…}", "with the shape {…}", "in this format: {…}", "matching {…}", "as {…}".
const shapeIntroducer =
  /\b(?:fill(?:ed)?\s+(?:in|out|it\s+in|it\s+with|with)|(?:with|in|using|has|have|following|this|the)\s+(?:the\s+)?(?:following\s+)?(?:shape|structure|format|schema|form|content|contents|keys)|structured\s+as|shaped\s+(?:like|as)|looks?\s+like|matching|matches|of\s+the\s+form|containing|contains|like|as|=)\s*:?\s*(?:\n\s*)?(?:```(?:json)?\s*)?(?=\{)/gi;

export interface ShapeMention {
  readonly shape: JsonShape;
  readonly index: number;
  readonly end: number;
}

/** `Fill in {…}` shapes a text gives, with where they are. */
export function shapesIn(text: string): ShapeMention[] {
  const found: ShapeMention[] = [];
  for (const m of text.matchAll(shapeIntroducer)) {
    const start = m.index + m[0].length;
    const braced = bracedAt(text, start);
    if (!braced) continue;
    const shape = parseJsonShape(braced);
    if (!shape || shape.kind !== "object" || shape.fields.length === 0) continue;
    found.push({ shape, index: m.index, end: start + braced.length });
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Phrases

const negation = /\b(?:not|never|n't|no\s+longer)\b/i;
const commitVerb = "(?:commit(?:ted|ting|s)?|push(?:ed|ing|es)?|check(?:ed|ing)?\\s+in|includ(?:e|ed|ing|es)|add(?:ed|ing|s)?|upload(?:ed|ing)?|publish(?:ed|ing)?|track(?:ed|ing)?|stor(?:e|ed|ing)|contain(?:s|ed|ing)?|have|has|present|version(?:ed)?|part\\s+of\\s+(?:the\\s+)?(?:repo(?:sitory)?|commit|tree)|in\\s+(?:the\\s+)?(?:repo(?:sitory)?|commit|tree|git))";

function forbids(text: string, path: PathMention): boolean {
  const before = text.slice(Math.max(0, path.index - 80), path.index);
  const after = text.slice(path.end, path.end + 80);
  // do not commit X · don't push X · never include X · must not add X · without committing X · exclude X · keep X out
  if (new RegExp(`\\b(?:do\\s+not|does\\s+not|doesn't|don't|dont|never|must\\s+not|mustn't|should\\s+not|shouldn't|shall\\s+not|cannot|can't|without|avoid|refrain\\s+from)\\s+(?:ever\\s+)?(?:be\\s+)?${commitVerb.replace("present|", "")}\\b[^.;]*$`, "i").test(before)) return true;
  // exclude X from the repo · keep X out of git · leave X out of the commit · gitignore X
  if (/\bgit-?ignor(?:e|ed|ing)\s*$/i.test(before)) return true;
  if (/\b(?:exclude|excluding|omit|omitting|ignore|leave|keep)\b[^.;]{0,20}$/i.test(before) && /^\W*\s+(?:out\s+)?(?:of|from)\s+(?:the\s+|your\s+)?(?:repo|repository|commit|commits|git|version\s+control|tree)\b|^\W*\s+(?:via|in|with|using)\s+(?:a\s+|the\s+)?\.gitignore/i.test(after)) return true;
  if (/\b(?:add|list|put)\s*$/i.test(before) && /^\W*\s+to\s+(?:the\s+)?\.gitignore/i.test(after)) return true;
  if (/\bno\b\s*$/i.test(before) && new RegExp(`^\\W*\\s+(?:file\\s+)?(?:is\\s+|in\\s+|may\\s+be\\s+|should\\s+be\\s+)?${commitVerb}`, "i").test(after)) return true;
  // X is NOT committed · X must not be in the repo · X should never be pushed · X is absent · X is gitignored
  if (new RegExp(`^\\W*\\s+(?:file\\s+)?(?:is|are|must|should|shall|will|may|has|does|can)?\\s*(?:not|never|n't)\\s+(?:be\\s+|been\\s+|get\\s+)?(?:ever\\s+)?${commitVerb}`, "i").test(after)) return true;
  if (/^\W*\s+(?:file\s+)?(?:is|must\s+be|should\s+be|stays?|remains?)\s+(?:absent|missing\s+from|excluded|untracked|(?:git)?ignored|left\s+out|not\s+present)/i.test(after)) return true;
  if (/^\W*\s+(?:isn't|aren't|wasn't|mustn't|shouldn't|won't)\s+(?:be\s+)?(?:committed|pushed|included|tracked|in\s+the\s+repo)/i.test(after)) return true;
  if (/^\W*\s+(?:must|should)\s+not\s+exist\b/i.test(after)) return true;
  return false;
}

const linksEvery =
  /\b(?:links?|linking|link\s+out|hyperlinks?)\s+(?:to\s+)?(?:(?:each|every|all)(?:\s+(?:one|single))?(?:\s+of)?(?:\s+the)?(?:\s+other)?(?:\s+(?:generated|created|committed|repository|repo|bundle|project))?\s+(?:files?|pages?|documents?|outputs?|artifacts?)|(?:the\s+)?(?:other\s+)?files?\s+(?:each|all)|them\s+all|all\s+of\s+them|every(?:thing|\s+other\s+file))|\b(?:lists?|listing)\s+(?:links\s+to\s+)?(?:each|every|all)(?:\s+of)?(?:\s+the)?(?:\s+other)?\s+files?\s+(?:with|as)\s+(?:a\s+)?links?|\bwith\s+(?:a\s+)?links?\s+to\s+(?:each|every|all)(?:\s+of)?(?:\s+the)?(?:\s+other)?\s+(?:files?|pages?)|\b(?:a\s+)?links?\s+(?:for|to)\s+each\s+(?:other\s+)?file/i;
const homepageWords = /\b(?:homepage|home\s+page|landing\s+page|index\s+page|main\s+page|front\s+page|start\s+page|entry\s+page)\b/i;

const titlePhrase =
  /(?:<title>|\b(?:page|document|html|site|tab|browser|window)\s+title|\btitle\s+(?:tag|element)|\bdocument\.title|^\s*(?:the\s+)?title)\s*(?:of\s+(?:the\s+)?(?:page|index\.html|site))?\s*(?:is|must\s+be|should\s+be|equals?|reads?|==+|:|=|matches|set\s+to|is\s+set\s+to)\s*(?:exactly\s*|precisely\s*|equal\s+to\s*)?:?\s*(?:"([^"\n]+)"|“([^”\n]+)”|`([^`\n]+)`|'([^'\n]+)')/i;

const idPhrase =
  /\b(?:(?:has|have|contains?|includes?|with|shows?|render(?:s)?)\s+(?:an?\s+|the\s+)?(?:[a-z0-9]+\s+)?(?:element|tag|node|container|div|span|section|table|canvas|button|form)s?\s+(?:with\s+)?(?:the\s+)?ids?\s*(?:=\s*|of\s+|:\s*)?|\belement\s+(?:with\s+)?(?:the\s+)?id\s*(?:=\s*)?|\bid\s*=\s*|\bids?\s+(?:of\s+)?)(?:"|'|`|“|#)?([A-Za-z][\w-]*)["'`”]?(?:\s+(?:exists?|is\s+present|is\s+rendered|is\s+in\s+the\s+(?:page|DOM|HTML)))?/i;

const plainNumbersPhrase =
  /\b(?:without|no|not\s+use|never\s+use|free\s+of)\s+(?:any\s+)?(?:thousands?|digit|number)?[\s-]*(?:separators?|grouping|commas?)\b|\b(?:numbers?|values?|figures?|amounts?|integers?|totals?|counts?|prices?)\s+(?:are\s+|must\s+be\s+|should\s+be\s+|is\s+)?(?:shown|displayed|printed|rendered|written)\s+(?:plainly|plain|raw|unformatted|as\s+(?:plain|raw)\s+(?:numbers?|digits|integers?))|\b(?:plain|raw|unformatted)\s+(?:numbers?|integers?|numeric\s+values?|digits)\b|\bnot?\s+(?:locale|toLocaleString)\s+format/i;

// A brief that asks for a format: grouping, currency or locale formatting is wanted, not plain.
const formatRequested =
  /\b(?:thousands?\s+separators?|with\s+commas|comma[-\s]separated\s+thousands|toLocaleString|Intl\.NumberFormat|locale[-\s]formatted|formatted\s+(?:as|with|in)\s+(?:currency|USD|EUR|\$|a\s+currency)|currency\s+format|as\s+currency|grouped\s+digits|digit\s+grouping)\b/i;

/**
 * The rule a natural-language check maps onto, or `undefined` (it stays natural: model-derived,
 * advisory). Checks name their file; a rule about no file in particular (MIT licence, secrets,
 * title, ids, plain numbers) needs none.
 */
export function contentRuleOf(text: string): ContentRule | undefined {
  const paths = pathsIn(text);
  const first = paths[0];

  if (/\bMIT\b/.test(text) && /licen[cs]e/i.test(text)) return { kind: "mit-license" };
  // "Works without an API key" is about the app, not the repository: require both halves.
  if (
    /\bno\s+(?:secrets?|credentials?|leaked)\b/i.test(text) ||
    (/\b(?:no|without|never|not|doesn't|does\s+not|free\s+of)\b[^.]*\b(?:secrets?|tokens?|credentials?|api\s+keys?|passwords?)\b/i.test(text) &&
      /\b(?:repo|repository|commits?|history|source|code|leak(?:s|ed)?|exposed?|hard-?coded|committed)\b/i.test(text))
  ) {
    return { kind: "no-secrets" };
  }
  for (const path of paths) if (forbids(text, path)) return { kind: "file-absent", path: path.path };

  const words = wordBoundsIn(text);
  if (words && first) {
    const target = nearestPath(paths, words.index) ?? first;
    return { kind: "word-count", path: target.path, min: words.min, max: words.max };
  }

  const json = paths.find((p) => extension(p.path) === "json");
  if (json) {
    const shapes = shapesIn(text);
    if (shapes[0]) return { kind: "json-shape", path: json.path, shape: shapes[0].shape };
    const fields = jsonFieldsIn(text.slice(json.end));
    if (fields) return { kind: "json-shape", path: json.path, shape: fields };
  }

  if (linksEvery.test(text) && (first || homepageWords.test(text) || /\b(?:page|site|index)\b/i.test(text))) {
    const page = paths.find((p) => /\.html?$/i.test(p.path))?.path ?? "index.html";
    return { kind: "links-every-file", page };
  }

  const title = titlePhrase.exec(text);
  if (title) return { kind: "title", text: (title[1] ?? title[2] ?? title[3] ?? title[4]!).trim() };

  if (plainNumbersPhrase.test(text)) return { kind: "plain-numbers" };

  if (!first || /\.html?$/i.test(first.path) || !/\.\w+$/.test(first.path)) {
    const id = idPhrase.exec(text) ?? /(?:^|\s)#([A-Za-z][\w-]*)\s+(?:element\s+)?(?:exists?|is\s+present|is\s+in\s+the\s+(?:page|DOM|HTML)|is\s+rendered)\b/i.exec(text);
    if (id && !/^(?:is|the|a|an|and|of|attribute)$/i.test(id[1]!)) return { kind: "element-id", id: id[1]! };
  }

  if (first && /\b(?:match(?:es)?|identical|same\s+(?:as|bytes)|byte-for-byte|byte\s+for\s+byte|equals?|unchanged|unmodified|as-is|as\s+is|verbatim)\b/i.test(text) && /\b(?:attach|provided|given|original|as-is|as\s+is|unchanged|unmodified|verbatim)/i.test(text)) {
    return { kind: "file-matches-attachment", path: first.path };
  }
  const format = parseFormatIn(text, first?.path);
  if (first && format) return { kind: "parses", path: first.path, format };
  if (
    first &&
    /\b(?:exists?|is\s+present|present|is\s+committed|committed|contains?\s+(?:a\s+)?(?:file\s+)?|has\s+(?:a\s+)?(?:file\s+)?|includes?|is\s+in\s+the\s+repo(?:sitory)?|is\s+available|is\s+served|ships?)\b/i.test(text) &&
    !/\b(?:professional|quality|complete|updated|explains?|describes?|documents?|sections?|shows?|displays?)\b/i.test(text)
  ) {
    return { kind: "file-exists", path: first.path };
  }
  if (/\breadme\b/i.test(text)) return { kind: "readme-quality" };
  if (/\blicen[cs]e\b/i.test(text) && /\b(?:has|have|includes?|contains?|exists?)\b/i.test(text)) return { kind: "file-exists", path: "LICENSE" };
  return undefined;
}

function nearestPath(paths: readonly PathMention[], index: number): PathMention | undefined {
  const before = paths.filter((p) => p.end <= index).at(-1);
  return before ?? paths.find((p) => p.index >= index);
}

/** "valid SVG", "parses as JSON", "well-formed XML", "a proper CSV file" → the format. */
function parseFormatIn(text: string, path: string | undefined): ParseFormat | undefined {
  const validity = /\b(?:valid|well-formed|well\s+formed|parse(?:s|able|d)?|parsable|proper|correct|loadable|readable|renders?|is\s+an?\s+svg|syntactically)\b/i;
  if (!validity.test(text)) return undefined;
  const named = /\b(svg|xml|json|csv)\b/i.exec(text.replace(/\b[\w./-]+\.(?:svg|xml|json|csv)\b/gi, " "))?.[1]?.toLowerCase() as ParseFormat | undefined;
  const byExtension = path ? (["json", "svg", "xml", "csv"] as const).find((f) => extension(path) === f) : undefined;
  return byExtension ?? named;
}

// ---------------------------------------------------------------------------------------------
// Briefs

/** A rule found in a brief, with the sentence it came from. */
export interface BriefRule {
  readonly rule: ContentRule;
  readonly text: string;
}

function sentencesOf(text: string): Array<{ text: string; start: number; paragraph: number }> {
  const sentences: Array<{ text: string; start: number; paragraph: number }> = [];
  let paragraph = 0;
  // Split on sentence ends that are followed by space (so `story.md` and `e.g.` stay whole), and lines.
  let start = 0;
  const push = (end: number) => {
    const body = text.slice(start, end);
    if (body.trim() !== "") sentences.push({ text: body, start, paragraph });
    start = end;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\n") {
      push(i);
      start = i + 1;
      // A blank line, or a list item, starts a new paragraph: a word rule does not reach back over it.
      if (text[i + 1] === "\n" || /^\s*(?:[-*+]|\d+[.)])\s/.test(text.slice(i + 1, i + 8))) paragraph++;
    } else if ((c === "." || c === "!" || c === "?" || c === ";") && /\s/.test(text[i + 1] ?? " ") && !/\b(?:e\.g|i\.e|etc|vs|approx|min|max|no)$/i.test(text.slice(Math.max(0, i - 6), i))) {
      push(i + 1);
    }
  }
  push(text.length);
  return sentences;
}

/**
 * Rules a brief states in prose: word counts, `Fill in {…}` shapes, files to create, files not to
 * commit, valid formats, a homepage linking every file, plain numbers. Titles and element ids the
 * brief names are read by the build contract (they also feed the safety gate).
 */
export function briefRulesOf(brief: string): BriefRule[] {
  const found: BriefRule[] = [];
  const add = (rule: ContentRule, text: string) => {
    if (!found.some((f) => ruleKey(f.rule) === ruleKey(rule))) found.push({ rule, text: text.trim().replace(/\s+/g, " ").slice(0, 240) });
  };

  // Shapes first, blanked out afterwards so their keys are not read as prose.
  let prose = brief;
  for (const shape of shapesIn(brief)) {
    const before = pathsIn(brief.slice(0, shape.index)).filter((p) => extension(p.path) === "json").at(-1);
    const window = brief.slice(before?.end ?? 0, shape.index);
    const sameParagraph = before && !/\n\s*\n/.test(window) && window.length < 400;
    const after = pathsIn(brief.slice(shape.end, shape.end + 200)).find((p) => extension(p.path) === "json");
    const path = sameParagraph ? before.path : after?.path ?? before?.path;
    if (path) add({ kind: "json-shape", path, shape: shape.shape }, brief.slice(shape.index, shape.end));
    prose = prose.slice(0, shape.index) + " ".repeat(shape.end - shape.index) + prose.slice(shape.end);
  }

  const sentences = sentencesOf(prose);
  let previous: { paths: PathMention[]; paragraph: number } | undefined;
  for (const sentence of sentences) {
    const text = sentence.text;
    const paths = pathsIn(text);
    const forbidden = new Set<string>();
    for (const path of paths) {
      if (forbids(text, path)) {
        forbidden.add(path.path);
        add({ kind: "file-absent", path: path.path }, text);
      }
    }
    const words = wordBoundsIn(text);
    if (words) {
      const target = nearestPath(paths.filter((p) => !forbidden.has(p.path)), words.index)?.path ?? (previous && previous.paragraph === sentence.paragraph ? previous.paths.at(-1)?.path : undefined);
      if (target) add({ kind: "word-count", path: target, min: words.min, max: words.max }, text);
    }
    for (const path of paths) {
      if (forbidden.has(path.path)) continue;
      const before = text.slice(Math.max(0, path.index - 100), path.index);
      if (/\b(?:create|creates|add|adds|write|writes|commit|commits|include|includes|save|saves|generate|generates|produce|produces|put|publish|provide|ship|make|makes|contain(?:s|ing)?|with\s+(?:a|an)|named|called|also)\b(?![^.;]*\b(?:fetch\w*|load\w*|read\w*|from|attached|attachments?|uses?|using|parses?|parsing|converts?|renders?)\b)[^.;]*$/i.test(before) || /^[-*+\s\d.)]*$/.test(before)) {
        add({ kind: "file-exists", path: path.path }, text);
      }
      if (/\b(?:valid|well-formed|parseable|parsable|proper)\s+(?:svg|xml|json|csv)\b/i.test(text)) {
        const format = parseFormatIn(text, path.path);
        if (format && format === extension(path.path)) add({ kind: "parses", path: path.path, format }, text);
      }
    }
    const json = paths.find((p) => extension(p.path) === "json" && !forbidden.has(p.path));
    if (json) {
      const fields = jsonFieldsIn(text.slice(json.end));
      if (fields && /\b(?:keys?|fields?|propert(?:y|ies)|with|containing|has|have)\b/i.test(text)) add({ kind: "json-shape", path: json.path, shape: fields }, text);
    }
    if (linksEvery.test(text)) {
      const page = paths.find((p) => /\.html?$/i.test(p.path))?.path ?? (homepageWords.test(text) || /\b(?:index|page|site)\b/i.test(text) ? "index.html" : undefined);
      if (page) add({ kind: "links-every-file", page }, text);
    }
    if (plainNumbersPhrase.test(text) && !formatRequested.test(brief)) add({ kind: "plain-numbers" }, text);
    if (paths.length > 0) previous = { paths, paragraph: sentence.paragraph };
  }

  // A file the brief forbids anywhere is not one it asks to create ("produce result.json … do not commit it").
  const forbiddenPaths = new Set(found.flatMap((f) => (f.rule.kind === "file-absent" ? [f.rule.path] : [])));
  for (let i = found.length - 1; i >= 0; i--) {
    const rule = found[i]!.rule;
    if (rule.kind !== "file-absent" && "path" in rule && forbiddenPaths.has(rule.path)) found.splice(i, 1);
  }

  // A page that shows values from a data file is compared with that file strictly: numbers plain,
  // unless the brief asks for a format.
  if (!formatRequested.test(brief) && /\b(?:show|shows|display|displays|render|renders|print|prints|present|presents)\b/i.test(brief) && pathsIn(brief).some((p) => ["json", "csv"].includes(extension(p.path))) && /\b(?:numbers?|values?|totals?|counts?|sums?|max(?:imum)?|min(?:imum)?|averages?|amounts?|prices?|figures?)\b/i.test(brief)) {
    add({ kind: "plain-numbers" }, "the page shows values from a data file; graders compare them with the file strictly");
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Words for the prompt and the report

/** The rule as one obligation sentence, for the generation prompt and the repair prompt. */
export function describeContentRule(rule: ContentRule): string {
  switch (rule.kind) {
    case "mit-license":
      return "an MIT LICENSE file at the repository root";
    case "readme-quality":
      return "a complete, professional README.md (summary, setup, usage, code explanation, license)";
    case "no-secrets":
      return "no secrets (tokens, keys, passwords) anywhere in the repository or its history";
    case "file-exists":
      return `file ${rule.path} must exist`;
    case "file-absent":
      return `file ${rule.path} must NOT be committed (leave it out of the answer; it is dropped if present)`;
    case "file-matches-attachment":
      return `file ${rule.path} must be byte-identical to the attachment`;
    case "parses":
      return rule.format === "svg"
        ? `file ${rule.path} must be a well-formed SVG document (XML with xmlns="http://www.w3.org/2000/svg")`
        : `file ${rule.path} must be valid ${rule.format.toUpperCase()}${rule.format === "csv" ? " (a header row, the same number of columns on every row, quotes balanced)" : ""}`;
    case "word-count":
      return `file ${rule.path} must have ${describeBounds(rule.min, rule.max)} (counted strictly: markdown marks are not words, and the whitespace-separated tokens must be in range too — no title or heading unless it fits the count)`;
    case "json-shape":
      return `file ${rule.path} must be JSON of this shape (exact keys; <type> means any value of that type, other values are fixed): ${describeJsonShape(rule.shape)}`;
    case "links-every-file":
      return `${rule.page} must contain a plain <a href="…"> link (relative path, in the HTML itself, not added by a script) to every other file of the site, attachments included (LICENSE and README.md are optional)`;
    case "title":
      return `document.title must be exactly ${JSON.stringify(rule.text)}`;
    case "element-id":
      return `the page must have an element with id="${rule.id}"`;
    case "plain-numbers":
      return "numbers shown on the page must be plain, exactly as in the data (25000000, not 25,000,000 or 25 000 000; no toLocaleString or Intl.NumberFormat)";
  }
}

export function describeBounds(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && min === max) return `exactly ${min} word${min === 1 ? "" : "s"}`;
  if (min !== undefined && max !== undefined) return `between ${min} and ${max} words`;
  if (min !== undefined) return `at least ${min} words`;
  return `at most ${max} words`;
}
