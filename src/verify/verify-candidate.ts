import type { ContractCheck, ContractRule } from "../domain/build-contract.ts";
import type { FileTree } from "../domain/files.ts";
import { startCandidateServer } from "./candidate-server.ts";
import { repositoryWorkVerdicts, type RepositoryWorkInput } from "./repository-work-checks.ts";
import type { CheckRunner, PageCheckReport } from "./check-runner.ts";
import { ruleCheck } from "./rule-engine.ts";

/** One check's verdict on one candidate. */
export interface CheckVerdict {
  readonly id: string;
  /** `page` is the load itself: the document loaded and nothing was thrown uncaught. */
  /** `repository`: a content rule decided on the files; `page-rule`: one decided in the served page. */
  readonly kind: "page" | "js" | "repository" | "page-rule" | "derived";
  readonly origin: "current" | "earlier";
  readonly passed: boolean;
  /** Derived checks (natural language turned into JS by the model) inform repair, never block. */
  readonly blocking: boolean;
  readonly label: string;
  readonly detail: string | null;
}

export interface CandidateVerdict {
  /** Every blocking check passed. */
  readonly passed: boolean;
  /** Blocking checks passed, and how many there are: the ranking of candidates. */
  readonly score: number;
  readonly total: number;
  readonly checks: readonly CheckVerdict[];
  readonly page: {
    readonly loadError: string | null;
    readonly pageErrors: readonly string[];
    readonly consoleErrors: readonly string[];
    readonly failedRequests: readonly string[];
    readonly domExcerpt: string;
  } | null;
  readonly durationMs: number;
}

/** A natural-language check the model turned into an expression. */
export interface DerivedCheck {
  readonly id: string;
  readonly text: string;
  readonly expression: string;
}

export interface VerifyInput {
  readonly files: FileTree;
  /** The build contract's checks, this round's and earlier rounds' (regression). */
  readonly checks: readonly ContractCheck[];
  /** The build contract's content rules (from checks and briefs): blocking, decided by the rule engine. */
  readonly rules: readonly ContractRule[];
  readonly derived: readonly DerivedCheck[];
  /** Attachments by name, for "matches the attachment" checks. */
  readonly attachments: ReadonlyMap<string, Buffer>;
  readonly runner: CheckRunner | undefined;
  readonly checkTimeoutMs: number;
  readonly signal?: AbortSignal;
  /** Workflows and Python beside the page (repository-work-checks.ts); workflows are always validated. */
  readonly repositoryWork?: RepositoryWorkInput;
}

