import { describe, expect, it } from "vitest";
import { briefRulesOf, contentRuleOf, describeContentRule, numberOf, wordBoundsIn, type ContentRule } from "./content-rules.ts";
import type { JsonShape } from "./json-shape.ts";

// Course-like phrasings, written for these tests (no course text): each must map onto exactly
// the rule shown, as a check (contentRuleOf) or, in the brief tables, as a brief sentence.

const words = (path: string, min: number | undefined, max: number | undefined): ContentRule => ({ kind: "word-count", path, min, max });

const wordChecks: Array<[string, ContentRule]> = [
  ["story.md has 300-400 words", words("story.md", 300, 400)],
  ["story.md contains between 300 and 400 words", words("story.md", 300, 400)],
  ["tale.md is 250 to 350 words long", words("tale.md", 250, 350)],
  ["essay.txt: 500–600 words", words("essay.txt", 500, 600)],
  ["poem.md has a word count of 40-60", words("poem.md", 40, 60)],
  ["notes/summary.md is a 120-150 word summary", words("notes/summary.md", 120, 150)],
  ["about.md contains exactly three words", words("about.md", 3, 3)],
  ["bio.txt has exactly 5 words", words("bio.txt", 5, 5)],
  ["`motto.md` is exactly twelve words", words("motto.md", 12, 12)],
  ["about.md describes the author in three words", words("about.md", 3, 3)],
  ["tagline.txt has a word count of 7", words("tagline.txt", 7, 7)],
  ["intro.md has at least 200 words", words("intro.md", 200, undefined)],
  ["intro.md has a minimum of 150 words", words("intro.md", 150, undefined)],
  ["report.md has no fewer than one hundred words", words("report.md", 100, undefined)],
  ["review.md has 80+ words", words("review.md", 80, undefined)],
  ["review.md is more than 50 words", words("review.md", 51, undefined)],
  ["summary.md has at most 100 words", words("summary.md", undefined, 100)],
  ["summary.md is no more than 60 words", words("summary.md", undefined, 60)],
  ["abstract.txt is under 150 words", words("abstract.txt", undefined, 149)],
  ["caption.txt has fewer than 20 words", words("caption.txt", undefined, 19)],
  ["caption.md has up to twenty-five words", words("caption.md", undefined, 25)],
  ["The word count of story.md must be between 1,000 and 1,200 words", words("story.md", 1000, 1200)],
  ["haiku.txt is a seventeen-word poem", words("haiku.txt", 17, 17)],
];

const shape = (...fields: Array<[string, JsonShape]>): JsonShape => ({ kind: "object", fields: fields.map(([key, s]) => ({ key, shape: s })) });
const t = (type: "string" | "number" | "integer" | "boolean" | "array" | "object" | "any"): JsonShape => ({ kind: "type", type });
const lit = (value: string | number | boolean | null): JsonShape => ({ kind: "literal", value });
const json = (path: string, s: JsonShape): ContentRule => ({ kind: "json-shape", path, shape: s });
const maxFy = shape(["max", shape(["val", t("number")], ["fy", t("string")])]);

