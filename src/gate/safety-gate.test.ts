import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeAttachment } from "../domain/attachment.ts";
import { buildContract } from "../domain/build-contract.ts";
import { normalizeChecks } from "../domain/check.ts";
import type { RawAttachment, RawCheck } from "../domain/task.ts";
import { runSafetyGate, type GateReport } from "./safety-gate.ts";
import { fakeGithubToken, tree } from "./test-files.ts";
import { sharedFixtures } from "../../test/support/shared-dir.ts";

interface Request {
  brief: string;
  checks: RawCheck[];
  attachments: RawAttachment[];
}
const request = (name: string) => JSON.parse(readFileSync(join(sharedFixtures, "tasks", `${name}.json`), "utf8")) as Request;
const referenceFiles = (task: string) =>
  (JSON.parse(readFileSync(join(sharedFixtures, "llm", `${task}.json`), "utf8")) as { fixtures: Array<{ responses: Array<{ files: Record<string, string> }> }> }).fixtures.map(
    (f) => f.responses[0]!.files,
  );

const r1 = request("sum-of-sales-r1");
const r2 = request("sum-of-sales-r2");
const attachments = r1.attachments.map((a) => decodeAttachment(a, 1_000_000));
const contract1 = buildContract({ brief: r1.brief, checks: normalizeChecks(r1.checks), attachments });
const contract2 = buildContract({ brief: r2.brief, checks: normalizeChecks(r2.checks), attachments: [], earlier: [{ brief: r1.brief, checks: normalizeChecks(r1.checks) }] });
const [round2Files, round1Files] = referenceFiles("sum-of-sales");
const round1Tree = tree({ ...round1Files, "data.csv": attachments[0]!.content });

const blocking = (report: GateReport) => report.decisions.filter((d) => !d.passed && d.severity === "block");

