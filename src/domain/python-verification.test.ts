import { describe, expect, it } from "vitest";
import { compileVerdicts, planPythonChecks, runVerdict, scriptInputs, scriptRunsInBriefs, type PlannedRun, type RunOutcome } from "./python-verification.ts";

const tree = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([path, text]) => [path, Buffer.from(text)]));
const exited = (exitCode: number | null, stdout = "", stderr = "", timedOut = false): RunOutcome => ({ outcome: "exited", exitCode, stdout, stderr, timedOut });

describe("scriptRunsInBriefs", () => {
  it.each([
    ["The workflow runs `python execute.py > result.json` and publishes it.", { script: "execute.py", args: [], stdoutTo: "result.json" }],
    ["then run python3 analysis/report.py --year 2024 > out/summary.json", { script: "analysis/report.py", args: ["--year", "2024"], stdoutTo: "out/summary.json" }],
    ["Add a step: python -u ./main.py", { script: "main.py", args: [], stdoutTo: undefined }],
    ["python3.11 tool.py 1> log.txt", { script: "tool.py", args: [], stdoutTo: "log.txt" }],
  ])("reads %j", (brief, expected) => {
    expect(scriptRunsInBriefs([brief])).toMatchObject([expected]);
  });

  it("finds nothing in a brief that runs no script, and each run once across rounds", () => {
    expect(scriptRunsInBriefs(["Build a page with python-style syntax highlighting of app.py."])).toEqual([]);
    expect(scriptRunsInBriefs(["run `python a.py`", "keep running `python a.py` and python b.py"]).map((r) => r.script)).toEqual(["a.py", "b.py"]);
  });
});

describe("scriptInputs", () => {
  it("names the files a script reads, not the ones it writes", () => {
    const source = [
      "import pandas as pd",
      "df = pd.read_csv('data.csv')",
      'cfg = json.load(open("config/settings.json"))',
      "df.to_csv('clean.csv')",
      "with open('report.txt', 'w') as out:",
      "    out.write('x')",
      "# old: pd.read_excel('data.xlsx')",
      "print('done.')",
    ].join("\n");
    expect(scriptInputs(source)).toEqual(["data.csv", "config/settings.json"]);
  });
});

describe("planPythonChecks", () => {
  it("compiles every Python file and runs a named script only when its inputs exist", () => {
    const brief = "The CI runs `python execute.py > result.json`; also python tools/missing.py.";
    const script = "import pandas as pd\nprint(pd.read_csv('data.csv').to_json())\n";
    const without = planPythonChecks(tree({ "execute.py": script, "tools/helper.py": "x = 1\n", "index.html": "" }), [brief]);
    expect(without.compile).toEqual(["execute.py", "tools/helper.py"]);
    expect(without.runs).toMatchObject([{ run: { script: "execute.py", stdoutTo: "result.json" }, missingInputs: ["data.csv"] }]);
    const withData = planPythonChecks(tree({ "execute.py": script, "data.csv": "a\n1\n" }), [brief]);
    expect(withData.runs).toMatchObject([{ missingInputs: [] }]);
    expect(planPythonChecks(tree({ "index.html": "" }), [brief])).toEqual({ compile: [], runs: [] });
  });
});

describe("compileVerdicts", () => {
  it("reads one verdict per file from the compiler's JSON lines", () => {
    const stdout = `${JSON.stringify({ path: "a.py", error: null })}\n${JSON.stringify({ path: "b.py", error: "SyntaxError: invalid syntax — line 2: def f(:" })}\n`;
    expect(compileVerdicts(["a.py", "b.py", "c.py"], exited(0, stdout))).toEqual([
      { id: "python-compile:a.py", label: "a.py byte-compiles", status: "passed", detail: null },
      { id: "python-compile:b.py", label: "b.py byte-compiles", status: "failed", detail: "SyntaxError: invalid syntax — line 2: def f(:" },
      { id: "python-compile:c.py", label: "c.py byte-compiles", status: "not-verified", detail: "not verified: the compiler ended without a result (exit 0): (nothing on stderr)" },
    ]);
  });

  it("is not verified, never passed, without an interpreter", () => {
    expect(compileVerdicts(["a.py"], { outcome: "unavailable", reason: "python3 is not installed on this host" })).toEqual([
      { id: "python-compile:a.py", label: "a.py byte-compiles", status: "not-verified", detail: "not verified: python3 is not installed on this host" },
    ]);
  });
});

describe("runVerdict", () => {
  const planned: PlannedRun = { run: { script: "execute.py", args: [], stdoutTo: "result.json", command: "python execute.py > result.json" }, missingInputs: [] };
  const plain: PlannedRun = { run: { script: "job.py", args: [], stdoutTo: undefined, command: "python job.py" }, missingInputs: [] };

  it.each<[string, PlannedRun, RunOutcome | undefined, string, RegExp | null]>([
    ["JSON on stdout", planned, exited(0, '{"rows": 3}\n'), "passed", null],
    ["no redirect, no output", plain, exited(0), "passed", null],
    ["a traceback", planned, exited(1, "", "Traceback (most recent call last):\n  File \"execute.py\", line 3\nKeyError: 'total'\n"), "failed", /exit code 1; stderr:\n[\s\S]*KeyError: 'total'/],
    ["the time cap", planned, exited(null, "", "", true), "failed", /did not finish within 30 s/],
    ["nothing printed into result.json", planned, exited(0, "  \n"), "failed", /printed nothing, so result\.json would be empty/],
    ["not JSON for a .json file", planned, exited(0, "rows: 3\n"), "failed", /not JSON/],
    ["a missing module", planned, exited(1, "", "Traceback …\nModuleNotFoundError: No module named 'polars'\n"), "not-verified", /^not verified: the module polars is not installed here$/],
    ["no interpreter", planned, { outcome: "unavailable", reason: "python3 is not installed on this host" }, "not-verified", /^not verified: python3 is not installed/],
    ["a missing input", { ...planned, missingInputs: ["data.csv"] }, undefined, "not-verified", /^not verified: its input data\.csv is not in the repository$/],
  ])("%s → %s", (_case, run, result, status, detail) => {
    const verdict = runVerdict(run, result, 30_000);
    expect(verdict.status).toBe(status);
    expect(verdict.id).toBe(`python-run:${run.run.script}`);
    if (detail) expect(verdict.detail).toMatch(detail);
    else expect(verdict.detail).toBeNull();
  });
});
