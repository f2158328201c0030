import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse as parseCsv } from "csv-parse/sync";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLocalScriptRunner } from "../../src/adapters/script/local-script-runner.ts";
import { validateWorkflow } from "../../src/verify/validate-workflow.ts";
import { storeDialects } from "../support/store-dialects.ts";
import { cloneAt, git, startHarness, type Harness } from "../support/service-harness.ts";

// Issue 9, done-when 3 (repository work): an attached script to fix, a workbook to convert (by the
// product, h-tools' conversions), a CI workflow that lints, runs the script on the converted data
// and publishes its output, and an output that must not be committed (h-rules' content rules).
// The scripted model first returns a script that still fails and a workflow GitHub would reject;
// verification runs both for real (Python confined, GitHub's workflow parser) and the repair fixes
// them. Real Chromium, git, HTTP, Python (Debian's python3 with pandas and openpyxl, see .ci/run).
const dialect = storeDialects[0]!;
const run = promisify(execFile);

const brief = [
  "repo-brief-3c9: This repository computes the best sales region.",
  "Commit execute.py after fixing the non-trivial error in it.",
  "Convert data.xlsx to data.csv.",
  "Add .github/workflows/ci.yml that runs ruff, runs `python execute.py > result.json` and publishes result.json via GitHub Pages.",
  "Do not commit result.json.",
  "index.html links to result.json.",
].join(" ");
const checks = ["result.json is NOT committed", "Repo has MIT license"];

// The attachment: pandas sums to numpy.int64, which json cannot serialise — it fails at run time.
const buggyScript = `import json

import pandas as pd

sales = pd.read_csv("data.csv")
totals = sales.groupby("region")["sales"].sum()
best = totals.idxmax()
print(json.dumps({"best_region": best, "total": totals[best]}))
`;
// The first answer tidies the script but leaves the error in.
const stillBuggy = buggyScript.replace("import json\n", '"""Best sales region from data.csv, as JSON on stdout."""\nimport json\n');
const fixedScript = stillBuggy.replace('"total": totals[best]', '"total": int(totals[best])');

const invalidWorkflow = `name: CI
on:
  push:
    branches: [main]
jobs:
  build:
    steps:
      - uses: actions/checkout@v4
      - run: pip install ruff pandas
      - run: ruff check .
      - run: python execute.py > result.json
`;
const validWorkflow = `name: CI
on:
  push:
    branches: [main]
  workflow_dispatch:
permissions:
  contents: read
  pages: write
  id-token: write
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: pip install ruff pandas
      - run: ruff check .
      - run: python execute.py > result.json
      - uses: actions/upload-pages-artifact@v3
        with:
          path: .
  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: \${{ steps.deployment.outputs.page_url }}
    steps:
      - id: deployment
        uses: actions/deploy-pages@v4
`;
const indexHtml = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Best sales region</title>
</head>
<body>
  <h1>Best sales region</h1>
  <p>The CI workflow runs execute.py and publishes <a href="result.json">result.json</a>.</p>
