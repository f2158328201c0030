import type { DecodedAttachment } from "./attachment.ts";
import { summarizeAttachment, type AttachmentSummary } from "./attachment-summary.ts";
import type { Check } from "./check.ts";
import { editableAttachments } from "./editable-attachments.ts";
import { briefRulesOf, contentRuleOf, notFiles, ruleKey, type ContentRule } from "./content-rules.ts";
import { conversionRequestsOf, type ConversionRequest } from "./conversion-requests.ts";

/**
 * What the evaluator will look for, extracted from the brief, the checks and the attachments
 * before any model is called. The generator puts it into the prompt as explicit obligations and
 * the safety gate checks the answer against it, so a page that forgets `#total-sales` or the exact
 * title is caught here rather than by the evaluator. Pure: no I/O, deterministic output.
 */
export interface BuildContract {
  /** Element ids the page must contain, in first-seen order (current round first). */
  readonly elementIds: readonly RequiredElement[];
  /** CSS selectors the checks query, verbatim. */
  readonly selectors: readonly RequiredSelector[];
  /** Exact titles (`document.title`); `match: "includes"` when a check only tests containment. */
  readonly titles: readonly RequiredTitle[];
  /** Strings the checks compare text against. */
  readonly strings: readonly RequiredString[];
  /** Libraries the brief or checks name. */
  readonly libraries: readonly RequiredLibrary[];
  /** Asset references the checks look for, e.g. a `<script src>` containing "marked". */
  readonly assets: readonly RequiredAsset[];
  /** Files that must exist in the repository. */
  readonly files: readonly RequiredFile[];
  /** Query parameters the page must read from `location.search`, without `?`/`=`. */
  readonly queryParameters: readonly string[];
  /** Absolute http(s) URLs the brief names (APIs to call or data to fetch at build time). */
  readonly urls: readonly string[];
  /** The CDN the brief names for its libraries, when it names exactly one. */
  readonly cdn: string | undefined;
  readonly attachments: readonly AttachmentSummary[];
  /**
   * Attachments this round's brief asks to change (fix, update, extend …): the model edits them
   * and its version is committed. Every other attachment is committed byte for byte. Text only.
   */
  readonly editableAttachments: readonly string[];
  /** Every check of this and earlier rounds, classified. */
  readonly checks: readonly ContractCheck[];
  /**
   * Every content rule of this and earlier rounds, from checks and from the briefs alike, once
   * each: what verification decides deterministically (blocking) and the prompt states up front.
   */
  readonly rules: readonly ContractRule[];
  /** Conversions this round's brief asks the product to make (conversion-requests.ts). */
  readonly conversions: readonly ConversionRequest[];
}

/** A content rule with where it came from. */
export interface ContractRule {
  /** The check's id when a check states it (`c3`, `earlier1.c3`), else `brief.r1`, `earlier1.brief.r1` … */
  readonly id: string;
  readonly origin: ContractOrigin;
  readonly source: "check" | "brief";
  /** The check's words, or the brief's sentence. */
  readonly text: string;
  readonly rule: ContentRule;
}

/** Where an obligation came from: this round, or an earlier one that must keep working. */
export type ContractOrigin = "current" | "earlier";

export interface RequiredElement {
  readonly id: string;
  /** A check queries it (authoritative), rather than only the brief naming it. */
  readonly fromCheck: boolean;
  /** Lower-case tag name when the brief or a check pins it (`form`, `table`). */
  readonly tag: string | undefined;
  /** Attributes a check reads; value `undefined` means "must be present". */
  readonly attributes: Readonly<Record<string, string | undefined>>;
  readonly origin: ContractOrigin;
}

export interface RequiredSelector {
  readonly selector: string;
  readonly origin: ContractOrigin;
}

export interface RequiredTitle {
  readonly text: string;
  readonly match: "exact" | "includes";
  readonly origin: ContractOrigin;
}

/**
 * Where a check looks for a string. `first-script` is `document.querySelector("script")`, which
 * reads only the first `<script>`; `any-script` any of them; scripts loaded by `src` have an
 * empty `textContent`, so both mean inline code.
 */
export type StringScope =
  | { readonly kind: "first-script" }
  | { readonly kind: "any-script" }
  | { readonly kind: "element"; readonly selector: string; readonly property: string }
  | { readonly kind: "page" };

export interface RequiredString {
  readonly text: string;
  readonly match: "includes" | "equals" | "starts-with" | "ends-with";
  readonly scope: StringScope;
  readonly origin: ContractOrigin;
}

export interface RequiredLibrary {
  /** Stable key, e.g. `bootstrap`, `highlight.js`. */
  readonly key: string;
  /** Display name, e.g. `Bootstrap`. */
  readonly name: string;
  /** Version the brief names (`5`, `5.3`), if any. */
  readonly version: string | undefined;
  /** CDN the brief names for it (`jsdelivr`, `cdnjs`, `unpkg` …), if any. */
  readonly cdn: string | undefined;
  readonly origin: ContractOrigin;
}

