/**
 * What to do with the Python in a candidate tree, and what the outcomes mean. Pure: the process
 * running is the script-runner port's business; this module plans the runs and reads their
 * results into verdicts.
 *
 * - Every `.py` file is byte-compiled (syntax only; nothing is executed).
 * - A script the brief says to run (`python execute.py > result.json`) is run when the inputs it
 *   names are in the tree; its stdout must not be empty when redirected, and must parse when
 *   redirected into a `.json` file.
 * - A missing interpreter, a missing module, a missing input or a host that cannot confine the
 *   run is "not verified": a non-blocking verdict with that reason, never a pass.
 */

import type { FileTree } from "./files.ts";

/** One command the brief asks to be run, e.g. `python execute.py > result.json`. */
export interface ScriptRun {
  /** Repository-relative path of the script. */
  readonly script: string;
  readonly args: readonly string[];
  /** The file its stdout is redirected to, if any. */
  readonly stdoutTo: string | undefined;
  /** The command as the brief wrote it. */
  readonly command: string;
}

export interface PlannedRun {
  readonly run: ScriptRun;
  /** Input files the script names that the tree lacks; the run waits for them. */
  readonly missingInputs: readonly string[];
}

export interface PythonCheckPlan {
  /** Every Python file of the tree, sorted. */
  readonly compile: readonly string[];
  readonly runs: readonly PlannedRun[];
}

export type PythonVerdictStatus = "passed" | "failed" | "not-verified";

export interface PythonVerdict {
  /** Stable id: `python-compile:<path>` or `python-run:<path>`. */
  readonly id: string;
  readonly label: string;
  readonly status: PythonVerdictStatus;
  /** Why it failed or was not verified; null on a pass. */
  readonly detail: string | null;
}