const jsonChecks: Array<[string, ContentRule]> = [
  ["data.json has 'max' object with 'val' (number) and 'fy' (string) fields", json("data.json", maxFy)],
  ['data.json has a "max" object with "val" (number) and "fy" (string)', json("data.json", maxFy)],
  ["stats.json has 'min' object with 'val' (number) and 'fy' (string) fields, and 'max' object with 'val' (number) and 'fy' (string) fields", json("stats.json", shape(["min", shape(["val", t("number")], ["fy", t("string")])], ["max", shape(["val", t("number")], ["fy", t("string")])]))],
  ["ethics.json has 'people' equal to 3", json("ethics.json", shape(["people", lit(3)]))],
  ["ethics.json has key 'people' = 3", json("ethics.json", shape(["people", lit(3)]))],
  ["choice.json has a 'swerve' (boolean) field and a 'reason' (string) field", json("choice.json", shape(["swerve", t("boolean")], ["reason", t("string")]))],
  ["profile.json has keys 'name', 'age' and 'city'", json("profile.json", shape(["name", t("any")], ["age", t("any")], ["city", t("any")]))],
  ["profile.json has fields `name` (string) and `age` (integer)", json("profile.json", shape(["name", t("string")], ["age", t("integer")]))],
  ["config.json contains a 'debug' field of type bool", json("config.json", shape(["debug", t("boolean")]))],
  ["score.json has 'total' as a number", json("score.json", shape(["total", t("number")]))],
  ["score.json has a number field 'total'", json("score.json", shape(["total", t("number")]))],
  ["tags.json has a 'tags' (list) property", json("tags.json", shape(["tags", t("array")]))],
  ["answer.json matches {answer: 42, unit: str}", json("answer.json", shape(["answer", lit(42)], ["unit", t("string")]))],
  ["answer.json looks like {\"answer\": int, \"ok\": bool}", json("answer.json", shape(["answer", t("integer")], ["ok", t("boolean")]))],
  ["case.json has the structure {case_1: {swerve: bool, reason: str}}", json("case.json", shape(["case_1", shape(["swerve", t("boolean")], ["reason", t("string")])]))],
  ["result.json contains {count: int, items: [str]}", json("result.json", shape(["count", t("integer")], ["items", { kind: "array", items: t("string") }]))],
  ["meta.json has 'version' set to \"1.0\"", json("meta.json", shape(["version", lit("1.0")]))],
  ["meta.json has a 'published' key with value true", json("meta.json", shape(["published", lit(true)]))],
  ["summary.json has 'mean': number and 'median': number", json("summary.json", shape(["mean", t("number")], ["median", t("number")]))],
  ["summary.json has the fields 'mean' and 'median'", json("summary.json", shape(["mean", t("any")], ["median", t("any")]))],
  ["out/report.json has an 'entries' array field", json("out/report.json", shape(["entries", t("array")]))],
];

const parseChecks: Array<[string, ContentRule]> = [
  ["logo.svg is a valid SVG", { kind: "parses", path: "logo.svg", format: "svg" }],
  ["icon.svg is well-formed SVG", { kind: "parses", path: "icon.svg", format: "svg" }],
  ["badge.svg parses as SVG", { kind: "parses", path: "badge.svg", format: "svg" }],
  ["art/cat.svg is a valid SVG image", { kind: "parses", path: "art/cat.svg", format: "svg" }],
  ["chart.svg renders as an SVG", { kind: "parses", path: "chart.svg", format: "svg" }],
  ["data.json is valid JSON", { kind: "parses", path: "data.json", format: "json" }],
  ["config.json parses", { kind: "parses", path: "config.json", format: "json" }],
  ["people.json is parseable JSON", { kind: "parses", path: "people.json", format: "json" }],
  ["out.json is syntactically valid", { kind: "parses", path: "out.json", format: "json" }],
  ["feed.xml is well-formed XML", { kind: "parses", path: "feed.xml", format: "xml" }],
  ["sitemap.xml is valid XML", { kind: "parses", path: "sitemap.xml", format: "xml" }],
  ["rss.xml parses as XML", { kind: "parses", path: "rss.xml", format: "xml" }],
  ["data.csv is valid CSV", { kind: "parses", path: "data.csv", format: "csv" }],
  ["rates.csv parses as CSV", { kind: "parses", path: "rates.csv", format: "csv" }],
  ["table.csv is a well-formed CSV file", { kind: "parses", path: "table.csv", format: "csv" }],
  ["export/sales.csv is a proper CSV", { kind: "parses", path: "export/sales.csv", format: "csv" }],
  ["`summary.csv` is readable CSV", { kind: "parses", path: "summary.csv", format: "csv" }],
  ["The committed logo.svg is valid", { kind: "parses", path: "logo.svg", format: "svg" }],
  ["The file shapes.svg must be a valid SVG document", { kind: "parses", path: "shapes.svg", format: "svg" }],
  ["Check that list.json is valid JSON", { kind: "parses", path: "list.json", format: "json" }],
];