export interface RequiredAsset {
  /** `script` with `src`, `link` with `href`, `img` with `src` … as the check's selector says. */
  readonly element: string;
  readonly attribute: string;
  /** Substring (`*=`), prefix (`^=`), suffix (`$=`) or whole value (`=`). */
  readonly operator: "contains" | "starts-with" | "ends-with" | "equals";
  readonly value: string;
  readonly origin: ContractOrigin;
}

export type RequiredFileSource = "attachment" | "brief" | "check";

export interface RequiredFile {
  /** Repository-relative POSIX path. */
  readonly path: string;
  readonly source: RequiredFileSource;
  /** The brief asks for this file to be filled from a URL ("fetch … and save data.json"). */
  readonly fetchFrom: string | undefined;
  readonly origin: ContractOrigin;
}

/** The rules briefwright verifies without a browser or a model; see content-rules.ts. */
export type RepositoryRule = ContentRule;

export type ContractCheck =
  | { readonly id: string; readonly origin: ContractOrigin; readonly kind: "js"; readonly expression: string }
  | { readonly id: string; readonly origin: ContractOrigin; readonly kind: "repository"; readonly text: string; readonly rule: RepositoryRule }
  | { readonly id: string; readonly origin: ContractOrigin; readonly kind: "natural"; readonly text: string };

export interface BuildContractInput {
  readonly brief: string;
  readonly checks: readonly Check[];
  readonly attachments: readonly DecodedAttachment[];
  /** Earlier rounds, oldest first; their obligations still hold (the evaluator re-runs them). */
  readonly earlier?: ReadonlyArray<{ readonly brief: string; readonly checks: readonly Check[] }>;
}

// ---------------------------------------------------------------------------------------------
// Libraries

interface LibrarySpec {
  readonly key: string;
  readonly name: string;
  /** Matches a mention in prose. */
  readonly mention: RegExp;
  /** What a `src`/`href` of this library contains, to tie `script[src*='…']` checks to it. */
  readonly assetHints: readonly string[];
}