// `python execute.py`, `python3 -u src/run.py --fast > out/result.json`; the redirect is optional.
const runCommand =
  /\bpython(?:3(?:\.\d+)?)?\s+(?:-[uBO]\s+)*((?:[\w.-]+\/)*[\w-][\w.-]*\.py)((?:[ \t]+(?!1?>|[|&;])[^\s>|&;`'"]+)*)(?:[ \t]*(?:1)?>[ \t]*((?:[\w.-]+\/)*[\w-][\w.-]*))?/g;

/** The scripts the brief (any round's) says to run, once each, in first-seen order. */
export function scriptRunsInBriefs(briefs: readonly string[]): ScriptRun[] {
  const runs = new Map<string, ScriptRun>();
  for (const brief of briefs) {
    for (const m of brief.matchAll(runCommand)) {
      const script = m[1]!.replace(/^\.\//, "");
      const args = (m[2] ?? "").trim().split(/\s+/).filter(Boolean);
      const stdoutTo = m[3]?.replace(/^\.\//, "");
      const key = JSON.stringify([script, args, stdoutTo]);
      if (!runs.has(key)) runs.set(key, { script, args, stdoutTo, command: m[0].trim() });
    }
  }
  return [...runs.values()];
}

// Data files a script may read by a literal relative name.
const dataFile = /^(?:[\w.-]+\/)*[\w-][\w.-]*\.(?:csv|tsv|xlsx|xls|ods|json|jsonl|ndjson|txt|parquet|xml|ya?ml|sqlite|db)$/i;
// What comes right before or after a literal path that the script writes rather than reads.
const writtenBefore = /\b(?:to_(?:csv|json|excel|parquet|xml|html)|savefig|save|to_file)\s*\(\s*$/;
const writtenAfter = /^\s*\)\s*\.write_(?:text|bytes)\b/;
const openBefore = /\bopen\s*\(\s*$/;
const writeMode = /^\s*,\s*(?:mode\s*=\s*)?[rbtRBT]?["'][rbt+]*[wax]/;

/** Files a script names as string literals and reads (a literal it writes to does not count). */
export function scriptInputs(source: string): string[] {
  const inputs = new Set<string>();
  for (const line of source.split("\n")) {
    const code = line.replace(/(^|\s)#.*$/, "");
    for (const m of code.matchAll(/(?<![\w])[rbuRBU]?(["'])([^"'\n]+)\1/g)) {
      const literal = m[2]!.replace(/^\.\//, "");
      if (!dataFile.test(literal)) continue;
      const before = code.slice(0, m.index);
      const after = code.slice(m.index + m[0].length);
      const written = writtenBefore.test(before) || writtenAfter.test(after) || (openBefore.test(before) && writeMode.test(after));
      if (!written) inputs.add(literal);
    }
  }
  return [...inputs];
}

export function planPythonChecks(files: FileTree, briefs: readonly string[]): PythonCheckPlan {
  const compile = [...files.keys()].filter((path) => /\.py$/i.test(path)).sort();
  const runs = scriptRunsInBriefs(briefs)
    // A run of a script the tree does not have is a missing file, which the content rules report.
    .filter((run) => files.has(run.script))
    .map((run) => {
      const source = files.get(run.script)!.toString("utf8");
      const missingInputs = scriptInputs(source).filter((input) => !files.has(input) && input !== run.stdoutTo);
      return { run, missingInputs };
    });
  return { compile, runs };
}

/**
 * The byte-compiler run inside the interpreter: compiles each file named on the command line
 * without executing or writing anything, and prints one JSON line per file.
 */
export const COMPILE_PROGRAM = [
  "import json, sys",
  "for path in sys.argv[1:]:",
  "    try:",
  "        with open(path, 'rb') as handle:",
  "            compile(handle.read(), path, 'exec', dont_inherit=True)",
  "        print(json.dumps({'path': path, 'error': None}))",
  "    except (SyntaxError, ValueError) as error:",
  "        line = getattr(error, 'lineno', None)",
  "        text = (getattr(error, 'text', None) or '').rstrip()",
  "        message = f'{type(error).__name__}: {error}' + (f' — line {line}: {text.strip()}' if text else '')",
  "        print(json.dumps({'path': path, 'error': message}))",
].join("\n");

/** What a process run came back with, as the verdicts need it (the port's result, narrowed). */
export type RunOutcome =
  | { readonly outcome: "exited"; readonly exitCode: number | null; readonly timedOut: boolean; readonly stdout: string; readonly stderr: string }
  | { readonly outcome: "unavailable"; readonly reason: string };

const compileLabel = (path: string) => `${path} byte-compiles`;

/** Verdicts for the compile run: one per file. */
export function compileVerdicts(paths: readonly string[], result: RunOutcome): PythonVerdict[] {
  if (result.outcome === "unavailable") {
    return paths.map((path) => ({ id: `python-compile:${path}`, label: compileLabel(path), status: "not-verified", detail: `not verified: ${result.reason}` }));
  }
  const reported = new Map<string, string | null>();
  for (const line of result.stdout.split("\n")) {
    try {
      const entry = JSON.parse(line) as { path?: unknown; error?: unknown };
      if (typeof entry.path === "string") reported.set(entry.path, typeof entry.error === "string" ? entry.error : null);
    } catch {
      // not one of ours (the compiler prints nothing else, but a line may be cut)
    }
  }
  return paths.map((path) => {
    const id = `python-compile:${path}`;
    if (!reported.has(path)) {
      const why = result.timedOut ? "the compiler did not finish in time" : `the compiler ended without a result (exit ${result.exitCode}): ${lastLines(result.stderr)}`;
      return { id, label: compileLabel(path), status: "not-verified", detail: `not verified: ${why}` };
    }
    const error = reported.get(path);
    return error ? { id, label: compileLabel(path), status: "failed", detail: error } : { id, label: compileLabel(path), status: "passed", detail: null };
  });
}

/** The verdict on one planned run; `result` is undefined when it was not run for lack of inputs. */
export function runVerdict(planned: PlannedRun, result: RunOutcome | undefined, timeoutMs: number): PythonVerdict {
  const { run } = planned;
  const id = `python-run:${run.script}`;
  const label = `\`${run.command}\` runs without error`;
  const notVerified = (why: string): PythonVerdict => ({ id, label, status: "not-verified", detail: `not verified: ${why}` });
  if (planned.missingInputs.length > 0 || !result) {
    return notVerified(`its input${planned.missingInputs.length === 1 ? "" : "s"} ${planned.missingInputs.join(", ")} ${planned.missingInputs.length === 1 ? "is" : "are"} not in the repository`);
  }
  if (result.outcome === "unavailable") return notVerified(result.reason);
  if (result.timedOut) return { id, label, status: "failed", detail: `it did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped${result.stderr ? `; stderr: ${lastLines(result.stderr)}` : ""}` };
  const missingModule = /\b(?:ModuleNotFoundError|ImportError): No module named '?([\w.]+)'?/.exec(result.stderr);
  if (result.exitCode !== 0 && missingModule) return notVerified(`the module ${missingModule[1]} is not installed here`);
  if (result.exitCode !== 0) return { id, label, status: "failed", detail: `exit code ${result.exitCode}; stderr:\n${lastLines(result.stderr, 20)}` };
  if (run.stdoutTo && result.stdout.trim() === "") return { id, label, status: "failed", detail: `it printed nothing, so ${run.stdoutTo} would be empty` };
  if (run.stdoutTo && /\.json$/i.test(run.stdoutTo)) {
    try {
      JSON.parse(result.stdout);
    } catch (error) {
      return { id, label, status: "failed", detail: `its output is meant for ${run.stdoutTo} but is not JSON (${(error as Error).message}); it begins: ${result.stdout.slice(0, 200)}` };
    }
  }
  return { id, label, status: "passed", detail: null };
}

function lastLines(text: string, count = 8): string {
  const lines = text.trimEnd().split("\n");
  return (lines.length > count ? ["…", ...lines.slice(-count)] : lines).join("\n") || "(nothing on stderr)";
}