const existsChecks: Array<[string, ContentRule]> = [
  ["about.md exists in the repository", { kind: "file-exists", path: "about.md" }],
  ["story.md exists", { kind: "file-exists", path: "story.md" }],
  ["The repo has notes.txt", { kind: "file-exists", path: "notes.txt" }],
  ["Repository contains a file uid.txt", { kind: "file-exists", path: "uid.txt" }],
  ["data.csv is committed", { kind: "file-exists", path: "data.csv" }],
  ["`execute.py` is present", { kind: "file-exists", path: "execute.py" }],
  ["styles/site.css is in the repository", { kind: "file-exists", path: "styles/site.css" }],
  ["index.html is present at the root", { kind: "file-exists", path: "index.html" }],
  ["LICENSE file exists", { kind: "file-exists", path: "LICENSE" }],
  ["The repository includes .github/workflows/ci.yml", { kind: "file-exists", path: ".github/workflows/ci.yml" }],
  ["There is a results.csv committed", { kind: "file-exists", path: "results.csv" }],
  ["Repo has logo.png", { kind: "file-exists", path: "logo.png" }],
  ["app.js exists next to index.html", { kind: "file-exists", path: "app.js" }],
  ["The commit contains report.pdf", { kind: "file-exists", path: "report.pdf" }],
  ["A file named contact.txt is present", { kind: "file-exists", path: "contact.txt" }],
  ["data.json is available in the repo", { kind: "file-exists", path: "data.json" }],
  ["schedule.ics exists at the repository root", { kind: "file-exists", path: "schedule.ics" }],
  ["The repository has README.md", { kind: "file-exists", path: "README.md" }],
  ["main.py is committed to the repository", { kind: "file-exists", path: "main.py" }],
  ["robots.txt ships with the site", { kind: "file-exists", path: "robots.txt" }],
];

const absentChecks: Array<[string, ContentRule]> = [
  ["result.json is NOT committed", { kind: "file-absent", path: "result.json" }],
  ["result.json is not committed", { kind: "file-absent", path: "result.json" }],
  ["Do not commit output.csv", { kind: "file-absent", path: "output.csv" }],
  ["Don't commit build.log", { kind: "file-absent", path: "build.log" }],
  ["out.json must not be committed", { kind: "file-absent", path: "out.json" }],
  ["out.json should not be in the repository", { kind: "file-absent", path: "out.json" }],
  ["result.json must not be in the repo", { kind: "file-absent", path: "result.json" }],
  ["The repo does not contain result.json", { kind: "file-absent", path: "result.json" }],
  ["Never commit debug.log", { kind: "file-absent", path: "debug.log" }],
  ["result.json isn't committed", { kind: "file-absent", path: "result.json" }],
  ["result.json is absent from the repository", { kind: "file-absent", path: "result.json" }],
  ["result.json is gitignored", { kind: "file-absent", path: "result.json" }],
  ["Exclude cache.json from the repository", { kind: "file-absent", path: "cache.json" }],
  ["Keep temp.csv out of the repo", { kind: "file-absent", path: "temp.csv" }],
  ["result.json should never be pushed", { kind: "file-absent", path: "result.json" }],
  ["output.txt must not exist in the commit", { kind: "file-absent", path: "output.txt" }],
  ["The commit must not include result.json", { kind: "file-absent", path: "result.json" }],
  ["Without committing result.json", { kind: "file-absent", path: "result.json" }],
  ["result.json is not checked in", { kind: "file-absent", path: "result.json" }],
  ["result.json is not part of the commit, it is not tracked in git", { kind: "file-absent", path: "result.json" }],
];

const linkChecks: Array<[string, ContentRule]> = [
  ["index.html links to every file", { kind: "links-every-file", page: "index.html" }],
  ["index.html links to all files", { kind: "links-every-file", page: "index.html" }],
  ["index.html links to all the other files", { kind: "links-every-file", page: "index.html" }],
  ["index.html has links to each of the other files", { kind: "links-every-file", page: "index.html" }],
  ["The homepage links to every file", { kind: "links-every-file", page: "index.html" }],
  ["The home page links to all files in the repo", { kind: "links-every-file", page: "index.html" }],
  ["home.html links to every other file", { kind: "links-every-file", page: "home.html" }],
  ["The landing page links to each file", { kind: "links-every-file", page: "index.html" }],
  ["index.html links to every generated file", { kind: "links-every-file", page: "index.html" }],
  ["index.html lists each file with a link", { kind: "links-every-file", page: "index.html" }],
  ["The index page has a link to each file", { kind: "links-every-file", page: "index.html" }],
  ["index.html provides links to all of the files", { kind: "links-every-file", page: "index.html" }],
  ["The main page links to every document", { kind: "links-every-file", page: "index.html" }],
  ["Homepage linking all files", { kind: "links-every-file", page: "index.html" }],
  ["index.html links every file", { kind: "links-every-file", page: "index.html" }],
  ["The site's index.html contains links to all files", { kind: "links-every-file", page: "index.html" }],
  ["There is a homepage with links to every file", { kind: "links-every-file", page: "index.html" }],
  ["index.html hyperlinks to every file in the bundle", { kind: "links-every-file", page: "index.html" }],
  ["The front page links to all other pages", { kind: "links-every-file", page: "index.html" }],
  ["pages/index.html links to all files", { kind: "links-every-file", page: "pages/index.html" }],
];