describe("runSafetyGate", () => {
  it("passes the reference round 1 of sum-of-sales and records a decision from every rule", async () => {
    const report = await runSafetyGate({ files: round1Tree, contract: contract1, brief: r1.brief });
    expect(blocking(report)).toEqual([]);
    expect(report.passed).toBe(true);
    expect(new Set(report.decisions.map((d) => d.rule))).toEqual(new Set(["path-safety", "size-caps", "root-absolute-paths", "html", "secret-scan", "shrinkage"]));
    expect(report.files).toEqual(round1Tree);
  });

  it("passes the reference round 2 against round 1", async () => {
    const report = await runSafetyGate({ files: tree({ ...round2Files, "data.csv": attachments[0]!.content }), previous: round1Tree, contract: contract2, brief: r2.brief });
    expect(blocking(report)).toEqual([]);
  });

  it("passes both rounds of the markdown-to-html reference", async () => {
    const md1 = request("markdown-to-html-r1");
    const md2 = request("markdown-to-html-r2");
    const mdAttachments = md1.attachments.map((a) => decodeAttachment(a, 1_000_000));
    const [second, first] = referenceFiles("markdown-to-html");
    const firstTree = tree({ ...first, "input.md": mdAttachments[0]!.content });
    const c1 = buildContract({ brief: md1.brief, checks: normalizeChecks(md1.checks), attachments: mdAttachments });
    const c2 = buildContract({ brief: md2.brief, checks: normalizeChecks(md2.checks), attachments: [], earlier: [{ brief: md1.brief, checks: normalizeChecks(md1.checks) }] });
    expect(blocking(await runSafetyGate({ files: firstTree, contract: c1, brief: md1.brief }))).toEqual([]);
    expect(blocking(await runSafetyGate({ files: tree({ ...second, "input.md": mdAttachments[0]!.content }), previous: firstTree, contract: c2, brief: md2.brief }))).toEqual([]);
  });

  it("blocks an answer that deletes 80 % of index.html for a brief asking for a small addition", async () => {
    const previous = tree({ "index.html": round2Files!["index.html"]!, "data.csv": attachments[0]!.content });
    const gutted = `<!doctype html>\n<html><head><title>Sales Summary 7f3a9</title></head>\n<body><p id="total-sales"></p><p id="sales-note">Note</p>\n<!-- rest unchanged --></body></html>\n`;
    const original = previous.get("index.html")!.length;
    expect(1 - gutted.length / original).toBeGreaterThan(0.75);
    const report = await runSafetyGate({ files: tree({ "index.html": gutted, "data.csv": attachments[0]!.content }), previous, brief: "Add a short note under the total in #sales-note." });
    expect(report.passed).toBe(false);
    expect(blocking(report).map((d) => d.rule)).toContain("shrinkage");
    expect(blocking(report).find((d) => d.path === "index.html" && d.rule === "shrinkage")!.detail).toMatch(new RegExp(`^index\\.html would shrink by \\d+ % \\(${original} → ${gutted.length} bytes\\)`));
  });

  it("lets the same shrinkage through when the brief asks for a rewrite", async () => {
    const previous = tree({ "index.html": round2Files!["index.html"]! });
    const small = `<!doctype html>\n<html><head><title>Sales Summary 7f3a9</title></head><body><p id="total-sales"></p></body></html>\n`;
    const report = await runSafetyGate({ files: tree({ "index.html": small }), previous, brief: "Redesign the page as a single number." });
    expect(report.passed).toBe(true);
    expect(report.decisions.filter((d) => d.rule === "shrinkage").every((d) => d.severity === "warn")).toBe(true);
  });

  it("blocks a GitHub token and never quotes it in any decision", async () => {
    const token = fakeGithubToken();
    const page = round1Files!["index.html"]!.replace("main();", `const auth = "${token}";\n    main();`);
    const report = await runSafetyGate({ files: tree({ ...round1Files, "index.html": page }), contract: contract1, brief: r1.brief });
    expect(report.passed).toBe(false);
    const [finding] = blocking(report);
    expect(finding).toMatchObject({ rule: "secret-scan", path: "index.html" });
    expect(finding!.detail).toMatch(/secretlint-rule-github.*index\.html at line \d+/);
    expect(JSON.stringify(report.decisions)).not.toContain(token);
  });

  it("blocks a configured secret passed as knownSecrets", async () => {
    const report = await runSafetyGate({ files: tree({ "index.html": "<title>x</title>dev-secret-change-me" }), brief: "x", knownSecrets: ["dev-secret-change-me"] });
    expect(blocking(report).map((d) => d.detail)).toEqual(["configured secret #1 appears in index.html at line 1; remove it"]);
  });

  it("rewrites root-absolute paths in the returned tree, without touching the input", async () => {
    const page = round1Files!["index.html"]!.replace('fetch("data.csv")', 'fetch("/data.csv")');
    const input = tree({ "index.html": page, "data.csv": attachments[0]!.content });
    const report = await runSafetyGate({ files: input, contract: contract1, brief: r1.brief });
    expect(report.passed).toBe(true);
    expect(report.files.get("index.html")!.toString()).toBe(round1Files!["index.html"]);
    expect(input.get("index.html")!.toString()).toBe(page);
    expect(report.decisions.find((d) => d.severity === "fixed")!.detail).toContain('"/data.csv" to "data.csv"');
  });

  it("blocks missing required ids and title, unsafe paths and size caps, all in one report", async () => {
    const report = await runSafetyGate({
      files: tree({ "index.html": "<!doctype html><title>Wrong</title><p>hi</p>", "../escape.js": "x", "big.bin": Buffer.alloc(2000) }),
      contract: contract1,
      brief: r1.brief,
      maxFileBytes: 1000,
      maxTotalBytes: 100_000,
      maxFiles: 2,
    });
    expect(report.passed).toBe(false);
    expect(blocking(report).map((d) => `${d.rule}: ${d.detail}`)).toEqual([
      'path-safety: unsafe path "../escape.js": ".." segment',
      "size-caps: big.bin is 2000 bytes, over the 1000-byte limit per file",
      "size-caps: 3 files, over the limit of 2",
      'html: <title> is "Wrong"; the checks need document.title exactly "Sales Summary 7f3a9"',
      "html: element #total-sales is missing (the checks query it)",
    ]);
  });
});