function short(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * Runs the evaluator's checks against a candidate before it is deployed: the page and its JS
 * checks in the browser (served as Pages would serve it), repository checks on the files.
 */
export async function verifyCandidate(input: VerifyInput): Promise<CandidateVerdict> {
  const started = performance.now();
  const verdicts: CheckVerdict[] = [];
  const pageRules: Array<{ rule: ContractRule; expression: string }> = [];
  for (const entry of input.rules) {
    const check = ruleCheck(entry.rule, input.files, input.attachments);
    if (check.on === "page") {
      pageRules.push({ rule: entry, expression: check.expression });
      continue;
    }
    verdicts.push({ id: entry.id, kind: "repository", origin: entry.origin, passed: check.result.passed, blocking: true, label: entry.text, detail: check.result.passed ? null : check.result.detail });
  }
  const work = await repositoryWorkVerdicts(input.files, input.repositoryWork ?? { briefs: [], scriptRunner: undefined, scriptTimeoutMs: 0 }, input.signal);
  for (const verdict of work) verdicts.push({ ...verdict, kind: "repository", origin: "current" });
  let page: CandidateVerdict["page"] = null;
  const jsChecks = input.checks.filter((c): c is Extract<ContractCheck, { kind: "js" }> => c.kind === "js");
  // Page rules run beside the JS checks; without a browser they are not decided (the gate's HTML
  // rule still checks titles and ids statically).
  if (input.runner && input.files.has("index.html")) {
    const server = await startCandidateServer(input.files);
    let report: PageCheckReport;
    try {
      report = await input.runner.run(
        server.url,
        [
          ...jsChecks.map((c) => ({ id: c.id, expression: c.expression })),
          ...pageRules.map((p) => ({ id: p.rule.id, expression: p.expression })),
          ...input.derived.map((d) => ({ id: d.id, expression: d.expression })),
        ],
        { checkTimeoutMs: input.checkTimeoutMs, signal: input.signal },
      );
    } finally {
      await server.close();
    }
    const loadProblem = report.loadError ?? (report.pageErrors.length > 0 ? `uncaught error: ${report.pageErrors.join(" | ")}` : null);
    verdicts.unshift({ id: "page", kind: "page", origin: "current", passed: loadProblem === null, blocking: true, label: "the page loads without uncaught errors", detail: loadProblem && short(loadProblem, 1000) });
    const results = new Map(report.checks.map((r) => [r.id, r]));
    for (const check of jsChecks) {
      const result = results.get(check.id);
      verdicts.push({
        id: check.id,
        kind: "js",
        origin: check.origin,
        passed: result?.passed ?? false,
        blocking: true,
        label: check.expression,
        detail: result?.passed ? null : short(`${result?.error ?? "not evaluated"}${result?.valuePreview ? ` (last value: ${result.valuePreview})` : ""}`),
      });
    }
    for (const { rule } of pageRules) {
      const result = results.get(rule.id);
      verdicts.push({ id: rule.id, kind: "page-rule", origin: rule.origin, passed: result?.passed ?? false, blocking: true, label: rule.text, detail: result?.passed ? null : short(result?.error ?? "not evaluated") });
    }
    for (const derived of input.derived) {
      const result = results.get(derived.id);
      verdicts.push({ id: derived.id, kind: "derived", origin: "current", passed: result?.passed ?? false, blocking: false, label: `${derived.text} — as \`${derived.expression}\``, detail: result?.passed ? null : short(result?.error ?? "false") });
    }
    page = {
      loadError: report.loadError ?? null,
      pageErrors: report.pageErrors,
      consoleErrors: report.consoleErrors,
      failedRequests: report.failedRequests.map((f) => `${f.method} ${f.url}: ${f.reason}`),
      domExcerpt: report.domExcerpt,
    };
  }
  const blocking = verdicts.filter((v) => v.blocking);
  const score = blocking.filter((v) => v.passed).length;
  return { passed: score === blocking.length, score, total: blocking.length, checks: verdicts, page, durationMs: Math.round(performance.now() - started) };
}

/** The failures of a verdict, as the repair prompt shows them. */
export function describeFailures(verdict: CandidateVerdict): string {
  const lines: string[] = [];
  for (const check of verdict.checks.filter((c) => !c.passed)) {
    const origin = check.origin === "earlier" ? " (an earlier round's check — it must keep passing)" : "";
    const advisory = check.blocking ? "" : check.kind === "derived" ? " (derived from a natural-language check; advisory)" : " (advisory)";
    lines.push(`- ${check.kind === "page" ? "Page" : check.kind === "repository" ? "Repository check" : check.kind === "page-rule" ? "Page check" : "Check"} ${check.id}${origin}${advisory}: ${check.label}\n  failed: ${check.detail ?? "false"}`);
  }
  if (verdict.page) {
    if (verdict.page.consoleErrors.length > 0) lines.push(`- Console errors:\n${verdict.page.consoleErrors.slice(0, 10).map((e) => `  - ${short(e)}`).join("\n")}`);
    if (verdict.page.failedRequests.length > 0) lines.push(`- Failed requests:\n${verdict.page.failedRequests.slice(0, 10).map((e) => `  - ${short(e)}`).join("\n")}`);
    if (verdict.page.domExcerpt) lines.push(`- The page's body after the checks ran (trimmed):\n\n\`\`\`html\n${verdict.page.domExcerpt}\n\`\`\``);
  }
  return lines.join("\n");
}
