import { parse, type DefaultTreeAdapterTypes, type ParserError } from "parse5";
import type { BuildContract } from "../domain/build-contract.ts";
import type { GateDecision, GateFiles } from "./gate-decision.ts";
import { extensionOf } from "./text-file.ts";

type Node = DefaultTreeAdapterTypes.Node;
type Element = DefaultTreeAdapterTypes.Element;

const RULE = "html";
const ENTRY = "index.html";
const HTML_NAMESPACE = "http://www.w3.org/1999/xhtml";

function isElement(node: Node): node is Element {
  return "tagName" in node;
}

function* walk(node: Node): Generator<Element> {
  if (isElement(node)) yield node;
  if ("childNodes" in node) for (const child of node.childNodes) yield* walk(child);
  if (isElement(node) && node.tagName === "template" && "content" in node) yield* walk((node as DefaultTreeAdapterTypes.Template).content);
}

function textOf(node: Node): string {
  if (node.nodeName === "#text") return (node as DefaultTreeAdapterTypes.TextNode).value;
  return "childNodes" in node ? node.childNodes.map(textOf).join("") : "";
}

function attribute(element: Element, name: string): string | undefined {
  return element.attrs.find((a) => a.name === name)?.value;
}

// document.title strips and collapses ASCII whitespace; compare the way the evaluator will.
function collapse(text: string): string {
  return text.replace(/[\t\n\f\r ]+/g, " ").trim();
}

/**
 * index.html must exist, parse, have a <title>, and carry the title and element ids the contract
 * requires, since those are what the evaluator's checks query first. An id that is missing from
 * the markup but named in a script may be created at run time: that warns instead of blocking,
 * because the static HTML cannot prove it either way (the verify stage's browser can).
 */
export function checkHtml(files: GateFiles, contract?: BuildContract): GateDecision[] {
  const source = files.get(ENTRY);
  if (!source) return [{ rule: RULE, passed: false, severity: "block", detail: `${ENTRY} is missing; Pages serves it as the app's entry page`, path: ENTRY }];

  const errors: ParserError[] = [];
  const document = parse(source.toString("utf8"), { onParseError: (error) => errors.push(error) });
  const elements = [...walk(document)];
  const decisions: GateDecision[] = [];
  const block = (detail: string): void => void decisions.push({ rule: RULE, passed: false, severity: "block", detail, path: ENTRY });
  const warn = (detail: string): void => void decisions.push({ rule: RULE, passed: false, severity: "warn", detail, path: ENTRY });

  // Code that may create elements or set the title at run time: inline scripts and local JS.
  const scriptText = [
    ...elements.filter((e) => e.tagName === "script" && attribute(e, "src") === undefined).map(textOf),
    ...[...files].filter(([path]) => ["js", "mjs"].includes(extensionOf(path))).map(([, content]) => content.toString("utf8")),
  ].join("\n");

  if (errors.length > 0) {
    const shown = errors.slice(0, 3).map((e) => `${e.code} at line ${e.startLine}`).join(", ");
    warn(`${ENTRY} has ${errors.length} HTML parse error${errors.length === 1 ? "" : "s"} (${shown}${errors.length > 3 ? ", …" : ""}); browsers recover, but check the markup`);
  }

  const titleElement = elements.find((e) => e.tagName === "title" && e.namespaceURI === HTML_NAMESPACE);
  const title = titleElement ? collapse(textOf(titleElement)) : undefined;
  if (title === undefined || title === "") block(`${ENTRY} has no ${title === undefined ? "<title> element" : "text in its <title>"}`);
  for (const required of contract?.titles ?? []) {
    const ok = title !== undefined && (required.match === "exact" ? title === collapse(required.text) : title.includes(required.text));
    if (ok) continue;
    const need = `${required.match === "exact" ? "exactly" : "containing"} ${JSON.stringify(required.text)}`;
    if (/document\.title\s*=(?!=)/.test(scriptText) && scriptText.includes(required.text)) {
      warn(`<title> is ${JSON.stringify(title ?? "")}; a script sets document.title, which must end up ${need}`);
    } else {
      block(`<title> is ${title === undefined ? "missing" : JSON.stringify(title)}; the checks need document.title ${need}`);
    }
  }

  const byId = new Map<string, Element>();
  for (const element of elements) {
    const id = attribute(element, "id");
    if (id !== undefined && !byId.has(id)) byId.set(id, element);
  }
  for (const required of contract?.elementIds ?? []) {
    const element = byId.get(required.id);
    if (!element) {
      if (scriptText.includes(required.id)) warn(`element #${required.id} is not in the HTML; a script mentions it, so it may be created at run time`);
      else block(`element #${required.id} is missing (the checks query it)`);
      continue;
    }
    if (required.tag && element.tagName !== required.tag) block(`element #${required.id} is a <${element.tagName}>, the checks need a <${required.tag}>`);
    for (const [name, value] of Object.entries(required.attributes)) {
      const actual = attribute(element, name);
      if (actual === undefined) {
        if (scriptText.includes(name)) warn(`element #${required.id} has no ${name} attribute in the HTML; a script mentions ${name}, so it may be set at run time`);
        else block(`element #${required.id} lacks the ${name} attribute${value === undefined ? "" : ` (${name}=${JSON.stringify(value)})`}`);
      } else if (value !== undefined && actual !== value) {
        block(`element #${required.id} has ${name}=${JSON.stringify(actual)}, the checks need ${JSON.stringify(value)}`);
      }
    }
  }

  if (!decisions.some((d) => d.severity === "block")) {
    const ids = contract?.elementIds.length ?? 0;
    decisions.unshift({ rule: RULE, passed: true, severity: "block", detail: `${ENTRY} parses, <title> is ${JSON.stringify(title)}${ids ? `, ${ids} required element ids checked` : ""}`, path: ENTRY });
  }
  return decisions;
}