// "marked" is also an English word ("marked as done"), so prose only counts it next to a verb
// that introduces a tool, or with a suffix no sentence would have.
const librarySpecs: readonly LibrarySpec[] = [
  { key: "bootstrap", name: "Bootstrap", mention: /\bbootstrap\b/i, assetHints: ["bootstrap"] },
  { key: "tailwind", name: "Tailwind CSS", mention: /\btailwind(?:\s*css)?\b/i, assetHints: ["tailwind"] },
  { key: "bulma", name: "Bulma", mention: /\bbulma\b/i, assetHints: ["bulma"] },
  { key: "pico", name: "Pico CSS", mention: /\bpico(?:\.css|\s+css)\b/i, assetHints: ["pico"] },
  { key: "jquery", name: "jQuery", mention: /\bjquery\b/i, assetHints: ["jquery"] },
  {
    key: "marked",
    name: "marked",
    mention: /\b(?:with|using|use|uses|via|load|loads|loading|include|includes|including|and|the)\s+[`"']?marked\b(?!\s+(?:as|by|up|down|with|in|on|the|a|an)\b)|\bmarked(?:\.js|\.parse|\.min\.js|@\d)|\bmarked\s+(?:library|parser|package|lib)\b/i,
    assetHints: ["marked"],
  },
  { key: "markdown-it", name: "markdown-it", mention: /\bmarkdown-it\b/i, assetHints: ["markdown-it"] },
  { key: "showdown", name: "Showdown", mention: /\bshowdown(?:\.js)?\b/i, assetHints: ["showdown"] },
  { key: "highlight.js", name: "highlight.js", mention: /\bhighlight\.?js\b|\bhljs\b/i, assetHints: ["highlight"] },
  { key: "prism", name: "Prism", mention: /\bprism(?:\.js|js)?\b/i, assetHints: ["prism"] },
  { key: "dompurify", name: "DOMPurify", mention: /\bdompurify\b/i, assetHints: ["dompurify", "purify"] },
  { key: "chart.js", name: "Chart.js", mention: /\bchart\.?js\b/i, assetHints: ["chart"] },
  { key: "d3", name: "D3", mention: /\bd3(?:\.js)?\b/i, assetHints: ["d3"] },
  { key: "plotly", name: "Plotly", mention: /\bplotly(?:\.js)?\b/i, assetHints: ["plotly"] },
  { key: "leaflet", name: "Leaflet", mention: /\bleaflet(?:\.js)?\b/i, assetHints: ["leaflet"] },
  { key: "three.js", name: "three.js", mention: /\bthree\.js\b|\bthreejs\b/i, assetHints: ["three"] },
  { key: "mermaid", name: "Mermaid", mention: /\bmermaid(?:\.js)?\b/i, assetHints: ["mermaid"] },
  { key: "mathjax", name: "MathJax", mention: /\bmathjax\b/i, assetHints: ["mathjax"] },
  { key: "katex", name: "KaTeX", mention: /\bkatex\b/i, assetHints: ["katex"] },
  { key: "papaparse", name: "Papa Parse", mention: /\bpapa\s?parse\b/i, assetHints: ["papaparse"] },
  { key: "lodash", name: "Lodash", mention: /\blodash\b/i, assetHints: ["lodash"] },
  { key: "dayjs", name: "Day.js", mention: /\bday\.?js\b/i, assetHints: ["dayjs"] },
  { key: "moment", name: "Moment.js", mention: /\bmoment\.js\b|\bmomentjs\b/i, assetHints: ["moment"] },
  { key: "alpine", name: "Alpine.js", mention: /\balpine(?:\.?js)\b/i, assetHints: ["alpine"] },
  // Case-sensitive: the proper nouns, not "react to a click".
  { key: "vue", name: "Vue", mention: /\bVue(?:\.js)?\b/, assetHints: ["vue"] },
  { key: "react", name: "React", mention: /\bReact(?:\.js)?\b(?!\s+to\b)/, assetHints: ["react"] },
  { key: "font-awesome", name: "Font Awesome", mention: /\bfont\s?awesome\b/i, assetHints: ["font-awesome", "fontawesome"] },
  { key: "sweetalert2", name: "SweetAlert2", mention: /\bsweetalert2?\b/i, assetHints: ["sweetalert"] },
  { key: "pdf.js", name: "PDF.js", mention: /\bpdf\.js\b|\bpdfjs\b/i, assetHints: ["pdf"] },
];

const cdnSpecs: ReadonlyArray<{ key: string; mention: RegExp }> = [
  { key: "jsdelivr", mention: /\bjs\s?delivr\b/i },
  { key: "cdnjs", mention: /\bcdnjs\b/i },
  { key: "unpkg", mention: /\bunpkg\b/i },
  { key: "esm.sh", mention: /\besm\.sh\b/i },
  { key: "skypack", mention: /\bskypack\b/i },
];


// Extensions of files a brief may ask the app to ship or the repository to hold.
const fileExtensions = "json|csv|tsv|txt|md|markdown|html|htm|css|js|mjs|svg|png|jpe?g|gif|webp|ico|xml|ya?ml|pdf|ics|geojson|wasm";
const fileToken = new RegExp(`(?<![\\w/.:@-])((?:[\\w-]+/)*[\\w][\\w.-]*\\.(?:${fileExtensions}))(?![\\w/-])`, "gi");
const specialFiles = /(?<![\w/.-])(LICENSE|README\.md)(?![\w-]|\.\w)/g;

// HTML elements a brief names right before an id ("form id=…", "a Bootstrap table #x").
const tagWords =
  "form|table|div|span|button|input|select|textarea|canvas|svg|img|image|a|link|p|paragraph|ul|ol|li|list|section|article|main|header|footer|nav|aside|pre|code|h1|h2|h3|h4|h5|h6|heading|label|output|progress|meter|details|summary|dialog|iframe|video|audio|textbox|dropdown|tbody|thead";
// Words that name exactly one tag. "list", "heading" or "link" say too little to demand a tag
// (ul or ol? h1 or h2? a or link?), so they pin nothing.
const tagAliases: Readonly<Record<string, string | undefined>> = {
  image: "img",
  dropdown: "select",
  textbox: "input",
  paragraph: "p",
  link: undefined,
  list: undefined,
  heading: undefined,
};

// ---------------------------------------------------------------------------------------------
// Small helpers

interface Literal {
  readonly value: string;
  readonly start: number;
  readonly end: number;
}

// String literals of a JS expression; template literals only when they have no `${…}`, since an
// interpolated value is not a fixed string the page can be made to contain.
const literalPattern = /"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|`((?:[^`\\$]|\\.|\$(?!\{))*)`/g;

function unescapeJs(body: string): string {
  return body.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)/g, (_, escape: string) => {
    if (escape.startsWith("u{")) return String.fromCodePoint(parseInt(escape.slice(2, -1), 16));
    if (escape.startsWith("u") && escape.length === 5) return String.fromCharCode(parseInt(escape.slice(1), 16));
    if (escape.startsWith("x") && escape.length === 3) return String.fromCharCode(parseInt(escape.slice(1), 16));
    const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", v: "\v", "0": "\0" };
    return simple[escape] ?? escape;
  });
}

function literalsOf(expression: string): Literal[] {
  const found: Literal[] = [];
  for (const match of expression.matchAll(literalPattern)) {
    const body = match[1] ?? match[2] ?? match[3] ?? "";
    found.push({ value: unescapeJs(body), start: match.index, end: match.index + match[0].length });
  }
  return found;
}

/** `#id` tokens inside a CSS selector (attribute selector values excluded). */
function idsInSelector(selector: string): string[] {
  const withoutAttributes = selector.replace(/\[[^\]]*\]/g, "");
  return [...withoutAttributes.matchAll(/#((?:[A-Za-z_]|-[A-Za-z_])[\w-]*)/g)].map((m) => m[1]!);
}

/** The id a selector targets as a whole (`#x` or `form#x`), with its tag if it names one. */
export function wholeElementSelector(selector: string): { id: string; tag: string | undefined } | undefined {
  const match = /^\s*([a-zA-Z][\w-]*)?#((?:[A-Za-z_]|-[A-Za-z_])[\w-]*)\s*$/.exec(selector);
  if (!match) return undefined;
  return { id: match[2]!, tag: match[1]?.toLowerCase() };
}

// A CSS hex colour (`#fff`, `#a0b1c2`) in prose is not an element id.
const hexColour = /^(?:[0-9a-f]{3}|[0-9a-f]{4}|[0-9a-f]{6}|[0-9a-f]{8})$/i;

// ---------------------------------------------------------------------------------------------
// The builder: collects with first-seen order and de-duplication.

class ContractBuilder {
  readonly elements = new Map<string, { id: string; fromCheck: boolean; tag: string | undefined; attributes: Record<string, string | undefined>; origin: ContractOrigin }>();
  /** Set while reading a check, so elements know where they came from. */
  readingCheck = false;
  readonly selectors = new Map<string, { selector: string; origin: ContractOrigin }>();
  readonly titles = new Map<string, RequiredTitle>();
  readonly strings = new Map<string, RequiredString>();
  readonly libraries = new Map<string, { key: string; name: string; version: string | undefined; cdn: string | undefined; origin: ContractOrigin }>();
  readonly assets = new Map<string, RequiredAsset>();
  readonly files = new Map<string, { path: string; source: RequiredFileSource; fetchFrom: string | undefined; origin: ContractOrigin }>();
  readonly queryParameters = new Set<string>();
  readonly urls = new Set<string>();
  readonly cdns = new Set<string>();
  readonly checks: ContractCheck[] = [];
  readonly rules = new Map<string, ContractRule>();
  /** Which round's brief is being read, for rule ids: "" (current) or "earlier1." … */
  briefPrefix = "";
  readonly briefRuleCounts = new Map<string, number>();
  /** Paths a rule says must not be committed: never listed as required files. */
  readonly forbidden = new Set<string>();

  rule(entry: ContractRule): void {
    if (entry.rule.kind === "file-absent") this.forbidden.add(entry.rule.path);
    const key = ruleKey(entry.rule);
    const existing = this.rules.get(key);
    if (!existing) {
      this.rules.set(key, entry);
      return;
    }
    // A check's wording is what the evaluator grades, so it names the rule over the brief's.
    const preferred = existing.source === "brief" && entry.source === "check" ? entry : existing;
    this.rules.set(key, { ...preferred, origin: existing.origin === "current" || entry.origin === "current" ? "current" : "earlier" });
  }

  element(id: string, origin: ContractOrigin, tag?: string, attributes: Record<string, string | undefined> = {}): void {
    const existing = this.elements.get(id);
    if (!existing) {
      this.elements.set(id, { id, fromCheck: this.readingCheck, tag, attributes: { ...attributes }, origin });
      return;
    }
    if (this.readingCheck) existing.fromCheck = true;
    // A check's exact answer (tagName === "FORM") wins over prose; the first pin otherwise stays.
    if (tag && !existing.tag) existing.tag = tag;
    for (const [name, value] of Object.entries(attributes)) {
      if (existing.attributes[name] === undefined) existing.attributes[name] = value;
    }
    if (origin === "current") existing.origin = "current";
  }

  selector(selector: string, origin: ContractOrigin): void {
    const existing = this.selectors.get(selector);
    if (!existing) this.selectors.set(selector, { selector, origin });
    else if (origin === "current") existing.origin = "current";
  }

  title(text: string, match: RequiredTitle["match"], origin: ContractOrigin): void {
    const key = `${match}\u0000${text}`;
    if (text.trim() === "" || this.titles.has(key)) return;
    // An exact title makes a containment one redundant.
    if (match === "includes" && [...this.titles.values()].some((t) => t.match === "exact" && t.text.includes(text))) return;
    this.titles.set(key, { text, match, origin });
  }

  string(required: RequiredString): void {
    if (required.text === "") return;
    const key = `${required.match}\u0000${JSON.stringify(required.scope)}\u0000${required.text}`;
    if (!this.strings.has(key)) this.strings.set(key, required);
  }

  library(key: string, origin: ContractOrigin, version?: string, cdn?: string): void {
    const spec = librarySpecs.find((s) => s.key === key);
    if (!spec) return;
    const existing = this.libraries.get(key);
    if (!existing) {
      this.libraries.set(key, { key, name: spec.name, version, cdn, origin });
      return;
    }
    existing.version ??= version;
    existing.cdn ??= cdn;
    if (origin === "current") existing.origin = "current";
  }

  file(path: string, source: RequiredFileSource, origin: ContractOrigin, fetchFrom?: string): void {
    const clean = path.replace(/^\.\//, "");
    if (clean === "" || clean.includes("..") || clean.startsWith("/")) return;
    if (notFiles.has(clean.toLowerCase())) return;
    const existing = this.files.get(clean);
    if (!existing) {
      this.files.set(clean, { path: clean, source, fetchFrom, origin });
      return;
    }
    // An attachment is the strongest source: it says where the bytes come from.
    if (source === "attachment") existing.source = "attachment";
    existing.fetchFrom ??= fetchFrom;
    if (origin === "current") existing.origin = "current";
  }
}

// ---------------------------------------------------------------------------------------------
// Prose (briefs and natural-language checks)

function readProse(builder: ContractBuilder, text: string, origin: ContractOrigin, source: RequiredFileSource): void {
  const urls = [...text.matchAll(/\bhttps?:\/\/[^\s"'`<>)\]]+/g)].map((m) => ({ url: m[0].replace(/[.,;:!?]+$/, ""), index: m.index }));
  for (const { url } of urls) builder.urls.add(url);
  // Work on a copy with URLs blanked out, so `api.github.com/users/x.json` is not read as a file
  // and `?x=` inside a remote URL is not a parameter of our page.
  let prose = text;
  for (const { url, index } of urls) prose = prose.slice(0, index) + " ".repeat(url.length) + prose.slice(index + url.length);

  // Element ids: `#id`, `id="x"`, `id=x`, `id 'x'`.
  const idMentions: Array<{ id: string; index: number }> = [];
  for (const m of prose.matchAll(/(?<![\w&#/])#((?:[A-Za-z_]|-[A-Za-z_])[\w-]*)/g)) {
    if (hexColour.test(m[1]!)) continue;
    idMentions.push({ id: m[1]!.replace(/[-_]+$/, ""), index: m.index });
  }
  for (const m of prose.matchAll(/\bid\s*=\s*(?:\\?["'`]([A-Za-z_][\w-]*)\\?["'`]|([A-Za-z_][\w-]*))/g)) {
    idMentions.push({ id: m[1] ?? m[2]!, index: m.index });
  }
  for (const m of prose.matchAll(/\b(?:id|ID)\s+[`"'“]([A-Za-z_][\w-]*)[`"'”]/g)) {
    idMentions.push({ id: m[1]!, index: m.index });
  }
  for (const { id, index } of idMentions.sort((a, b) => a.index - b.index)) {
    const before = prose.slice(Math.max(0, index - 40), index);
    const tagMatch = new RegExp(`\\b(${tagWords})\\s+(?:element\\s+)?(?:with\\s+(?:the\\s+)?)?(?:id\\s*)?$`, "i").exec(before);
    const word = tagMatch?.[1]?.toLowerCase();
    const tag = word === undefined ? undefined : word in tagAliases ? tagAliases[word] : word;
    const attributes: Record<string, string | undefined> = {};
    if (/aria-live/i.test(before)) attributes["aria-live"] = undefined;
    builder.element(id, origin, tag, attributes);
  }

  // Titles the brief quotes: 'sets the title to "X"', 'titled "X"', 'page title: "X"'.
  // Only the document's title: "a card with the title \"Total\"" names a heading, and the gate
  // blocks on a title mismatch, so the phrase must point at the page, the tab or a setter.
  const documentTitle =
    /\b(?:(?:page|document|site|app|tab|browser|window|html)\s+titled|(?:page|document|site|tab|browser|window|html|<title>)\s*title|(?:set|sets|setting|change|changes|update|updates|give|gives)\s+(?:the\s+|its\s+)?(?:page\s+|document\s+)?title|^(?:the\s+)?title|title\s+(?:of|for)\s+the\s+(?:page|document|site|tab))\b(?:\s+(?:to|as|is|should\s+be|must\s+be|reading|that\s+reads))*\s*[:=]?\s*(?:"([^"\n]+)"|“([^”\n]+)”|`([^`\n]+)`|'([^'\n]+)')/gim;
  const exactTitles: string[] = [];
  for (const m of prose.matchAll(documentTitle)) exactTitles.push((m[1] ?? m[2] ?? m[3] ?? m[4]!).trim());
  for (const m of prose.matchAll(/\btitle\s+(?:"([^"\n]+)"|“([^”\n]+)”|`([^`\n]+)`|'([^'\n]+)')\s+(?:for|on|of)\s+the\s+(?:page|document|site|tab)\b/gi)) {
    exactTitles.push((m[1] ?? m[2] ?? m[3] ?? m[4]!).trim());
  }
  for (const m of prose.matchAll(/<title>([^<]+)<\/title>/gi)) exactTitles.push(m[1]!.trim());
  for (const title of exactTitles) {
    builder.title(title, "exact", origin);
    if (source === "brief" && title !== "") briefRule(builder, { kind: "title", text: title }, `the page title is ${JSON.stringify(title)}`, origin);
  }

  // Libraries, with a version the brief names right after the name ("Bootstrap 5", "D3 v7").
  const cdnsHere = cdnSpecs.filter((c) => c.mention.test(prose)).map((c) => c.key);
  for (const cdn of cdnsHere) builder.cdns.add(cdn);
  // Ids are blanked too, so `#chart-d3` does not load D3.
  const libraryProse = prose.replace(/#[\w-]+|\bid\s*=\s*\\?["'`]?[\w-]+/g, (id) => " ".repeat(id.length));
  for (const spec of librarySpecs) {
    const global = new RegExp(spec.mention.source, spec.mention.flags.includes("g") ? spec.mention.flags : `${spec.mention.flags}g`);
    for (const m of libraryProse.matchAll(global)) {
      const after = prose.slice(m.index + m[0].length, m.index + m[0].length + 80);
      const version = /^\s*(?:v|version\s*|@)?(\d+(?:\.\d+){0,2})(?![\w%])/i.exec(after)?.[1];
      const sentenceEnd = after.search(/[.;!?](?:\s|$)/);
      const nearby = sentenceEnd === -1 ? after : after.slice(0, sentenceEnd);
      const cdn = cdnSpecs.find((c) => new RegExp(`^[^,]*?\\b(?:from|via|on|through|using)\\s+(?:the\\s+)?${c.mention.source}`, "i").test(nearby))?.key;
      builder.library(spec.key, origin, version, cdn ?? (cdnsHere.length === 1 ? cdnsHere[0] : undefined));
    }
  }

  // Files: a brief that says "fetch <url> … save data.json" gets the URL recorded as the source.
  for (const m of prose.matchAll(fileToken)) {
    const path = m[1]!;
    if (notFiles.has(path.toLowerCase()) || /^[A-Z]\w*\.[A-Z]/.test(path)) continue;
    const before = prose.slice(Math.max(0, m.index - 300), m.index);
    const saving = /\b(?:save|saves|saved|saving|store|stores|write|writes|commit|commits|persist|cache)\b[^.;]*$/i.test(before);
    const fetchedUrl = saving
      ? urls.filter((u) => u.index < m.index && m.index - u.index < 300 && /\b(?:fetch|download|get|retrieve|pull|request|call|query)\w*\b/i.test(text.slice(Math.max(0, u.index - 60), u.index))).at(-1)?.url
      : undefined;
    builder.file(path, source, origin, fetchedUrl);
  }
  for (const m of prose.matchAll(specialFiles)) builder.file(m[1]!, source, origin);

  // Query parameters: `?token=`, `&url=`, "query parameter `q`".
  for (const m of prose.matchAll(/[?&]([A-Za-z_][\w-]*)=/g)) builder.queryParameters.add(m[1]!);
  for (const m of prose.matchAll(/\b(?:query|url|search)[\s-](?:string\s+)?param(?:eter)?s?\s+(?:named\s+|called\s+)?[`"'“]?\??([A-Za-z_][\w-]*)/gi)) {
    if (!/^(?:is|are|and|or|the|a|an|to|with|from|in|of|that|which)$/i.test(m[1]!)) builder.queryParameters.add(m[1]!);
  }
}

// ---------------------------------------------------------------------------------------------
// JavaScript checks

function readExpression(builder: ContractBuilder, expression: string, origin: ContractOrigin): void {
  const literals = literalsOf(expression);
  const selectorAt: Array<{ selector: string; start: number; all: boolean }> = [];

  for (const literal of literals) {
    const before = expression.slice(0, literal.start);
    const after = expression.slice(literal.end);
    const previousSelector = selectorAt.at(-1);

    const selectorCall = /\.(querySelector|querySelectorAll|closest|matches)\(\s*$/.exec(before);
    if (selectorCall) {
      const selector = literal.value.trim();
      builder.selector(selector, origin);
      selectorAt.push({ selector, start: literal.start, all: selectorCall[1] === "querySelectorAll" });
      const whole = wholeElementSelector(selector);
      for (const id of idsInSelector(selector)) builder.element(id, origin, whole?.id === id ? whole.tag : undefined);
      readAssetSelector(builder, selector, origin);
      continue;
    }
    if (/getElementById\(\s*$/.test(before)) {
      builder.element(literal.value, origin);
      builder.selector(`#${literal.value}`, origin);
      selectorAt.push({ selector: `#${literal.value}`, start: literal.start, all: false });
      continue;
    }
    if (/\bdocument\.title\s*(?:===?|!==?)\s*$/.test(before) || /^\s*===?\s*document\.title\b/.test(after)) {
      builder.title(literal.value, "exact", origin);
      continue;
    }
    if (/\bdocument\.title(?:\.trim\(\))?\.(?:includes|startsWith|endsWith|indexOf)\(\s*$/.test(before)) {
      builder.title(literal.value, "includes", origin);
      continue;
    }
    if (/\.tagName(?:\.toUpperCase\(\)|\.toLowerCase\(\))?\s*===?\s*$/.test(before) || /^\s*===?\s*[\w$.()"'#\[\]-]*\.tagName\b/.test(after)) {
      const whole = previousSelector ? wholeElementSelector(previousSelector.selector) : undefined;
      if (whole) builder.element(whole.id, origin, literal.value.toLowerCase());
      continue;
    }
    if (/\.(?:getAttribute|hasAttribute)\(\s*$/.test(before)) {
      const value = /^\s*\)\s*===?\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`([^`$]*)`)/.exec(after);
      const whole = previousSelector ? wholeElementSelector(previousSelector.selector) : undefined;
      if (whole) {
        const attributeValue = value ? unescapeJs(value[1] ?? value[2] ?? value[3] ?? "") : undefined;
        builder.element(whole.id, origin, undefined, { [literal.value]: attributeValue });
      }
      continue;
    }
    // The value half of `getAttribute("x") === "y"`, already recorded above.
    if (/\.getAttribute\(\s*(?:"[^"]*"|'[^']*'|`[^`]*`)\s*\)\s*===?\s*$/.test(before)) continue;

    const call = /\.(includes|startsWith|endsWith|indexOf)\(\s*$/.exec(before);
    const equality = /\.(textContent|innerText|innerHTML|outerHTML|value)(?:\.trim\(\))?\s*===?\s*$/.exec(before);
    if (call || equality) {
      const match: RequiredString["match"] = equality
        ? "equals"
        : call![1] === "startsWith"
          ? "starts-with"
          : call![1] === "endsWith"
            ? "ends-with"
            : "includes";
      const property = equality?.[1] ?? /\.(textContent|innerText|innerHTML|outerHTML|value|src|href)\b[^.]*\.\w+\(\s*$/.exec(before)?.[1] ?? "textContent";
      builder.string({ text: literal.value, match, scope: scopeFor(previousSelector, property), origin });
    }
  }

  for (const m of expression.matchAll(/(?:searchParams|URLSearchParams\([^)]*\))\.(?:get|has|getAll)\(\s*["'`]([\w-]+)["'`]/g)) {
    builder.queryParameters.add(m[1]!);
  }
  for (const m of expression.matchAll(/\bfetch\(\s*["'`](?!https?:|\/\/)\.?\/?([\w./-]+\.\w+)["'`]/g)) builder.file(m[1]!, "check", origin);
}

function scopeFor(selector: { selector: string; all: boolean } | undefined, property: string): StringScope {
  if (!selector) return { kind: "page" };
  if (/^script$/i.test(selector.selector)) return selector.all ? { kind: "any-script" } : { kind: "first-script" };
  return { kind: "element", selector: selector.selector, property };
}

/** `script[src*='marked']`, `link[href*="bootstrap"]` → an asset (and a library if known). */
function readAssetSelector(builder: ContractBuilder, selector: string, origin: ContractOrigin): void {
  for (const m of selector.matchAll(/(?:^|[\s>+~,])([a-z][\w-]*)?\[\s*([\w-]+)\s*([*^$]?=)\s*(?:"([^"]*)"|'([^']*)'|([^\]\s]*))\s*\]/gi)) {
    const element = (m[1] ?? "*").toLowerCase();
    const attribute = m[2]!.toLowerCase();
    if (!["src", "href", "data-src"].includes(attribute)) continue;
    const value = m[4] ?? m[5] ?? m[6] ?? "";
    const operator = ({ "*=": "contains", "^=": "starts-with", "$=": "ends-with", "=": "equals" } as const)[m[3] as "*=" | "^=" | "$=" | "="];
    const key = `${element}[${attribute}${m[3]}${value}]`;
    if (!builder.assets.has(key)) builder.assets.set(key, { element, attribute, operator, value, origin });
    const lowered = value.toLowerCase();
    const library = librarySpecs.find((spec) => spec.assetHints.some((hint) => lowered.includes(hint)));
    if (library) builder.library(library.key, origin);
    else if (/\.\w+$/.test(value) && !value.includes("/") && operator !== "starts-with") builder.file(value, "check", origin);
  }
}

// ---------------------------------------------------------------------------------------------
// Natural-language checks

/** Kept under its first name: a natural-language check → its content rule, or `undefined`. */
export { contentRuleOf as repositoryRuleOf };

/** A rule the brief states, numbered per round so ids are stable (`brief.r1`, `earlier1.brief.r2`). */
function briefRule(builder: ContractBuilder, rule: ContentRule, text: string, origin: ContractOrigin): void {
  const n = (builder.briefRuleCounts.get(builder.briefPrefix) ?? 0) + 1;
  builder.briefRuleCounts.set(builder.briefPrefix, n);
  builder.rule({ id: `${builder.briefPrefix}brief.r${n}`, origin, source: "brief", text, rule });
}

function readBriefRules(builder: ContractBuilder, brief: string, origin: ContractOrigin): void {
  for (const { rule, text } of briefRulesOf(brief)) briefRule(builder, rule, text, origin);
}

function classify(builder: ContractBuilder, check: Check, id: string, origin: ContractOrigin): void {
  builder.readingCheck = true;
  try {
    classifyCheck(builder, check, id, origin);
  } finally {
    builder.readingCheck = false;
  }
}

function classifyCheck(builder: ContractBuilder, check: Check, id: string, origin: ContractOrigin): void {
  if (check.kind === "js") {
    builder.checks.push({ id, origin, kind: "js", expression: check.expression });
    readExpression(builder, check.expression, origin);
    return;
  }
  const rule = contentRuleOf(check.text);
  if (rule) {
    builder.checks.push({ id, origin, kind: "repository", text: check.text, rule });
    builder.rule({ id, origin, source: "check", text: check.text, rule });
    if (rule.kind === "mit-license") builder.file("LICENSE", "check", origin);
    if (rule.kind === "readme-quality") builder.file("README.md", "check", origin);
    if (rule.kind === "title") builder.title(rule.text, "exact", origin);
    if (rule.kind === "element-id") builder.element(rule.id, origin);
    if (rule.kind === "links-every-file") builder.file(rule.page, "check", origin);
    if ("path" in rule && rule.kind !== "file-absent") builder.file(rule.path, "check", origin);
    return;
  }
  builder.checks.push({ id, origin, kind: "natural", text: check.text });
  // Natural checks still name ids and strings ("#captcha-text shows the text").
  readProse(builder, check.text, origin, "check");
}

/** What a rule pins, where a later round may pin it differently ("now 600-700 words"). */
function ruleTarget(rule: ContentRule): string | undefined {
  switch (rule.kind) {
    case "word-count":
    case "json-shape":
      return `${rule.kind}:${rule.path}`;
    case "file-exists":
    case "file-absent":
    case "file-matches-attachment":
      return `presence:${rule.path}`;
    case "title":
      return "title";
    default:
      return undefined;
  }
}

/** An earlier round's rule gives way to this round's rule about the same thing; both cannot hold. */
function withoutSuperseded(rules: readonly ContractRule[]): ContractRule[] {
  const current = new Set(rules.filter((r) => r.origin === "current").map((r) => ruleTarget(r.rule)).filter((t) => t !== undefined));
  return rules.filter((r) => r.origin === "current" || !current.has(ruleTarget(r.rule) ?? "\u0000"));
}

// ---------------------------------------------------------------------------------------------
// Entry point

export function buildContract(input: BuildContractInput): BuildContract {
  const builder = new ContractBuilder();

  // Attachments first: they fix where the bytes of a file come from before prose names it.
  for (const attachment of input.attachments) builder.file(attachment.name, "attachment", "current");

  readProse(builder, input.brief, "current", "brief");
  readBriefRules(builder, input.brief, "current");
  input.checks.forEach((check) => classify(builder, check, check.id, "current"));
  (input.earlier ?? []).forEach((round, roundIndex) => {
    builder.briefPrefix = `earlier${roundIndex + 1}.`;
    readProse(builder, round.brief, "earlier", "brief");
    readBriefRules(builder, round.brief, "earlier");
    round.checks.forEach((check) => classify(builder, check, `earlier${roundIndex + 1}.${check.id}`, "earlier"));
  });
  // Ids only prose names (no JS check queries them) are checked in the served page as rules.
  builder.briefPrefix = "";
  for (const element of builder.elements.values()) {
    if (!element.fromCheck) briefRule(builder, { kind: "element-id", id: element.id }, `the page has an element with id "${element.id}"`, element.origin);
  }

  const cdns = [...builder.cdns];
  const summaries = input.attachments.map(summarizeAttachment);
  return {
    elementIds: [...builder.elements.values()].map((e) => ({ id: e.id, fromCheck: e.fromCheck, tag: e.tag, attributes: { ...e.attributes }, origin: e.origin })),
    selectors: [...builder.selectors.values()].map((s) => ({ ...s })),
    titles: [...builder.titles.values()],
    strings: [...builder.strings.values()],
    libraries: [...builder.libraries.values()].map((l) => ({ ...l })),
    assets: [...builder.assets.values()],
    files: [...builder.files.values()].filter((f) => !builder.forbidden.has(f.path)).map((f) => ({ ...f })),
    queryParameters: [...builder.queryParameters],
    urls: [...builder.urls],
    cdn: cdns.length === 1 ? cdns[0] : undefined,
    attachments: summaries,
    editableAttachments: editableAttachments(input.brief, summaries.filter((a) => a.kind !== "binary").map((a) => a.name)),
    checks: builder.checks,
    rules: withoutSuperseded([...builder.rules.values()]),
    conversions: conversionRequestsOf(input.brief, input.attachments.map((a) => a.name)),
  };
}
