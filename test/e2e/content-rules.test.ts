import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildContract } from "../../src/domain/build-contract.ts";
import { normalizeChecks } from "../../src/domain/check.ts";
import { contentTypeFor } from "../../src/domain/content-type.ts";
import { ruleCheck } from "../../src/verify/rule-engine.ts";
import { storeDialects } from "../support/store-dialects.ts";
import { cloneAt, git, startHarness, type Harness } from "../support/service-harness.ts";

// Issue 9, done-when 1 (the bundle): content rules parsed from a plain-English brief and checks
// are blocking, so a first answer that breaks two of them (a word range and a JSON key) is
// repaired before deploy. Real Chromium, git, HTTP; the scripted model answers bad, then good.
const dialect = storeDialects[0]!;

const brief = [
  "bundle-brief-5d1: Publish a small bundle of files.",
  "Write story.md, a short story of 300-400 words about a lighthouse keeper.",
  "Add about.md that describes yourself in three words.",
  "Create ethics.json. Fill in {people: 3, case_1: {swerve: bool, reason: str}}",
  "Create stats.json with a 'max' object with 'val' (number) and 'fy' (string) fields.",
  "Draw logo.svg, a valid SVG of a lighthouse.",
  'Set the page title to "Bundle 5d1" and show the max from stats.json on the page.',
  "Make index.html a homepage that links to every file.",
  "Keep uid.txt from the attachments as-is.",
].join(" ");

const checks = [
  "story.md has 300-400 words",
  "about.md contains exactly three words",
  "ethics.json has 'people' equal to 3",
  "stats.json has 'max' object with 'val' (number) and 'fy' (string) fields",
  "logo.svg is a valid SVG",
  "index.html links to every file",
  "uid.txt matches the attachment exactly",
  "Repo has MIT license",
  "The story has a satisfying ending",
];

// Bytes that are not valid UTF-8: a text round trip anywhere would change them.
const uid = Buffer.concat([Buffer.from("uid-5d1-"), Buffer.from([0xff, 0xfe, 0x00, 0x80]), Buffer.from("\r\nend")]);

const sentence = "The keeper climbed the narrow stairs each night and lit the lamp for ships he would never meet";
function storyOf(wordCount: number): string {
  const words = Array.from({ length: wordCount }, (_, i) => sentence.split(" ")[i % 18]!);
  const lines: string[] = [];
  for (let i = 0; i < words.length; i += 18) lines.push(`${words.slice(i, i + 18).join(" ")}.`);
  return `${lines.join("\n")}\n`;
}

const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Bundle 5d1</title>
</head>
<body>
  <h1>Bundle 5d1</h1>
  <p>Largest value: <span id="max">25000000</span> in <span id="fy">FY2021</span></p>
  <ul>
    <li><a href="story.md">Story</a></li>
    <li><a href="about.md">About</a></li>
    <li><a href="ethics.json">Ethics</a></li>
    <li><a href="stats.json">Stats</a></li>
    <li><a href="logo.svg"><img src="logo.svg" alt="logo" width="32"></a></li>
    <li><a href="uid.txt">uid.txt</a></li>
  </ul>