const title = (text: string): ContentRule => ({ kind: "title", text });
const titleChecks: Array<[string, ContentRule]> = [
  ["The <title> is exactly 'Quarterly Figures'", title("Quarterly Figures")],
  ['The page title is "Tip Splitter"', title("Tip Splitter")],
  ["Page title must be `Orbit Tracker`", title("Orbit Tracker")],
  ['<title> equals "Reading List"', title("Reading List")],
  ["The document title reads 'Garden Planner'", title("Garden Planner")],
  ['Title: "Weather Now"', title("Weather Now")],
  ["The title should be 'Budget 2025'", title("Budget 2025")],
  ['document.title is "Metro Map"', title("Metro Map")],
  ["The browser tab title is 'Chess Clock'", title("Chess Clock")],
  ['The HTML title is exactly "Recipe Box"', title("Recipe Box")],
  ["The title tag is 'Habit Tracker'", title("Habit Tracker")],
  ['The site title must be "Pixel Editor"', title("Pixel Editor")],
  ["The <title> must be 'ACME Corp 10-K Facts'", title("ACME Corp 10-K Facts")],
  ['The title of the page is "Moon Phases"', title("Moon Phases")],
  ["The title element is “Flash Cards”", title("Flash Cards")],
  ['Window title = "Color Mixer"', title("Color Mixer")],
  ["The <title> is set to 'Word Counter'", title("Word Counter")],
  ['The page title equals "Unit Converter"', title("Unit Converter")],
  ["Page title should be 'Daily Quote'", title("Daily Quote")],
  ['The tab title matches "Pomodoro"', title("Pomodoro")],
];

const id = (value: string): ContentRule => ({ kind: "element-id", id: value });
const idChecks: Array<[string, ContentRule]> = [
  ["The page has an element with id 'total'", id("total")],
  ['The page contains an element with id "share-count"', id("share-count")],
  ["There is an element with the id `result`", id("result")],
  ["The page has a table with id 'facts'", id("facts")],
  ['index.html has a div with id "chart"', id("chart")],
  ["#company-name exists", id("company-name")],
  ["#max-value is present", id("max-value")],
  ["#min-value is in the page", id("min-value")],
  ["An element with id=summary exists", id("summary")],
  ["The page includes a canvas with id 'plot'", id("plot")],
  ['Page has a button with id "refresh"', id("refresh")],
  ["The page shows an element with id 'status'", id("status")],
  ["The page renders a section with id 'about'", id("about")],
  ['The HTML contains an element with id="score"', id("score")],
  ["The page has a form with id 'login'", id("login")],
  ["There is a span with id 'clock'", id("clock")],
  ["index.html contains an element with the id 'map'", id("map")],
  ["#output is rendered", id("output")],
  ["The page has an element with id 'answer'", id("answer")],
  ["The page has a container with id 'cards'", id("cards")],
];

