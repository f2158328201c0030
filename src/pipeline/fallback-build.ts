import { BriefwrightError, LanguageModelError, describeError } from "../domain/errors.ts";
import { storeFileTree } from "../domain/files.ts";
import type { RoundOutcome } from "../domain/task.ts";
import { scanSecrets } from "../gate/secret-scan-rule.ts";
import { assemble, type AssembleInput } from "./assemble-stage.ts";
import type { Build } from "./build-stage.ts";
import type { RoundBudget } from "./round-budget.ts";

/**
 * Why a round ships a fallback: a stable code and one sentence a person can read. Never a stack
 * trace, never a secret (see `publicReason`).
 */
export interface FallbackReason {
  readonly code: string;
  readonly reason: string;
}

/**
 * What `assemble` takes for a round, without a model's files (round N > 1: `current` is the
 * repository as it stands, kept whole; only README.md changes), plus what the fallback needs.
 */
export interface FallbackInput extends Pick<AssembleInput, "request" | "attachments" | "current" | "rounds" | "repoUrl" | "pagesUrl" | "licenseHolder" | "acceptedAt"> {
  readonly knownSecrets: readonly string[];
  readonly why: FallbackReason;
}

/** How much of an error's own message goes into the reason: enough to act on, not a dump. */
const maxDetailChars = 300;

/** What each failure means to someone reading the task API or the README. */
const sentences: Record<string, string> = {
  "generation-unparseable": "the model's answers could not be read as an app",
  "gate-rejected": "the safety gate blocked every answer the model gave",
  "deadline-exceeded": "the round's time ran out before an app was built",
  "llm-call-failed": "the language model could not be reached",
  "llm-all-failed": "no language model provider answered",
  "llm-circuit-open": "the language model kept failing and was paused",
};

/**
 * The reason for the record, the API and the README: a sentence by error code, then the first
 * line of the error's message, shortened, with every configured secret masked (provider adapters
 * mask their own keys already; this also covers the student secret and anything quoted back).
 */