</body>
</html>
`;
const common = {
  "index.html": page,
  "about.md": "Curious, patient, kind.\n",
  "stats.json": JSON.stringify({ max: { val: 25000000, fy: "FY2021" } }, null, 2),
  "logo.svg": '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect x="4" y="2" width="2" height="8" fill="red"/></svg>\n',
};
const badAnswer = { ...common, "story.md": storyOf(439), "ethics.json": JSON.stringify({ people: 3, case_1: { swerve: false } }, null, 2) };
const goodAnswer = { ...common, "story.md": storyOf(342), "ethics.json": JSON.stringify({ people: 3, case_1: { swerve: false, reason: "Staying the course harms fewer people." } }, null, 2) };

describe(`content rules end to end on ${dialect.name}`, () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  it("a bundle whose first answer breaks a word range and a JSON key is repaired before deploy; every rule holds in the commit and Pages serves each file", async () => {
    harness = await startHarness({
      dialect,
      fixtures: [{ fixtures: [{ match: ["bundle-brief-5d1"], responses: [{ files: badAnswer }, { files: goodAnswer }] }] }],
      env: { CHECK_TIMEOUT_SECONDS: "3" },
    });
    const attachments = [{ name: "uid.txt", url: `data:text/plain;base64,${uid.toString("base64")}` }];
    const request = await harness.request("github-user-created-r1", { task: "bundle-5d1", brief, checks, attachments });
    const ack = await harness.post(request);
    expect(ack.status).toBe(200);
    const report = (await harness.receiver.waitFor((r) => r.body.nonce === request.nonce, 90_000)).body as Record<string, string>;
    const round = (await harness.get(`/api/v1/tasks/${ack.body.task_id}`)).body.rounds.find((r: { nonce: string }) => r.nonce === request.nonce);

    // The first answer failed exactly the two broken rules, blocking; the repair was accepted.
    expect(round.build.attempts.map((a: { purpose: string; outcome: string }) => `${a.purpose}:${a.outcome}`)).toEqual(["generate:checks-failed", "repair:accepted"]);
    type Verdict = { id: string; kind: string; passed: boolean; blocking: boolean; detail: string | null; label: string };
    const [first, second] = round.build.attempts as Array<{ verdict: { passed: boolean; checks: Verdict[] } }>;
    const failed = first!.verdict.checks.filter((c) => !c.passed && c.blocking);
    expect(failed).toHaveLength(2);
    const words = failed.find((c) => c.label === "story.md has 300-400 words");
    const shape = failed.find((c) => c.label.startsWith("Fill in {people: 3"));
    expect(words?.detail).toBe("story.md has 439 words; it must have between 300 and 400 words: remove at least 39 words");
    expect(shape?.detail).toBe("ethics.json does not have the required shape: $.case_1.reason is missing");
    expect(second!.verdict.passed).toBe(true);
    // Page rules ran in the browser beside the JS checks, and the natural check stayed advisory.
    const kinds = new Map(second!.verdict.checks.map((c) => [c.label, c]));
    expect(kinds.get('the page title is "Bundle 5d1"')).toMatchObject({ kind: "page-rule", passed: true, blocking: true });
    expect([...kinds.values()].find((c) => c.kind === "page-rule" && /plain|data file/.test(c.label))).toMatchObject({ passed: true });
    expect(second!.verdict.checks.filter((c) => c.kind === "derived").every((c) => !c.blocking)).toBe(true);

    // The model heard the rules up front and the failures in the repair.
    const calls = harness.llm.requests.filter((r) => r.fileProducing).map((r) => JSON.stringify(r.body));
    expect(calls).toHaveLength(2);
    expect(calls[0]).toContain("file story.md must have between 300 and 400 words");
    expect(calls[0]).toContain('file ethics.json must be JSON of this shape (exact keys; <type> means any value of that type, other values are fixed): {\\"people\\": 3, \\"case_1\\": {\\"swerve\\": <boolean>, \\"reason\\": <string>}}');
    expect(calls[1]).toContain("story.md has 439 words");
    expect(calls[1]).toContain("$.case_1.reason is missing");

    // The committed tree satisfies every rule the contract holds, and the attachment is untouched.
    const clone = await cloneAt(report.repo_url!, report.commit_sha!);
    try {
      const paths = (await git(clone.dir, "ls-files")).split("\n").filter(Boolean);
      expect(paths.sort()).toEqual([".nojekyll", "LICENSE", "README.md", "about.md", "ethics.json", "index.html", "logo.svg", "stats.json", "story.md", "uid.txt"]);
      const tree = new Map(await Promise.all(paths.map(async (path) => [path, await readFile(join(clone.dir, path))] as const)));
      expect(tree.get("uid.txt")!.equals(uid)).toBe(true);
      const contract = buildContract({ brief, checks: normalizeChecks(checks), attachments: [] });
      const kindsOfRules = new Set(contract.rules.map((r) => r.rule.kind));
      for (const kind of ["word-count", "json-shape", "parses", "links-every-file", "file-matches-attachment", "title", "plain-numbers", "file-exists"]) expect(kindsOfRules).toContain(kind);
      for (const { id, rule } of contract.rules) {
        const check = ruleCheck(rule, tree, new Map([["uid.txt", uid]]));
        if (check.on === "files") expect(check.result, id).toMatchObject({ passed: true });
      }

      // Pages serves every file, byte for byte, with its content type; like GitHub Pages, it
      // publishes no dot-file (the .nojekyll marker only tells it to skip Jekyll).
      for (const path of paths) {
        const response = await fetch(new URL(path, report.pages_url));
        if (path.startsWith(".")) {
          expect(response.status, path).toBe(404);
          continue;
        }
        expect(response.status, path).toBe(200);
        expect(response.headers.get("content-type"), path).toBe(contentTypeFor(path));
        expect(Buffer.from(await response.arrayBuffer()).equals(tree.get(path)!), path).toBe(true);
      }
      expect(contentTypeFor("story.md")).toBe("text/markdown; charset=utf-8");
      expect(contentTypeFor("logo.svg")).toBe("image/svg+xml; charset=utf-8");
    } finally {
      await clone.cleanup();
    }
  }, 120_000);

  it("a file the brief says not to commit is dropped from the candidate, not repaired", async () => {
    const forbiddenBrief = "nocommit-brief-7a2: Publish a page. The build writes result.json; do not commit result.json.";
    harness = await startHarness({
      dialect,
      fixtures: [{ fixtures: [{ match: ["nocommit-brief-7a2"], responses: [{ files: { "index.html": page.replace(/<ul>[\s\S]*<\/ul>/, ""), "result.json": '{"answer": 42}' } }] }] }],
      env: { CHECK_TIMEOUT_SECONDS: "3" },
    });
    const request = await harness.request("github-user-created-r1", { task: "nocommit-7a2", brief: forbiddenBrief, checks: ["result.json is NOT committed"], attachments: [] });
    const ack = await harness.post(request);
    const report = (await harness.receiver.waitFor((r) => r.body.nonce === request.nonce, 90_000)).body as Record<string, string>;
    const round = (await harness.get(`/api/v1/tasks/${ack.body.task_id}`)).body.rounds.find((r: { nonce: string }) => r.nonce === request.nonce);
    expect(round.build.attempts).toHaveLength(1);
    expect(round.build.attempts[0].gate).toContainEqual(expect.objectContaining({ rule: "forbidden-files", severity: "fixed", path: "result.json" }));
    const clone = await cloneAt(report.repo_url!, report.commit_sha!);
    try {
      expect((await git(clone.dir, "ls-files")).split("\n")).not.toContain("result.json");
      // The README's file list names the committed files only (its round history quotes the brief).
      const readme = await readFile(join(clone.dir, "README.md"), "utf8");
      expect(readme).toContain("- `index.html` —");
      expect(readme).not.toContain("- `result.json`");
    } finally {
      await clone.cleanup();
    }
  }, 120_000);
});
