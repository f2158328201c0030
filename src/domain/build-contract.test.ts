import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeAttachment, type DecodedAttachment } from "./attachment.ts";
import { buildContract, repositoryRuleOf, type BuildContract, type BuildContractInput } from "./build-contract.ts";
import { renderObligations } from "./render-obligations.ts";
import { normalizeChecks } from "./check.ts";
import type { RawAttachment, RawCheck } from "./task.ts";
import { sharedFixtures } from "../../test/support/shared-dir.ts";

const tasksDir = join(sharedFixtures, "tasks");

interface FixtureRequest {
  task: string;
  round: number;
  brief: string;
  checks: RawCheck[];
  attachments?: RawAttachment[];
}

const requests: Array<{ file: string; request: FixtureRequest }> = readdirSync(tasksDir)
  .filter((file) => file.endsWith(".json"))
  .sort()
  .map((file) => ({ file, request: JSON.parse(readFileSync(join(tasksDir, file), "utf8")) as FixtureRequest }));

/** The contract the pipeline would build: earlier rounds of the same task included. */
function contractFor(request: FixtureRequest): BuildContract {
  const earlier = requests
    .map((r) => r.request)
    .filter((r) => r.task === request.task && r.round < request.round)
    .sort((a, b) => a.round - b.round)
    .map((r) => ({ brief: r.brief, checks: normalizeChecks(r.checks) }));
  return buildContract({
    brief: request.brief,
    checks: normalizeChecks(request.checks),
    attachments: (request.attachments ?? []).map((a) => decodeAttachment(a, 1_000_000)),
    earlier,
  });
}

function contractOf(brief: string, checks: RawCheck[] = [], attachments: DecodedAttachment[] = [], earlier?: BuildContractInput["earlier"]): BuildContract {
  return buildContract({ brief, checks: normalizeChecks(checks), attachments, earlier });
}

const ids = (contract: BuildContract) => contract.elementIds.map((e) => e.id);
const element = (contract: BuildContract, id: string) => contract.elementIds.find((e) => e.id === id);
const files = (contract: BuildContract) => contract.files.map((f) => f.path);
const file = (contract: BuildContract, path: string) => contract.files.find((f) => f.path === path);

// What each shared fixture request must yield. Every id, title and file its checks need.
const expectations: Record<string, {
  ids: string[];
  tags?: Record<string, string>;
  attributes?: Record<string, Record<string, string | undefined>>;
  titles?: string[];
  strings?: Array<{ text: string; scope: string }>;
  libraries?: Array<{ key: string; version?: string; cdn?: string }>;
  files?: Array<{ path: string; source: string }>;
  queryParameters?: string[];
  repository?: string[];
}> = {
  "sum-of-sales-r1.json": {
    ids: ["total-sales"],
    titles: ["Sales Summary 7f3a9"],
    libraries: [{ key: "bootstrap", version: "5", cdn: "jsdelivr" }],
    files: [{ path: "data.csv", source: "attachment" }, { path: "LICENSE", source: "check" }, { path: "README.md", source: "check" }],
    repository: ["mit-license", "readme-quality"],
  },
  "sum-of-sales-r2.json": {
    ids: ["product-sales", "total-sales"],
    tags: { "product-sales": "table" },
    titles: ["Sales Summary 7f3a9"],
    libraries: [{ key: "bootstrap", version: "5", cdn: "jsdelivr" }],
    files: [{ path: "data.csv", source: "brief" }],
    repository: ["readme-quality", "mit-license"],
  },
  "markdown-to-html-r1.json": {
    ids: ["markdown-output"],
    strings: [{ text: "<h", scope: "element" }],
    libraries: [{ key: "marked" }, { key: "highlight.js" }],
    files: [{ path: "input.md", source: "attachment" }, { path: "LICENSE", source: "check" }],
    repository: ["mit-license"],
  },
  "markdown-to-html-r2.json": {
    ids: ["markdown-word-count", "markdown-output"],
    strings: [{ text: "Intl.NumberFormat", scope: "any-script" }],
    libraries: [{ key: "marked" }, { key: "highlight.js" }],
    files: [{ path: "input.md", source: "brief" }],
  },
  "github-user-created-r1.json": {
    ids: ["github-user-9e0b4", "github-created-at"],
    tags: { "github-user-9e0b4": "form" },
    strings: [{ text: "https://api.github.com/users/", scope: "first-script" }],
    libraries: [{ key: "bootstrap" }],
    queryParameters: ["token"],
    repository: ["mit-license", "readme-quality"],
  },
  "github-user-created-r2.json": {
    ids: ["github-status", "github-user-9e0b4", "github-created-at"],
    tags: { "github-user-9e0b4": "form" },
    attributes: { "github-status": { "aria-live": "polite" } },
    strings: [{ text: "github-status", scope: "first-script" }, { text: "https://api.github.com/users/", scope: "first-script" }],
    queryParameters: ["token"],
  },
};

