import { describe, expect, it } from "vitest";
import { createLocalScriptRunner } from "../../src/adapters/script/local-script-runner.ts";
import { repositoryWorkVerdicts } from "../../src/verify/repository-work-checks.ts";
import { verifyCandidate, describeFailures } from "../../src/verify/verify-candidate.ts";

// Repository-work checks on real trees with Debian's python3 (python3-pandas, python3-openpyxl
// from .ci/run): byte-compile, run what the brief says to run, validate workflows.
const runner = createLocalScriptRunner();
const brief = "Fix execute.py. The workflow runs `python execute.py > result.json` and publishes it.";
const tree = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([path, text]) => [path, Buffer.from(text)]));
const data = "region,sales\nnorth,10\nsouth,32\n";
const work = (files: Record<string, string>, briefs = [brief]) => repositoryWorkVerdicts(tree(files), { briefs, scriptRunner: runner, scriptTimeoutMs: 20_000 });
const byId = (verdicts: Awaited<ReturnType<typeof work>>) => Object.fromEntries(verdicts.map((v) => [v.id, v]));

describe("repository-work checks with a real interpreter", () => {
  it("a script that compiles and runs on its data passes both checks", async () => {
    const script = "import json\nimport pandas as pd\n\ndf = pd.read_csv('data.csv')\nprint(json.dumps({'total': int(df['sales'].sum())}))\n";
    const verdicts = byId(await work({ "execute.py": script, "data.csv": data }));
    expect(verdicts["python-compile:execute.py"]).toMatchObject({ passed: true, blocking: true, detail: null });
    expect(verdicts["python-run:execute.py"]).toMatchObject({ passed: true, blocking: true, detail: null });
  });

  it("a syntax error fails the compile check with the line, and the run is not attempted", async () => {
    const verdicts = byId(await work({ "execute.py": "import json\ndef total(rows:\n    return 1\n", "data.csv": data }));
    expect(verdicts["python-compile:execute.py"]).toMatchObject({ passed: false, blocking: true });
    expect(verdicts["python-compile:execute.py"]!.detail).toMatch(/SyntaxError: .* line 2/);
    expect(verdicts["python-run:execute.py"]).toBeUndefined();
  });

  it("a script that fails at run time fails with its stderr", async () => {
    const script = "import pandas as pd\n\ndf = pd.read_csv('data.csv')\nprint(df['revenue'].sum())\n";
    const verdicts = byId(await work({ "execute.py": script, "data.csv": data }));
    expect(verdicts["python-compile:execute.py"]).toMatchObject({ passed: true });
    expect(verdicts["python-run:execute.py"]).toMatchObject({ passed: false, blocking: true });
    expect(verdicts["python-run:execute.py"]!.detail).toMatch(/exit code 1; stderr:[\s\S]*KeyError: 'revenue'/);
  });

  it("a module this host lacks is not verified — non-blocking, and not a pass", async () => {
    const script = "import json\nimport surely_not_installed_module_7q\nprint(json.dumps({}))\n";
    const verdicts = byId(await work({ "execute.py": script }));
    expect(verdicts["python-compile:execute.py"]).toMatchObject({ passed: true });
    expect(verdicts["python-run:execute.py"]).toEqual({
      id: "python-run:execute.py",
      label: "`python execute.py > result.json` runs without error",
      passed: false,
      blocking: false,
      detail: "not verified: the module surely_not_installed_module_7q is not installed here",
    });
  });

  it("without an interpreter every Python check is not verified", async () => {
    const missing = createLocalScriptRunner({ pythonCommand: "python-not-installed-9z" });
    const verdicts = await repositoryWorkVerdicts(tree({ "execute.py": "print(1)\n" }), { briefs: [brief], scriptRunner: missing, scriptTimeoutMs: 5000 });
    expect(verdicts.map((v) => [v.id, v.passed, v.blocking, v.detail])).toEqual([
      ["python-compile:execute.py", false, false, "not verified: python-not-installed-9z is not installed on this host"],
      ["python-run:execute.py", false, false, "not verified: python-not-installed-9z is not installed on this host"],
    ]);
  });

  it("a workflow or script the brief names but the tree lacks blocks as missing", async () => {
    const verdicts = byId(await work({ "index.html": "<p>x</p>" }, ["Add .github/workflows/ci.yml that runs `python execute.py > result.json`."]));
    expect(Object.keys(verdicts).sort()).toEqual(["missing:.github/workflows/ci.yml", "missing:execute.py"]);
    expect(verdicts["missing:execute.py"]).toMatchObject({ passed: false, blocking: true, detail: "execute.py is missing; add it as the brief asks" });
    expect(await work({ "index.html": "<p>x</p>" }, ["A page with a counter."])).toEqual([]);
  });

  it("an invalid workflow blocks with the parser's reason; a valid one passes", async () => {
    const valid = "on: push\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - run: ruff check .\n";
    const verdicts = byId(await work({ ".github/workflows/ci.yml": valid, ".github/workflows/bad.yml": "on: push\njobs:\n  lint:\n    steps:\n      - run: ruff check .\n" }));
    expect(verdicts["workflow:.github/workflows/ci.yml"]).toMatchObject({ passed: true, blocking: true });
    expect(verdicts["workflow:.github/workflows/bad.yml"]).toMatchObject({ passed: false, blocking: true });
    expect(verdicts["workflow:.github/workflows/bad.yml"]!.detail).toMatch(/Required property is missing: runs-on/);
  });

  it("verifyCandidate counts the blocking ones and the repair text carries the stderr", async () => {
    const verdict = await verifyCandidate({
      files: tree({ "execute.py": "rows = [1]\nprint(rows[3])\n" }),
      checks: [],
      rules: [],
      derived: [],
      attachments: new Map(),
      runner: undefined,
      checkTimeoutMs: 1000,
      repositoryWork: { briefs: [brief], scriptRunner: runner, scriptTimeoutMs: 20_000 },
    });
    expect(verdict.passed).toBe(false);
    expect(verdict.total).toBe(2);
    expect(verdict.score).toBe(1);
    expect(describeFailures(verdict)).toMatch(/Repository check python-run:execute\.py: `python execute\.py > result\.json` runs without error\n {2}failed: exit code 1; stderr:[\s\S]*IndexError/);
  });
});
