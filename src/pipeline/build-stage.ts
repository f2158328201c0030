import { buildContract, type BuildContract } from "../domain/build-contract.ts";
import { decodeAttachment } from "../domain/attachment.ts";
import type { Check } from "../domain/check.ts";
import { BriefwrightError, GenerationParseError, describeError } from "../domain/errors.ts";
import { storeFileTree, type StoredFileTree } from "../domain/files.ts";
import type { TaskRequest } from "../domain/task.ts";
import { renderPrompt } from "../generation/prompt-templates.ts";
import { isBlocking, type GateDecision } from "../gate/gate-decision.ts";
import { runSafetyGate } from "../gate/safety-gate.ts";
import type { AnalyzedAttachment } from "./analyze-stage.ts";
import { assemble } from "./assemble-stage.ts";
import { prepareBuildTools } from "./prepare-build-tools.ts";
import { askModel, readAnswer, startConversation, startRepair, type FetchedFile } from "./generate-stage.ts";
import { deriveChecks } from "../verify/derive-checks.ts";
import { describeFailures, verifyCandidate, type CandidateVerdict, type DerivedCheck } from "../verify/verify-candidate.ts";
import type { ReadmeProse } from "../generation/readme-prose.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";
import type { RoundBudget } from "./round-budget.ts";
import { callModel } from "./call-model.ts";
import { writeReadmeProse } from "../generation/readme-prose.ts";
import { editableFiles } from "./generate-stage.ts";

/** No candidate got past the safety gate; nothing was committed. */
export class GateRejectedError extends BriefwrightError {
  readonly decisions: readonly GateDecision[];
  constructor(message: string, decisions: readonly GateDecision[]) {
    super("gate-rejected", message);
    this.decisions = decisions;
  }
}

export interface BuildAttempt {
  readonly attempt: number;
  /** `generate` (round 1), `revise` (round N) or `repair` (after failed checks). */
  readonly purpose: string;
  readonly outcome: "unusable" | "gate-blocked" | "checks-failed" | "accepted";
  readonly reason: string | null;
  /** Every gate decision, clean passes included. */
  readonly gate: readonly GateDecision[];
  readonly changed: readonly string[];
  /** The checks' verdict on the candidate, when it got that far and a browser was there. */
  readonly verdict: AttemptVerdict | null;
}

export interface Build {
  /** The complete tree to deploy. */
  readonly files: StoredFileTree;
  readonly attempts: readonly BuildAttempt[];
  /** Which attempt's candidate is deployed. */
  readonly chosenAttempt: number;
  readonly derived: readonly DerivedCheck[];
  readonly fetched: readonly Omit<FetchedFile, "base64">[];
  /** Attachments the brief asked to change: committed as the model edited them, not byte for byte. */
  readonly editableAttachments: readonly string[];
  /** Set when no candidate existed and the fallback tree ships instead (fallback-build.ts); `withheld`: files the secret scan kept out. */
  readonly fallback?: { readonly code: string; readonly reason: string; readonly withheld: readonly string[] };
}

export interface BuildInput {
  readonly roundId: string;
  readonly request: TaskRequest;
  readonly checks: readonly Check[];
  readonly attachments: readonly AnalyzedAttachment[];
  readonly current?: ReadonlyMap<string, Buffer>;
  readonly history: readonly { readonly round: number; readonly brief: string; readonly checks: readonly Check[] }[];
  readonly rounds: readonly { readonly round: number; readonly brief: string }[];
  readonly repoUrl: string;
  readonly pagesUrl: string;
  readonly acceptedAt: number;
  readonly signal: AbortSignal;
  readonly budget: RoundBudget;
  /** Time to leave for deploy, Pages and the report. */
  readonly reserveMs: number;
}

/** README prose is worth a model call only while this much time is left beyond the reserve. */
const readmeProseMinimumMs = 30_000;

export function contractFor(input: Pick<BuildInput, "request" | "checks" | "attachments" | "history">, maxAttachmentBytes: number): BuildContract {
  return buildContract({
    brief: input.request.brief,
    checks: input.checks,
    attachments: input.attachments.map((a) => decodeAttachment({ name: a.name, url: `data:${a.mimeType};base64,${a.base64}` }, maxAttachmentBytes)),
    earlier: input.history.map((h) => ({ brief: h.brief, checks: h.checks })),
  });
}

