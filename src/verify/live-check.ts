import type { ContractCheck } from "../domain/build-contract.ts";
import type { CheckRunner } from "./check-runner.ts";
import type { DerivedCheck } from "./verify-candidate.ts";

export interface LiveCheck {
  readonly url: string;
  readonly passed: boolean;
  readonly score: number;
  readonly total: number;
  readonly checks: readonly { readonly id: string; readonly passed: boolean; readonly detail: string | null }[];
  /** Checks whose verdict on the live page differs from the one before deploy. */
  readonly differences: readonly string[];
  readonly durationMs: number;
}

/**
 * The evaluator's JS checks once more, against the live Pages URL, compared with the verdict the
 * same checks had before deploy. A difference means Pages serves something other than what was
 * verified (a path, a content type, a CDN) and is worth an event.
 */
export async function checkLive(input: {
  readonly url: string;
  readonly checks: readonly ContractCheck[];
  readonly derived: readonly DerivedCheck[];
  readonly runner: CheckRunner;
  readonly before: ReadonlyMap<string, boolean>;
  readonly checkTimeoutMs: number;
  readonly signal?: AbortSignal;
}): Promise<LiveCheck> {
  const js = input.checks.filter((c): c is Extract<ContractCheck, { kind: "js" }> => c.kind === "js");
  const report = await input.runner.run(input.url, js.map((c) => ({ id: c.id, expression: c.expression })), {
    checkTimeoutMs: input.checkTimeoutMs,
    signal: input.signal,
  });
  const loadProblem = report.loadError ?? (report.pageErrors.length > 0 ? `uncaught error: ${report.pageErrors.join(" | ")}` : null);
  const checks = [
    { id: "page", passed: loadProblem === null, detail: loadProblem },
    ...report.checks.map((r) => ({ id: r.id, passed: r.passed, detail: r.passed ? null : (r.error ?? "false") })),
  ];
  const differences = checks
    .filter((c) => input.before.has(c.id) && input.before.get(c.id) !== c.passed)
    .map((c) => `${c.id}: ${input.before.get(c.id) ? "passed" : "failed"} before deploy, ${c.passed ? "passes" : "fails"} live`);
  const score = checks.filter((c) => c.passed).length;
  return { url: input.url, passed: score === checks.length, score, total: checks.length, checks, differences, durationMs: report.durationMs };
}
