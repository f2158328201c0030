import type { FileTree } from "../domain/files.ts";
import { COMPILE_PROGRAM, compileVerdicts, planPythonChecks, runVerdict, scriptRunsInBriefs, type PythonVerdict } from "../domain/python-verification.ts";
import type { ScriptRunner } from "../ports/script-runner.ts";
import { isWorkflowPath, validateWorkflow } from "./validate-workflow.ts";

/** What verification needs to check the repository beyond the page: workflows and scripts. */
export interface RepositoryWorkInput {
  /** Every round's brief so far (a script an earlier round said to run must keep running). */
  readonly briefs: readonly string[];
  /** Runs Python; without one, Python is "not verified" rather than skipped silently. */
  readonly scriptRunner: ScriptRunner | undefined;
  /** Cap on one script run (the compile run gets the same). */
  readonly scriptTimeoutMs: number;
}

/** One repository-work verdict; `blocking: false` with a "not verified:" detail is not a pass. */
export interface RepositoryWorkVerdict {
  readonly id: string;
  readonly label: string;
  readonly passed: boolean;
  readonly blocking: boolean;
  readonly detail: string | null;
}

/**
 * Checks what a repository-work task leaves beside the page: each GitHub Actions workflow is
 * parsed and validated as GitHub would, each Python file byte-compiles, and each script the
 * brief says to run runs (confined, time-capped, on a copy). Failures block, so they go back to
 * the model as a repair with the parser's message or the script's stderr.
 */
export async function repositoryWorkVerdicts(files: FileTree, input: RepositoryWorkInput, signal?: AbortSignal): Promise<RepositoryWorkVerdict[]> {
  const verdicts: RepositoryWorkVerdict[] = [];
  for (const [path, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    if (!isWorkflowPath(path)) continue;
    const validation = await validateWorkflow(path, content.toString("utf8"));
    verdicts.push({
      id: `workflow:${path}`,
      label: `${path} is a valid GitHub Actions workflow`,
      passed: validation.valid,
      blocking: true,
      detail: validation.valid ? null : validation.problems.join("\n"),
    });
  }
  // A workflow or script the brief names but the answer left out would otherwise pass unnoticed.
  for (const path of namedRepositoryFiles(input.briefs)) {
    if (files.has(path)) continue;
    verdicts.push({ id: `missing:${path}`, label: `${path}, which the brief names, is in the repository`, passed: false, blocking: true, detail: `${path} is missing; add it as the brief asks` });
  }
  for (const verdict of await pythonVerdicts(files, input, signal)) {
    verdicts.push({ id: verdict.id, label: verdict.label, passed: verdict.status === "passed", blocking: verdict.status !== "not-verified", detail: verdict.detail });
  }
  return verdicts;
}

async function pythonVerdicts(files: FileTree, input: RepositoryWorkInput, signal?: AbortSignal): Promise<PythonVerdict[]> {
  const plan = planPythonChecks(files, input.briefs);
  if (plan.compile.length === 0) return [];
  const runner = input.scriptRunner;
  const noRunner = { outcome: "unavailable", reason: "no script runner is configured" } as const;
  const compiled = runner
    ? await runner.run({ interpreter: "python", args: ["-I", "-c", COMPILE_PROGRAM, ...plan.compile], files, timeoutMs: input.scriptTimeoutMs, isolateNetwork: runner.capabilities.networkIsolation === "namespace", signal })
    : noRunner;
  const verdicts = compileVerdicts(plan.compile, compiled);
  const broken = new Set(verdicts.filter((v) => v.status === "failed").map((v) => v.id.slice("python-compile:".length)));
  for (const planned of plan.runs) {
    // A script that does not compile has its verdict already; running it would only repeat it.
    if (broken.has(planned.run.script)) continue;
    const result =
      planned.missingInputs.length > 0
        ? undefined
        : runner
          ? await runner.run({ interpreter: "python", args: [planned.run.script, ...planned.run.args], files, timeoutMs: input.scriptTimeoutMs, isolateNetwork: true, signal })
          : noRunner;
    verdicts.push(runVerdict(planned, result, input.scriptTimeoutMs));
  }
  return verdicts;
}

/** Workflow files and scripts to run that the briefs name: the answer must have them. */
function namedRepositoryFiles(briefs: readonly string[]): string[] {
  const named = new Set<string>();
  for (const brief of briefs) {
    for (const m of brief.matchAll(/(?<![\w/.-])\.github\/workflows\/[\w.-]+\.ya?ml(?![\w/-])/gi)) named.add(m[0]);
  }
  for (const run of scriptRunsInBriefs(briefs)) named.add(run.script);
  return [...named];
}