const plainChecks: Array<[string, ContentRule]> = [
  ["Numbers are shown without thousands separators", { kind: "plain-numbers" }],
  ["Values are displayed without commas", { kind: "plain-numbers" }],
  ["The page shows plain numbers", { kind: "plain-numbers" }],
  ["Numbers are displayed plainly", { kind: "plain-numbers" }],
  ["Figures are shown as plain integers", { kind: "plain-numbers" }],
  ["Amounts are rendered unformatted", { kind: "plain-numbers" }],
  ["No thousands separators in displayed values", { kind: "plain-numbers" }],
  ["Values must be shown as raw numbers", { kind: "plain-numbers" }],
  ["Integers are written plainly on the page", { kind: "plain-numbers" }],
  ["The page uses raw numeric values", { kind: "plain-numbers" }],
  ["Numbers must be displayed without digit grouping", { kind: "plain-numbers" }],
  ["Show unformatted numbers", { kind: "plain-numbers" }],
  ["The totals are printed plainly", { kind: "plain-numbers" }],
  ["Values should be displayed as plain numbers", { kind: "plain-numbers" }],
  ["Do not use thousands separators", { kind: "plain-numbers" }],
  ["Numbers appear free of thousands separators", { kind: "plain-numbers" }],
  ["Never use comma separators in numbers", { kind: "plain-numbers" }],
  ["Displayed figures are raw digits, no grouping", { kind: "plain-numbers" }],
  ["Numbers are not locale formatted", { kind: "plain-numbers" }],
  ["Show the values as plain integers without separators", { kind: "plain-numbers" }],
];

// Phrases that must stay natural-language checks (advisory, model-derived): no rule.
const negativeChecks: string[] = [
  "story.md is about 300 words",
  "story.md is roughly 500 words long",
  "The story is engaging and well written",
  "The story has a clear ending",
  "The page displays the captcha text within 15 seconds",
  "The app counts words per minute",
  "The page shows the word count of the input",
  "about.md is written in a friendly tone",
  "The page uses Bootstrap 5 from jsdelivr",
  "The chart is colourful",
  "Keyboard shortcuts work",
  "The data is fetched from the API without reloading",
  "Results are sorted by date",
  "The table has a header row",
  "Uses a password field for the key",
  "The page is responsive on mobile",
  "Links open in a new tab",
  "The title is descriptive",
  "The SVG looks like a cat",
  "Error messages are shown when the fetch fails",
];

const tables: Array<[string, Array<[string, ContentRule]>]> = [
  ["word counts", wordChecks],
  ["JSON shapes", jsonChecks],
  ["files that parse", parseChecks],
  ["files that exist", existsChecks],
  ["files that must not be committed", absentChecks],
  ["a page linking every file", linkChecks],
  ["exact titles", titleChecks],
  ["element ids", idChecks],
  ["plain numbers", plainChecks],
];

describe("contentRuleOf: plain-English checks map onto rules without a model", () => {
  for (const [name, table] of tables) {
    describe(name, () => {
      it("has at least 20 phrasings", () => expect(table.length).toBeGreaterThanOrEqual(20));
      it.each(table)("%s", (text, rule) => expect(contentRuleOf(text)).toEqual(rule));
    });
  }
  it.each(negativeChecks)("no rule: %s", (text) => expect(contentRuleOf(text)).toBeUndefined());
});