/** What the browser and the repository checks said about one candidate, kept per attempt. */
export interface AttemptVerdict {
  readonly passed: boolean;
  readonly score: number;
  readonly total: number;
  readonly durationMs: number;
  readonly checks: CandidateVerdict["checks"];
  readonly pageErrors: readonly string[];
}

function summarize(verdict: CandidateVerdict): AttemptVerdict {
  return { passed: verdict.passed, score: verdict.score, total: verdict.total, durationMs: verdict.durationMs, checks: verdict.checks, pageErrors: verdict.page?.pageErrors ?? [] };
}

interface Candidate {
  readonly attempt: number;
  readonly files: Map<string, Buffer>;
  readonly assembleWith: (prose?: ReadmeProse) => Map<string, Buffer>;
  readonly verdict: CandidateVerdict | undefined;
  /** The fetched files it was assembled with. */
  readonly fetched: readonly FetchedFile[];
}

/**
 * Asks the model for the app and keeps asking, with reasons, until a candidate passes the safety
 * gate and the evaluator's checks: an answer that cannot be read (bad JSON, edit blocks that do
 * not apply) is sent back once; a gated answer goes back with the gate's reasons; a candidate
 * that fails checks in the browser goes back as a repair with its failures — while attempts and
 * the round's time last. The best candidate (most checks passing, later wins ties) is the one
 * returned. Nothing the gate blocked ever leaves this function.
 */