</body>
</html>
`;

const firstAnswer = {
  "index.html": indexHtml,
  "execute.py": stillBuggy,
  ".github/workflows/ci.yml": invalidWorkflow,
  ".gitignore": "result.json\n",
  "result.json": '{"best_region": "south", "total": 32}\n',
};
const repairAnswer = { "execute.py": fixedScript, ".github/workflows/ci.yml": validWorkflow };

describe(`repository work end to end on ${dialect.name}`, () => {
  let harness: Harness | undefined;
  let workbook: Buffer;
  let workbookRows: string[][];
  let scratch: string;

  beforeAll(async () => {
    // A real workbook, written by openpyxl (the library pandas reads it with).
    scratch = await mkdtemp(join(tmpdir(), "briefwright-repo-work-"));
    const program = [
      "import sys, openpyxl",
      "book = openpyxl.Workbook()",
      "sheet = book.active",
      "sheet.title = 'Sales'",
      "for row in [('region', 'sales'), ('north', 10), ('south', 20), ('north', 5), ('south', 12)]:",
      "    sheet.append(row)",
      "book.save(sys.argv[1])",
    ].join("\n");
    await run("/usr/bin/python3", ["-c", program, join(scratch, "data.xlsx")]);
    workbook = await readFile(join(scratch, "data.xlsx"));
    // The rows as openpyxl reads them back: what data.csv must hold, row for row.
    const readBack = "import sys, json, openpyxl\nsheet = openpyxl.load_workbook(sys.argv[1]).active\nprint(json.dumps([[str(v) for v in row] for row in sheet.iter_rows(values_only=True)]))";
    workbookRows = JSON.parse((await run("/usr/bin/python3", ["-c", readBack, join(scratch, "data.xlsx")])).stdout);
    expect(workbookRows).toHaveLength(5);
  });
  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  it("commits the fixed script (not the attachment), the workbook converted row for row and a validated workflow, after verification ran the script on the converted data; the output stays out", async () => {
    harness = await startHarness({
      dialect,
      fixtures: [{ fixtures: [{ match: ["repo-brief-3c9"], responses: [{ files: firstAnswer }, { files: repairAnswer }] }] }],
      env: { CHECK_TIMEOUT_SECONDS: "3" },
    });
    const attachments = [
      { name: "execute.py", url: `data:text/x-python;base64,${Buffer.from(buggyScript).toString("base64")}` },
      { name: "data.xlsx", url: `data:application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;base64,${workbook.toString("base64")}` },
    ];
    const request = await harness.request("github-user-created-r1", { task: "repo-work-3c9", brief, checks, attachments });
    const ack = await harness.post(request);
    expect(ack.status).toBe(200);
    const report = (await harness.receiver.waitFor((r) => r.body.nonce === request.nonce, 90_000)).body as Record<string, string>;
    const round = (await harness.get(`/api/v1/tasks/${ack.body.task_id}`)).body.rounds.find((r: { nonce: string }) => r.nonce === request.nonce);

    // The contract recorded the script as the one attachment to edit; the prompt showed all of it.
    expect(round.build.editable_attachments).toEqual(["execute.py"]);
    const calls = harness.llm.requests.filter((r) => r.fileProducing).map((r) => JSON.stringify(r.body));
    expect(calls).toHaveLength(2);
    expect(calls[0]).toContain("Files to edit (attachments the brief asks you to change)");
    expect(calls[0]).toContain(JSON.stringify(buggyScript).slice(1, -1));

    // The first candidate failed on the workflow (GitHub's parser) and the script's run (real
    // Python), both blocking; the repair heard both reasons and was accepted.
    expect(round.build.attempts.map((a: { purpose: string; outcome: string }) => `${a.purpose}:${a.outcome}`)).toEqual(["generate:checks-failed", "repair:accepted"]);
    type Verdict = { id: string; passed: boolean; blocking: boolean; detail: string | null };
    const [first, second] = round.build.attempts as Array<{ verdict: { passed: boolean; checks: Verdict[] }; gate: Array<{ rule: string; severity: string; path?: string }> }>;
    const firstChecks = new Map(first!.verdict.checks.map((c) => [c.id, c]));
    expect(firstChecks.get("workflow:.github/workflows/ci.yml")).toMatchObject({ passed: false, blocking: true });
    expect(firstChecks.get("workflow:.github/workflows/ci.yml")!.detail).toMatch(/Required property is missing: runs-on/);
    expect(firstChecks.get("python-compile:execute.py")).toMatchObject({ passed: true, blocking: true });
    expect(firstChecks.get("python-run:execute.py")).toMatchObject({ passed: false, blocking: true });
    expect(firstChecks.get("python-run:execute.py")!.detail).toMatch(/not JSON serializable/);
    expect(calls[1]).toContain("Required property is missing: runs-on");
    expect(calls[1]).toContain("not JSON serializable");
    // result.json was dropped by the gate (the brief forbids it), not sent back for repair.
    expect(first!.gate).toContainEqual(expect.objectContaining({ rule: "forbidden-files", severity: "fixed", path: "result.json" }));
    const secondChecks = new Map(second!.verdict.checks.map((c) => [c.id, c]));
    for (const id of ["workflow:.github/workflows/ci.yml", "python-compile:execute.py", "python-run:execute.py"]) {
      expect(secondChecks.get(id), id).toMatchObject({ passed: true, blocking: true, detail: null });
    }
    expect(second!.verdict.passed).toBe(true);

    // The reported commit holds the fixed script, the valid workflow, the workbook byte for byte,
    // and no result.json.
    const clone = await cloneAt(report.repo_url!, report.commit_sha!);
    try {
      const paths = (await git(clone.dir, "ls-files")).split("\n").filter(Boolean).sort();
      expect(paths).toEqual([".github/workflows/ci.yml", ".gitignore", ".nojekyll", "LICENSE", "README.md", "data.csv", "data.xlsx", "execute.py", "index.html"]);
      const committed = async (path: string) => readFile(join(clone.dir, path));
      expect((await committed("execute.py")).toString()).toBe(fixedScript);
      expect((await committed("execute.py")).toString()).not.toBe(buggyScript);
      expect((await committed(".github/workflows/ci.yml")).toString()).toBe(validWorkflow);
      expect(await validateWorkflow(".github/workflows/ci.yml", validWorkflow)).toEqual({ valid: true });
      expect((await committed("data.xlsx")).equals(workbook)).toBe(true);
      // data.csv was converted by the product, not typed by the model: the workbook row for row.
      expect([...Object.keys(firstAnswer), ...Object.keys(repairAnswer)]).not.toContain("data.csv");
      expect(parseCsv((await committed("data.csv")).toString("utf8"))).toEqual(workbookRows);

      // The committed script, run as the workflow would on the committed tree (so on data.csv), prints the answer.
      const tree = new Map(await Promise.all(paths.map(async (path) => [path, await committed(path)] as const)));
      const result = await createLocalScriptRunner().run({ interpreter: "python", args: ["execute.py"], files: tree, timeoutMs: 30_000, isolateNetwork: true });
      expect(result).toMatchObject({ outcome: "exited", exitCode: 0 });
      if (result.outcome === "exited") expect(JSON.parse(result.stdout)).toEqual({ best_region: "south", total: 32 });
    } finally {
      await clone.cleanup();
    }

    // Pages publishes the site but none of the dot-files.
    expect((await fetch(new URL("index.html", report.pages_url))).status).toBe(200);
    expect((await fetch(new URL(".github/workflows/ci.yml", report.pages_url))).status).toBe(404);
    expect((await fetch(new URL(".gitignore", report.pages_url))).status).toBe(404);
  }, 150_000);
});
