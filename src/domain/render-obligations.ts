/**
 * The build contract as the prompt's list of obligations: plain sentences, grouped, in a fixed
 * order, so the same contract always renders the same text.
 */
import { wholeElementSelector, type BuildContract, type ContractOrigin, type RequiredString, type StringScope } from "./build-contract.ts";
import { describeContentRule } from "./content-rules.ts";

function describeScope(scope: StringScope): string {
  switch (scope.kind) {
    case "first-script":
      return "the FIRST <script> element in the page (document.querySelector(\"script\") reads only that one) must be inline, and its text";
    case "any-script":
      return "some inline <script> element's text (a <script src> has empty textContent)";
    case "element":
      return `the ${scope.property} of ${scope.selector}`;
    case "page":
      return "the page";
  }
}

const matchWords: Record<RequiredString["match"], string> = {
  includes: "must contain",
  equals: "must equal",
  "starts-with": "must start with",
  "ends-with": "must end with",
};

function describeAttributes(attributes: Readonly<Record<string, string | undefined>>): string {
  return Object.entries(attributes)
    .map(([name, value]) => (value === undefined ? `attribute ${name}` : `${name}=${JSON.stringify(value)}`))
    .join(", ");
}

/**
 * The contract as an explicit, deterministic list of obligations for the prompt. Same contract,
 * same text, so prompts are reproducible and the scripted LLM can match on them.
 */
export function renderObligations(contract: BuildContract): string {
  const lines: string[] = [];
  const add = (line: string, origin: ContractOrigin): void => {
    lines.push(`- ${line}${origin === "earlier" ? " (from an earlier round; keep it working)" : ""}`);
  };

  for (const title of contract.titles) {
    add(title.match === "exact" ? `document.title must be exactly ${JSON.stringify(title.text)}` : `document.title must contain ${JSON.stringify(title.text)}`, title.origin);
  }
  for (const element of contract.elementIds) {
    const parts = [`Element #${element.id} must exist`];
    if (element.tag) parts.push(`and be a <${element.tag}>`);
    const attributes = describeAttributes(element.attributes);
    if (attributes) parts.push(`with ${attributes}`);
    add(parts.join(" "), element.origin);
  }
  for (const { selector, origin } of contract.selectors) {
    // Plain `#id`, `script` and `[src*=…]` selectors are already said more precisely above/below.
    if (wholeElementSelector(selector) || /^script$/i.test(selector) || /\[\s*(?:src|href|data-src)\s*[*^$]?=/.test(selector)) continue;
    add(`Selector ${JSON.stringify(selector)} must match elements once the page has finished rendering`, origin);
  }
  for (const required of contract.strings) {
    add(`${capitalize(describeScope(required.scope))} ${matchWords[required.match]} ${JSON.stringify(required.text)}`, required.origin);
  }
  for (const library of contract.libraries) {
    const version = library.version ? ` ${library.version}` : "";
    const cdn = library.cdn ? ` from ${library.cdn}` : " from a CDN";
    add(`Load ${library.name}${version}${cdn}`, library.origin);
  }
  for (const asset of contract.assets) {
    const operator = { contains: "containing", "starts-with": "starting with", "ends-with": "ending with", equals: "equal to" }[asset.operator];
    add(`A <${asset.element === "*" ? "element" : asset.element}> with ${asset.attribute} ${operator} ${JSON.stringify(asset.value)} must be in the HTML`, asset.origin);
  }
  for (const file of contract.files) {
    if (file.source === "attachment" && contract.editableAttachments.includes(file.path)) {
      add(`Attachment ${file.path} is a file to edit: change it as the brief asks and return the complete edited file under the same path`, file.origin);
    } else if (file.source === "attachment") {
      add(`Keep attachment ${file.path} next to index.html, unchanged, and load it by relative path (fetch("${file.path}"), never "/${file.path}")`, file.origin);
    } else if (file.fetchFrom) {
      add(`Create ${file.path} with the content fetched from ${file.fetchFrom} (fetch it at build time and commit it)`, file.origin);
    } else if (file.path === "LICENSE" || file.path === "README.md") {
      continue; // described by the repository checks below
    } else {
      add(`File ${file.path} must exist in the repository`, file.origin);
    }
  }
  for (const parameter of contract.queryParameters) {
    add(`Read the query parameter ?${parameter}= from location.search (new URLSearchParams(location.search).get(${JSON.stringify(parameter)}))`, "current");
  }
  // Rules from checks and briefs alike, once each (the contract merged repeats across rounds).
  // Titles, ids and listed files are said above already; the rest is what the verifier holds the files to.
  for (const { rule, origin } of contract.rules) {
    if (rule.kind === "title" || rule.kind === "element-id") continue;
    if (rule.kind === "file-exists" && contract.files.some((file) => file.path === rule.path)) continue;
    add(`${rule.kind === "plain-numbers" ? "Page" : "Repository"}: ${describeContentRule(rule)}`, origin);
  }
  for (const check of contract.checks) {
    if (check.kind === "natural") add(`Must hold (judged by a person or model): ${check.text}`, check.origin);
  }

  const jsChecks = contract.checks.filter((check) => check.kind === "js");
  if (jsChecks.length > 0) {
    lines.push("- These JavaScript expressions are evaluated in the deployed page after its own fetches finish; each must be truthy:");
    for (const check of jsChecks) lines.push(`  - ${check.id}: ${check.expression}`);
  }

  if (contract.attachments.length > 0) {
    lines.push(
      contract.editableAttachments.length > 0
        ? `Attachments (committed byte-for-byte under these names, except ${contract.editableAttachments.join(", ")}, which you edit):`
        : "Attachments (committed byte-for-byte under these names):",
    );
    for (const attachment of contract.attachments) {
      lines.push(`- ${attachment.name} (${attachment.mimeType}, ${attachment.size} bytes)`);
      for (const previewLine of attachment.preview.split("\n")) lines.push(`    ${previewLine}`);
    }
  }
  return lines.join("\n");
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