export async function build(input: BuildInput, deps: PipelineDeps): Promise<Build> {
  const { roundId, request } = input;
  const { events, settings } = deps;
  const contract = contractFor(input, settings.maxAttachmentBytes);
  // The brief's fetches and conversions are made now, so their files are in every candidate.
  const { files: fetched, tools } = await prepareBuildTools({ roundId, email: request.email, attachments: input.attachments, current: input.current }, contract, deps);
  const promptInput = { request, checks: input.checks, attachments: input.attachments, contract, fetched: fetched.all(), current: input.current, history: input.history };
  let conversation = startConversation(promptInput);
  const attachmentBytes = new Map(input.attachments.map((a) => [a.name, Buffer.from(a.base64, "base64")]));
  const leftOut = new Set(contract.rules.flatMap(({ rule }) => (rule.kind === "file-absent" ? [rule.path] : [])));
  const derived = await deriveNaturalChecks(input, deps, contract);
  const attempts: BuildAttempt[] = [];
  const maxCalls = settings.buildMaxAttempts + (deps.checkRunner ? settings.repairMaxAttempts : 0);
  let best: Candidate | undefined;
  let repairs = 0;
  let unusableSentBack = false;
  let lastCycleMs = 0;

  for (let attempt = 1; attempt <= maxCalls; attempt++) {
    const cycleStarted = performance.now();
    if (best && input.budget.allowanceMs(input.reserveMs) < lastCycleMs * 1.25 + 1000) {
      events.emit("repair-stop", roundId, { reason: "the rest of the budget would not cover another attempt plus deploy and report", bestAttempt: best.attempt });
      break;
    }
    let text: string;
    try {
      text = await askModel(conversation, deps, roundId, input.budget.signal(input.reserveMs, input.signal), tools);
    } catch (error) {
      // Out of time (or the model failed) while a candidate is in hand: deploy that one.
      if (!best) throw error;
      events.emit("repair-stop", roundId, { reason: `model call ended: ${describeError(error)}`, bestAttempt: best.attempt });
      break;
    }
    const answer = readAnswer(conversation, text);
    if (!answer.ok) {
      attempts.push({ attempt, purpose: conversation.purpose, outcome: "unusable", reason: answer.reason, gate: [], changed: [], verdict: null });
      events.emit("build-attempt", roundId, { attempt, outcome: "unusable", reason: answer.reason });
      if (unusableSentBack && !best) throw new GenerationParseError(`the model's answer could not be used twice in a row: ${answer.reason}`);
      if (unusableSentBack) break;
      unusableSentBack = true;
      conversation.messages.push({ role: "user", content: answer.followUp });
      continue;
    }
    const base = conversation.base;
    // What was fetched, converted or computed so far, the model's own tool runs included, goes into this candidate.
    const fetchedNow = fetched.all();
    const assembleWith = (prose?: ReadmeProse) =>
      assemble({
        request,
        generated: answer.files,
        attachments: input.attachments,
        editableAttachments: contract.editableAttachments,
        fetched: fetchedNow,
        current: base,
        rounds: input.rounds,
        repoUrl: input.repoUrl,
        pagesUrl: input.pagesUrl,
        licenseHolder: settings.licenseHolder,
        acceptedAt: input.acceptedAt,
        prose,
        leftOut,
      });
    const gate = await runSafetyGate({ files: assembleWith(), previous: base, contract, brief: request.brief, knownSecrets: settings.knownSecrets });
    for (const decision of gate.decisions.filter((d) => !(d.passed && d.severity === "block"))) {
      events.emit("gate-decide", roundId, { attempt, ...decision, path: decision.path ?? null });
    }
    const changed = [...answer.files.keys()];
    if (!gate.passed) {
      const blocking = gate.decisions.filter(isBlocking);
      const reason = blocking.map((d) => `${d.rule}${d.path ? ` (${d.path})` : ""}: ${d.detail}`).join("\n");
      attempts.push({ attempt, purpose: conversation.purpose, outcome: "gate-blocked", reason, gate: gate.decisions, changed, verdict: null });
      events.emit("build-attempt", roundId, { attempt, outcome: "gate-blocked", reason });
      if (attempt >= maxCalls && !best) throw new GateRejectedError(`the safety gate blocked every answer; last: ${reason}`, blocking);
      conversation.messages.push({ role: "user", content: renderPrompt("gate-rejected.user", { reasons: blocking.map((d) => `- ${d.rule}${d.path ? ` (${d.path})` : ""}: ${d.detail}`).join("\n") }) });
      continue;
    }

    const verdict = await verify(gate.files, attempt, input, deps, contract, derived, attachmentBytes);
    const candidate: Candidate = { attempt, files: gate.files, assembleWith, verdict, fetched: fetchedNow };
    if (!best || (verdict?.score ?? Number.MAX_SAFE_INTEGER) >= (best.verdict?.score ?? Number.MAX_SAFE_INTEGER)) best = candidate;
    const outcome = verdict && !verdict.passed ? "checks-failed" : "accepted";
    attempts.push({ attempt, purpose: conversation.purpose, outcome, reason: verdict && !verdict.passed ? describeFailures(verdict).slice(0, 2000) : null, gate: gate.decisions, changed, verdict: verdict ? summarize(verdict) : null });
    events.emit("build-attempt", roundId, { attempt, outcome, reason: null });
    lastCycleMs = performance.now() - cycleStarted;
    if (!verdict || verdict.passed) break;
    if (repairs >= settings.repairMaxAttempts) {
      events.emit("repair-stop", roundId, { reason: `${repairs} repairs made, the limit`, bestAttempt: best.attempt });
      break;
    }
    repairs++;
    unusableSentBack = false;
    conversation = startRepair({ ...promptInput, fetched: fetchedNow, candidate: gate.files, failures: describeFailures(verdict) });
  }
  if (!best) throw new GateRejectedError("no usable answer within the attempt limit", []);
  const files = await withReadmeProse(best.files, best.assembleWith, input, deps, contract, best.fetched);
  return {
    files: storeFileTree(files),
    attempts,
    chosenAttempt: best.attempt,
    derived,
    // What the deployed candidate was assembled with (a later, worse candidate's fetches are not in it).
    fetched: best.fetched.map(({ base64: _, ...rest }) => rest),
    editableAttachments: contract.editableAttachments,
  };
}

/** Natural-language checks as JS, asked for once per round; advisory only. */
async function deriveNaturalChecks(input: BuildInput, deps: PipelineDeps, contract: BuildContract): Promise<DerivedCheck[]> {
  if (!deps.model || !deps.checkRunner || !contract.checks.some((c) => c.kind === "natural" && c.origin === "current")) return [];
  const { derived, problems } = await deriveChecks(
    deps.model,
    { brief: input.request.brief, checks: contract.checks, signal: input.budget.signal(input.reserveMs, input.signal) },
    (model, call) => callModel(model, call, input.roundId, deps.events, { prices: deps.settings.llmPrices }),
  );
  deps.events.emit("checks-derive", input.roundId, { derived: derived.length, problems });
  return derived;
}