describe("briefRulesOf: the brief's own sentences", () => {
  const has = (brief: string, rule: ContentRule) => expect(briefRulesOf(brief).map((r) => r.rule)).toContainEqual(rule);

  it.each<[string, ContentRule]>([
    ["Write story.md, a short story of 300-400 words about a lighthouse.", words("story.md", 300, 400)],
    ["Add about.md that describes yourself in three words.", words("about.md", 3, 3)],
    ["Create story.md. It must be between 250 and 300 words.", words("story.md", 250, 300)],
    ["Write a 150-200 word review and save it as review.md.", words("review.md", 150, 200)],
    ["- motto.txt: exactly five words\n- story.md: at least 400 words", words("story.md", 400, undefined)],
    ["- motto.txt: exactly five words\n- story.md: at least 400 words", words("motto.txt", 5, 5)],
    ["Put a summary of no more than 80 words in summary.md.", words("summary.md", undefined, 80)],
    ["haiku.txt holds a seventeen-word poem.", words("haiku.txt", 17, 17)],
  ])("word count: %s", (brief, rule) => has(brief, rule));

  it.each<[string, ContentRule]>([
    ["Create ethics.json. Fill in {people: 3, case_1: {swerve: bool, reason: str}}", json("ethics.json", shape(["people", lit(3)], ["case_1", shape(["swerve", t("boolean")], ["reason", t("string")])]))],
    ["ethics.json: fill in {\"people\": 2, \"choice\": \"...\"}", json("ethics.json", shape(["people", lit(2)], ["choice", t("any")]))],
    ["Fill in {score: int, passed: bool} and save it as grade.json.", json("grade.json", shape(["score", t("integer")], ["passed", t("boolean")]))],
    ["Save profile.json with the shape {name: str, tags: list[str]}", json("profile.json", shape(["name", t("string")], ["tags", { kind: "array", items: t("string") }]))],
    ["Write data.json with a 'max' object with 'val' (number) and 'fy' (string) fields.", json("data.json", maxFy)],
    ["Write two files.\n\ncase.json — Fill in:\n```json\n{ \"case_1\": { \"swerve\": true|false, \"reason\": \"...\" } }\n```", json("case.json", shape(["case_1", shape(["swerve", t("boolean")], ["reason", t("any")])]))],
  ])("JSON shape: %s", (brief, rule) => has(brief, rule));

  it.each<[string, ContentRule]>([
    ["Run the script in CI, but do not commit result.json.", { kind: "file-absent", path: "result.json" }],
    ["The workflow writes out.csv; out.csv must not be committed.", { kind: "file-absent", path: "out.csv" }],
    ["Add cache.json to .gitignore.", { kind: "file-absent", path: "cache.json" }],
    ["Create logo.svg, a valid SVG of a sun.", { kind: "parses", path: "logo.svg", format: "svg" }],
    ["Create logo.svg, a valid SVG of a sun.", { kind: "file-exists", path: "logo.svg" }],
    ["Commit notes.txt with your thoughts.", { kind: "file-exists", path: "notes.txt" }],
    ["Make index.html a homepage that links to every file.", { kind: "links-every-file", page: "index.html" }],
    ["Add a homepage linking all the files.", { kind: "links-every-file", page: "index.html" }],
    ["Show the max and min from data.json on the page.", { kind: "plain-numbers" }],
  ])("other kinds: %s", (brief, rule) => has(brief, rule));

  it("does not ask for a committed file that the brief forbids, nor read plain numbers into a brief that asks for a format", () => {
    const rules = briefRulesOf("Run execute.py in CI to produce result.json. Do not commit result.json.").map((r) => r.rule);
    expect(rules).toContainEqual({ kind: "file-absent", path: "result.json" });
    expect(rules).not.toContainEqual({ kind: "file-exists", path: "result.json" });
    expect(briefRulesOf("Show the total from data.json formatted with thousands separators.").map((r) => r.rule)).not.toContainEqual({ kind: "plain-numbers" });
  });

  it.each([
    "Write a story of about 300 words in story.md.",
    "Build a typing test that reports words per minute.",
    "Show a word cloud of the text in input.txt.",
    "Keep LICENSE.",
    "Ignore empty rows in data.csv.",
    "Render the markdown in input.md with marked.",
  ])("no word or forbidden-file rule: %s", (brief) => {
    expect(briefRulesOf(brief).filter((r) => r.rule.kind === "word-count" || r.rule.kind === "file-absent")).toEqual([]);
  });
});

describe("numbers and bounds", () => {
  it.each<[string, number | undefined]>([
    ["3", 3], ["1,000", 1000], ["three", 3], ["twenty-five", 25], ["two hundred", 200], ["a hundred", 100], ["three hundred and fifty", 350], ["many", undefined],
  ])("numberOf(%s)", (text, value) => expect(numberOf(text)).toBe(value));

  it("reads the first bound phrase and skips approximate ones", () => {
    expect(wordBoundsIn("keep it to 300-400 words")).toMatchObject({ min: 300, max: 400 });
    expect(wordBoundsIn("around 300 words")).toBeUndefined();
    expect(wordBoundsIn("100 words per minute")).toBeUndefined();
  });
});

describe("describeContentRule", () => {
  it("states every kind as an obligation the model can act on", () => {
    const all: ContentRule[] = [...tables.flatMap(([, table]) => table.map(([, rule]) => rule)), { kind: "mit-license" }, { kind: "no-secrets" }, { kind: "readme-quality" }, { kind: "file-matches-attachment", path: "a.txt" }];
    for (const rule of all) expect(describeContentRule(rule).length).toBeGreaterThan(10);
    expect(describeContentRule(words("story.md", 300, 400))).toContain("between 300 and 400 words");
    expect(describeContentRule(json("data.json", maxFy))).toContain('{"max": {"val": <number>, "fy": <string>}}');
    expect(describeContentRule({ kind: "file-absent", path: "result.json" })).toContain("must NOT be committed");
  });
});