describe("buildContract on every shared fixture request", () => {
  it("has an expectation for every fixture file", () => {
    expect(requests.map((r) => r.file).sort()).toEqual(Object.keys(expectations).sort());
  });

  it.each(requests)("$file", ({ file: name, request }) => {
    const contract = contractFor(request);
    const expected = expectations[name]!;

    expect(ids(contract)).toEqual(expect.arrayContaining(expected.ids));
    for (const [id, tag] of Object.entries(expected.tags ?? {})) expect(element(contract, id)?.tag).toBe(tag);
    for (const [id, attributes] of Object.entries(expected.attributes ?? {})) expect(element(contract, id)?.attributes).toEqual(attributes);
    expect(contract.titles.filter((t) => t.match === "exact").map((t) => t.text)).toEqual(expected.titles ?? []);
    for (const s of expected.strings ?? []) {
      expect(contract.strings.some((r) => r.text === s.text && r.scope.kind === s.scope), `string ${s.text} in ${s.scope}`).toBe(true);
    }
    for (const library of expected.libraries ?? []) {
      expect(contract.libraries).toContainEqual(expect.objectContaining({ key: library.key, version: library.version, cdn: library.cdn }));
    }
    for (const f of expected.files ?? []) expect(file(contract, f.path)?.source, f.path).toBe(f.source);
    expect(contract.queryParameters).toEqual(expected.queryParameters ?? []);
    const repositoryKinds = contract.checks.filter((c) => c.kind === "repository").map((c) => (c.kind === "repository" ? c.rule.kind : ""));
    for (const kind of expected.repository ?? []) expect(repositoryKinds).toContain(kind);
  });

  // Independent of the table above: whatever a JS check queries by id, the contract names.
  it.each(requests)("$file: every #id a check queries and every attachment is in the contract", ({ request }) => {
    const contract = contractFor(request);
    for (const check of request.checks) {
      const text = typeof check === "string" ? check : check.js;
      for (const m of text.matchAll(/#([A-Za-z][\w-]*)/g)) expect(ids(contract)).toContain(m[1]);
      const title = /document\.title === [`"'](.+?)[`"']/.exec(text)?.[1];
      if (title) expect(contract.titles.map((t) => t.text)).toContain(title);
    }
    for (const attachment of request.attachments ?? []) expect(files(contract)).toContain(attachment.name);
    expect(contract.attachments.map((a) => a.name)).toEqual((request.attachments ?? []).map((a) => a.name));
  });

  it.each(requests)("$file: renders every id, title and attachment into the obligations", ({ request }) => {
    const contract = contractFor(request);
    const text = renderObligations(contract);
    for (const e of contract.elementIds) expect(text).toContain(`#${e.id}`);
    for (const t of contract.titles) expect(text).toContain(JSON.stringify(t.text));
    for (const a of contract.attachments) expect(text).toContain(a.name);
    expect(renderObligations(contractFor(request))).toBe(text); // deterministic
  });

  it("does not leak a later round's ids into round 1 (the scripted LLM matches on them)", () => {
    const r1 = requests.find((r) => r.file === "sum-of-sales-r1.json")!.request;
    expect(renderObligations(contractFor(r1))).not.toContain("#product-sales");
  });

  it("classifies the fixture checks: JS expressions, repository rules", () => {
    const r1 = requests.find((r) => r.file === "github-user-created-r1.json")!.request;
    expect(contractFor(r1).checks.map((c) => c.kind)).toEqual(["js", "js", "repository", "repository"]);
  });
});

describe("renderObligations", () => {
  it("spells out the sum-of-sales round 1 obligations", () => {
    const r1 = requests.find((r) => r.file === "sum-of-sales-r1.json")!.request;
    const text = renderObligations(contractFor(r1));
    expect(text).toContain('- document.title must be exactly "Sales Summary 7f3a9"');
    expect(text).toContain("- Element #total-sales must exist");
    expect(text).toContain("- Load Bootstrap 5 from jsdelivr");
    expect(text).toContain("- Keep attachment data.csv next to index.html");
    expect(text).toContain("header: product,region,sales");
    expect(text).toContain("c3: document.title === `Sales Summary 7f3a9`");
  });

  it("warns that document.querySelector(\"script\") reads only the first script", () => {
    const r1 = requests.find((r) => r.file === "github-user-created-r1.json")!.request;
    const text = renderObligations(contractFor(r1));
    expect(text).toMatch(/FIRST <script>.*must contain "https:\/\/api\.github\.com\/users\/"/);
    expect(text).toContain("- Element #github-user-9e0b4 must exist and be a <form>");
    expect(text).toContain("?token=");
  });

  it("marks earlier-round obligations and says each repository rule once", () => {
    const r2 = requests.find((r) => r.file === "sum-of-sales-r2.json")!.request;
    const text = renderObligations(contractFor(r2));
    expect(text).toContain('document.title must be exactly "Sales Summary 7f3a9" (from an earlier round; keep it working)');
    expect(text.match(/README\.md \(summary/g)).toHaveLength(1);
    expect(text).toContain("- Element #product-sales must exist and be a <table>");
  });

  it("describes fetched files, created files, natural checks and attributes", () => {
    const contract = contractOf(
      "Fetch https://api.example.com/v1/items.json and save the result as data.json. Create uid.txt with the seed. Show #status.",
      ['document.querySelector("#status").getAttribute("role") === "status"', "Page displays the captcha text within 15 seconds"],
    );
    const text = renderObligations(contract);
    expect(text).toContain("- Create data.json with the content fetched from https://api.example.com/v1/items.json");
    expect(text).toContain("- File uid.txt must exist in the repository");
    expect(text).toContain('- Element #status must exist with role="status"');
    expect(text).toContain("- Must hold (judged by a person or model): Page displays the captcha text within 15 seconds");
  });
});

describe("buildContract on invented briefs", () => {
  it("records a URL to fetch at build time and the file to save it in, not the URL's own file name", () => {
    const contract = contractOf("Fetch https://api.example.com/v1/items.json and save it as data.json, then list the items in #items.");
    expect(file(contract, "data.json")).toEqual({ path: "data.json", source: "brief", fetchFrom: "https://api.example.com/v1/items.json", origin: "current" });
    expect(files(contract)).not.toContain("items.json");
    expect(contract.urls).toEqual(["https://api.example.com/v1/items.json"]);
    expect(ids(contract)).toEqual(["items"]);
  });

  it("lists files the brief says to create, and skips library names that look like files", () => {
    const contract = contractOf("Create uid.txt with the seed, write about.md describing the app, render charts with Chart.js 4 and highlight.js, keep LICENSE.");
    expect(files(contract)).toEqual(["uid.txt", "about.md", "LICENSE"]);
    expect(contract.libraries.map((l) => [l.key, l.version])).toEqual([["highlight.js", undefined], ["chart.js", "4"]]);
  });

  it("reads versions and a CDN for several libraries", () => {
    const contract = contractOf("Use D3 v7 and Tailwind from cdnjs; typeset formulas with KaTeX 0.16 and load jQuery 3.7.1.");
    expect(contract.libraries.map((l) => ({ key: l.key, version: l.version, cdn: l.cdn }))).toEqual([
      { key: "tailwind", version: undefined, cdn: "cdnjs" },
      { key: "jquery", version: "3.7.1", cdn: "cdnjs" },
      { key: "d3", version: "7", cdn: "cdnjs" },
      { key: "katex", version: "0.16", cdn: "cdnjs" },
    ]);
    expect(contract.cdn).toBe("cdnjs");
  });

  it("does not take English words, colours or issue numbers for libraries or ids", () => {
    const contract = contractOf("Tasks marked as done turn #fff on a #1 priority list; react to clicks.", []);
    expect(contract.libraries).toEqual([]);
    expect(contract.elementIds).toEqual([]);
  });

  it("reads titles from prose and from every quoting style in checks", () => {
    expect(contractOf('Set the page title to "Weather 42".').titles).toEqual([{ text: "Weather 42", match: "exact", origin: "current" }]);
    expect(contractOf('A page titled "Quiz Time" with a score.').titles.map((t) => t.text)).toEqual(["Quiz Time"]);
    expect(contractOf('Use the title "Converter" for the page.').titles.map((t) => t.text)).toEqual(["Converter"]);
    // A card's or a chart's title is not document.title.
    expect(contractOf('Show a Bootstrap card with the title "Total" and a chart titled "Sales".').titles).toEqual([]);
    expect(contractOf("x", ["js: document.title === 'Quiz'"]).titles[0]).toMatchObject({ text: "Quiz", match: "exact" });
    expect(contractOf("x", ['js: "Quiz" === document.title']).titles[0]).toMatchObject({ text: "Quiz", match: "exact" });
    expect(contractOf("x", ['js: document.title.includes("Captcha")']).titles[0]).toMatchObject({ text: "Captcha", match: "includes" });
    // An interpolated template is not a fixed title.
    expect(contractOf("x", ["js: document.title === `Hi ${name}`"]).titles).toEqual([]);
  });

  it("reads ids from getElementById, id=x and selector lists", () => {
    const contract = contractOf("Add a button id=refresh and a canvas with id 'plot'.", [
      "js: !!document.getElementById('result')",
      'js: document.querySelectorAll("#list li, #summary > p").length > 0',
      'js: document.querySelector("#result").textContent.trim() === "42"',
    ]);
    expect(ids(contract)).toEqual(["refresh", "plot", "result", "list", "summary"]);
    expect(element(contract, "refresh")?.tag).toBe("button");
    expect(element(contract, "plot")?.tag).toBe("canvas");
    expect(contract.elementIds.map((e) => [e.id, e.fromCheck])).toEqual([["refresh", false], ["plot", false], ["result", true], ["list", true], ["summary", true]]);
    expect(contract.strings).toContainEqual({ text: "42", match: "equals", scope: { kind: "element", selector: "#result", property: "textContent" }, origin: "current" });
  });

  it("reads query parameters from prose and from checks", () => {
    const contract = contractOf("Accept ?url= and the query parameter `theme`; ignore https://x.test/?key=1.", ['js: new URLSearchParams(location.search).has("q") || !!document.body']);
    expect(contract.queryParameters).toEqual(["url", "theme", "q"]);
  });

  it("takes files a check fetches or a selector names", () => {
    const contract = contractOf("x", ['js: fetch("data.json").then((r) => r.ok)', "js: !!document.querySelector(\"script[src$='app.js']\")"]);
    expect(files(contract)).toEqual(["data.json", "app.js"]);
    expect(contract.assets).toEqual([{ element: "script", attribute: "src", operator: "ends-with", value: "app.js", origin: "current" }]);
  });

  it("classifies repository checks, including an SVG check", () => {
    const contract = contractOf("Draw a logo.", [
      "logo.svg is a valid SVG",
      "data.json is valid JSON",
      "uid.txt matches the attachment exactly",
      "about.md exists in the repository",
      "No secrets are committed to the repository",
      "Repo has MIT license",
      "README.md explains usage",
      "The app works without an API key",
    ]);
    expect(contract.checks.map((c) => (c.kind === "repository" ? c.rule : c.kind))).toEqual([
      { kind: "parses", path: "logo.svg", format: "svg" },
      { kind: "parses", path: "data.json", format: "json" },
      { kind: "file-matches-attachment", path: "uid.txt" },
      { kind: "file-exists", path: "about.md" },
      { kind: "no-secrets" },
      { kind: "mit-license" },
      { kind: "readme-quality" },
      "natural",
    ]);
    expect(files(contract)).toEqual(expect.arrayContaining(["logo.svg", "data.json", "uid.txt", "about.md", "LICENSE", "README.md"]));
  });

  it("keeps earlier rounds' obligations, marked as earlier, and current ones first", () => {
    const contract = contractOf("Add #b.", ['js: !!document.querySelector("#b")'], [], [{ brief: "Show #a.", checks: normalizeChecks(['js: !!document.querySelector("#a")']) }]);
    expect(contract.elementIds.map((e) => [e.id, e.origin])).toEqual([["b", "current"], ["a", "earlier"]]);
    expect(contract.checks.map((c) => c.id)).toEqual(["c1", "earlier1.c1"]);
  });

  it("is pure: the same input gives an equal contract", () => {
    const r = requests[0]!.request;
    expect(contractFor(r)).toEqual(contractFor(r));
  });
});

describe("repositoryRuleOf", () => {
  it.each([
    ["Repo has MIT license", { kind: "mit-license" }],
    ["README.md is professional", { kind: "readme-quality" }],
    ["README.md is updated for the new feature", { kind: "readme-quality" }],
    ["README.md has a usage section", { kind: "readme-quality" }],
    ["LICENSE file exists", { kind: "file-exists", path: "LICENSE" }],
    ["Page displays the captcha text within 15 seconds", undefined],
  ])("%s", (text, rule) => {
    expect(repositoryRuleOf(text)).toEqual(rule);
  });
});