/** Runs the checks on a candidate; undefined when there is no browser to run them in. */
async function verify(
  files: Map<string, Buffer>,
  attempt: number,
  input: BuildInput,
  deps: PipelineDeps,
  contract: BuildContract,
  derived: readonly DerivedCheck[],
  attachments: ReadonlyMap<string, Buffer>,
): Promise<CandidateVerdict | undefined> {
  const { roundId } = input;
  if (!deps.checkRunner) {
    deps.events.emit("verify-skip", roundId, { attempt, reason: "no browser configured (VERIFY=false)" });
    return undefined;
  }
  // A check may poll for its whole timeout; never let that eat the deploy's reserve.
  const allowance = input.budget.allowanceMs(input.reserveMs);
  const checkTimeoutMs = Math.max(1000, Math.min(deps.settings.checkTimeoutMs, Math.floor(allowance / 2)));
  try {
    const verdict = await verifyCandidate({
      files,
      checks: contract.checks,
      rules: contract.rules,
      derived,
      attachments,
      runner: deps.checkRunner,
      checkTimeoutMs,
      signal: input.budget.signal(input.reserveMs, input.signal),
      repositoryWork: { briefs: input.rounds.map((r) => r.brief), scriptRunner: deps.scriptRunner, scriptTimeoutMs: Math.min(deps.settings.scriptTimeoutMs, Math.max(1000, Math.floor(allowance / 4))) },
    });
    for (const check of verdict.checks) {
      deps.events.emit("check-result", roundId, { attempt, id: check.id, kind: check.kind, origin: check.origin, passed: check.passed, blocking: check.blocking, detail: check.detail });
    }
    deps.events.emit("verify-finish", roundId, { attempt, passed: verdict.passed, score: verdict.score, total: verdict.total, durationMs: verdict.durationMs });
    return verdict;
  } catch (error) {
    // The browser could not run (or time ran out): the candidate is deployed unverified rather than not at all.
    deps.events.emit("verify-skip", roundId, { attempt, reason: describeError(error) });
    return undefined;
  }
}

/**
 * Lets the model write the README's summary, usage and code explanation for the accepted tree.
 * Best effort: without time, a model or a usable answer — or if the new README would not pass
 * the gate — the template's README stays.
 */
async function withReadmeProse(
  files: Map<string, Buffer>,
  assembleWith: (prose?: Parameters<typeof assemble>[0]["prose"]) => Map<string, Buffer>,
  input: BuildInput,
  deps: PipelineDeps,
  contract: BuildContract,
  fetched: readonly FetchedFile[],
): Promise<Map<string, Buffer>> {
  const { roundId } = input;
  if (!deps.model || !deps.settings.readmeProse || input.budget.allowanceMs(input.reserveMs) < readmeProseMinimumMs) {
    const reason = !deps.model ? "no model" : !deps.settings.readmeProse ? "README_PROSE is off" : "not enough time left";
    deps.events.emit("readme-write", roundId, { source: "template", reason });
    return files;
  }
  // A script the brief asked to fix is the app's own code now: the README should explain it.
  const dataFiles = new Set([...input.attachments.map((a) => a.name).filter((name) => !contract.editableAttachments.includes(name)), ...fetched.map((f) => f.path)]);
  const result = await writeReadmeProse(
    deps.model,
    { briefs: input.rounds, files: editableFiles(files, dataFiles), signal: input.budget.signal(input.reserveMs, input.signal) },
    (model, call) => callModel(model, call, roundId, deps.events, { prices: deps.settings.llmPrices }),
  );
  if ("reason" in result) {
    deps.events.emit("readme-write", roundId, { source: "template", reason: result.reason });
    return files;
  }
  const withProse = assembleWith(result.prose);
  // The gate already fixed paths in `files`; carry its version of every file but the README.
  const candidate = new Map(files);
  candidate.set("README.md", withProse.get("README.md")!);
  const gate = await runSafetyGate({ files: candidate, previous: input.current, contract, brief: input.request.brief, knownSecrets: deps.settings.knownSecrets });
  if (!gate.passed) {
    deps.events.emit("readme-write", roundId, { source: "template", reason: "the model's README did not pass the safety gate" });
    return files;
  }
  deps.events.emit("readme-write", roundId, { source: "model", reason: null });
  return gate.files;
}