export function publicReason(error: unknown, knownSecrets: readonly string[]): FallbackReason {
  const code = error instanceof BriefwrightError ? error.code : "internal";
  const noModel = error instanceof LanguageModelError && error.provider === "none";
  const sentence = noModel ? "no language model is configured" : (sentences[code] ?? "the build failed");
  let detail = describeError(error).split("\n")[0]!.trim();
  for (const secret of knownSecrets) if (secret.length >= 4) detail = detail.replaceAll(secret, "[redacted]");
  if (detail.length > maxDetailChars) detail = `${detail.slice(0, maxDetailChars - 1)}…`;
  return { code: noModel ? "llm-not-configured" : code, reason: detail ? `${sentence}: ${detail}` : sentence };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A page for Pages to serve when there is no app at all, saying so plainly: the deploy waits for
 * Pages to answer 200, and the evaluator's browser gets an honest page instead of a 404.
 */
function noticePage(input: FallbackInput, withheld: ReadonlySet<string>): string {
  const title = escapeHtml(input.request.task);
  const links = input.attachments.filter((a) => !withheld.has(a.name)).map((a) => `<li><a href="${escapeHtml(encodeURI(a.name))}">${escapeHtml(a.name)}</a></li>`).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
</head>
<body>
<main>
<h1>${title}</h1>
<p>This app could not be built for round ${input.request.round}: ${escapeHtml(input.why.reason)}.</p>
<h2>What was asked</h2>
<pre style="white-space: pre-wrap">${escapeHtml(input.request.brief)}</pre>
${links ? `<h2>Files</h2>\n<ul>\n${links}\n</ul>\n` : ""}<p>See README.md in the repository for details.</p>
</main>
</body>
</html>
`;
}

/**
 * The tree a round ships when no candidate exists: the repository as it stands (round N), the
 * attachments byte for byte, the MIT LICENSE, a README that says what was asked and what could
 * not be built and why, and — only where there is no page yet — a notice page. Assembled like any
 * candidate (assemble-stage.ts) so it keeps every rule of a normal commit; a file the secret scan
 * flags is left out, never committed.
 */
export async function fallbackBuild(input: FallbackInput): Promise<Build> {
  const hasPage = input.current?.has("index.html") || input.attachments.some((a) => a.name === "index.html");
  const round = input.request.round;
  const what = round === 1 ? "No app was built" : `Round ${round}'s changes were not made; the app is as round ${round - 1} left it`;
  const assembleWithout = (withheld: ReadonlySet<string>) =>
    assemble({
      request: input.request,
      generated: new Map(hasPage ? [] : [["index.html", noticePage(input, withheld)]]),
      attachments: input.attachments.filter((a) => !withheld.has(a.name)),
      fetched: [],
      current: input.current && new Map([...input.current].filter(([path]) => !withheld.has(path))),
      rounds: input.rounds,
      repoUrl: input.repoUrl,
      pagesUrl: input.pagesUrl,
      licenseHolder: input.licenseHolder,
      acceptedAt: input.acceptedAt,
      prose: {
        summary: `**${what}.** Why: ${input.why.reason}.\n\nWhat round ${round} asked:\n\n${quote(input.request.brief)}`,
        usage: hasPage
          ? `Open the live page (${input.pagesUrl}).`
          : `The live page (${input.pagesUrl}) shows this notice and links the files that came with the brief.`,
        codeExplanation: `This commit is a best-effort hand-in made by briefwright when building failed (${input.why.code}); ${
          input.attachments.length > 0 ? "the attachments are committed unchanged" : "the brief came with no attachments"
        }.${withheld.size > 0 ? ` Left out because they look like they hold a secret: ${[...withheld].sort().join(", ")}.` : ""}`,
      },
    });
  const flaggedIn = async (files: Map<string, Buffer>) =>
    (await scanSecrets(files, { knownSecrets: input.knownSecrets })).filter((d) => !d.passed && d.path).map((d) => d.path!);
  let files = assembleWithout(new Set());
  const withheld = new Set(await flaggedIn(files));
  if (withheld.size > 0) {
    files = assembleWithout(withheld);
    // What we wrote ourselves (README, notice page) quotes the brief; if that is what was flagged, it goes too.
    for (const path of await flaggedIn(files)) {
      withheld.add(path);
      files.delete(path);
    }
  }
  return { files: storeFileTree(files), attempts: [], chosenAttempt: 0, derived: [], fetched: [], editableAttachments: [], fallback: { ...input.why, withheld: [...withheld].sort() } };
}

function quote(text: string): string {
  return text
    .trim()
    .split("\n")
    .map((line) => `> ${line}`)
    .join("\n");
}

/**
 * What a round ships, from its build: a fallback, the best candidate when it still fails some
 * blocking checks, or a full build (verified and passing, or not verified at all).
 */
export function outcomeOf(built: Build): RoundOutcome {
  if (built.fallback) return { kind: "fallback", reason: built.fallback.reason };
  const verdict = built.attempts.find((a) => a.attempt === built.chosenAttempt)?.verdict;
  if (!verdict || verdict.passed) return { kind: "built", reason: null };
  const failing = verdict.checks.filter((c) => c.blocking && !c.passed).map((c) => c.label || c.id);
  const listed = failing.slice(0, 5).join("; ") + (failing.length > 5 ? ` and ${failing.length - 5} more` : "");
  return { kind: "best-effort", reason: `no candidate passed every check; the best passes ${verdict.score} of ${verdict.total} (failing: ${listed})`.slice(0, 1000) };
}

/** The pause the job runner takes before running a round again (main.ts); a retried build must fit after it. */
export const roundRetryDelayMs = 2000;

/** Slack on top of a repeat of the failed try, for the parts of a round around its build. */
const retryMarginMs = 5000;

/**
 * Whether a failed build should fail this attempt, so the job runs the round again, rather than
 * ship the fallback now. Only a model that could not be reached may do better on another try
 * (an outage passes; unreadable or gate-blocked answers were already sent back inside the build),
 * only while the job has attempts left, and only if another try as long as this one, after the
 * runner's pause, still leaves the deploy-and-report reserve.
 */
export function worthAnotherBuild(
  error: unknown,
  context: { readonly spentMs: number; readonly budget: RoundBudget; readonly reserveMs: number; readonly attempt: number; readonly maxAttempts?: number },
): boolean {
  if (!(error instanceof LanguageModelError) || !error.isRetryable || error.provider === "none") return false;
  if (context.attempt >= (context.maxAttempts ?? 2)) return false;
  return context.budget.allowanceMs(context.reserveMs) > context.spentMs + roundRetryDelayMs + retryMarginMs;
}
