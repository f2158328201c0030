import { buildContract, type BuildContract } from "../domain/build-contract.ts";
import { decodeAttachment } from "../domain/attachment.ts";
import type { Check } from "../domain/check.ts";
import { BriefwrightError, GenerationParseError } from "../domain/errors.ts";
import { storeFileTree, type StoredFileTree } from "../domain/files.ts";
import type { TaskRequest } from "../domain/task.ts";
import { renderPrompt } from "../generation/prompt-templates.ts";
import { isBlocking, type GateDecision } from "../gate/gate-decision.ts";
import { runSafetyGate } from "../gate/safety-gate.ts";
import type { AnalyzedAttachment } from "./analyze-stage.ts";
import { assemble } from "./assemble-stage.ts";
import { fetchBuildFiles } from "./fetch-build-files.ts";
import { askModel, readAnswer, startConversation, type FetchedFile } from "./generate-stage.ts";
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
  readonly outcome: "unusable" | "gate-blocked" | "accepted";
  readonly reason: string | null;
  /** Every gate decision, clean passes included. */
  readonly gate: readonly GateDecision[];
  readonly changed: readonly string[];
}

export interface Build {
  /** The complete tree to deploy. */
  readonly files: StoredFileTree;
  readonly attempts: readonly BuildAttempt[];
  readonly fetched: readonly Omit<FetchedFile, "base64">[];
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

/**
 * Asks the model for the app and keeps asking, with reasons, until an answer gets through the
 * safety gate: an answer that cannot be read (bad JSON, edit blocks that do not apply) is sent
 * back once; a gated answer is sent back with the gate's reasons while attempts remain.
 * Nothing the gate blocked ever leaves this function.
 */
export async function build(input: BuildInput, deps: PipelineDeps): Promise<Build> {
  const { roundId, request, events } = { ...input, events: deps.events };
  const contract = contractFor(input, deps.settings.maxAttachmentBytes);
  const fetched = await fetchBuildFiles(contract, roundId, deps);
  const conversation = startConversation({
    request,
    checks: input.checks,
    attachments: input.attachments,
    contract,
    fetched,
    current: input.current,
    history: input.history,
  });
  const attempts: BuildAttempt[] = [];
  let unusableSentBack = false;
  for (let attempt = 1; attempt <= deps.settings.buildMaxAttempts; attempt++) {
    const text = await askModel(conversation, deps, roundId, input.signal);
    const answer = readAnswer(conversation, text);
    if (!answer.ok) {
      attempts.push({ attempt, outcome: "unusable", reason: answer.reason, gate: [], changed: [] });
      events.emit("build-attempt", roundId, { attempt, outcome: "unusable", reason: answer.reason });
      if (unusableSentBack) throw new GenerationParseError(`the model's answer could not be used twice in a row: ${answer.reason}`);
      unusableSentBack = true;
      conversation.messages.push({ role: "user", content: answer.followUp });
      continue;
    }
    const assembleWith = (prose?: Parameters<typeof assemble>[0]["prose"]) => assemble({
      request,
      generated: answer.files,
      attachments: input.attachments,
      fetched,
      current: input.current,
      rounds: input.rounds,
      repoUrl: input.repoUrl,
      pagesUrl: input.pagesUrl,
      licenseHolder: deps.settings.licenseHolder,
      acceptedAt: input.acceptedAt,
      prose,
    });
    const tree = assembleWith();
    const gate = await runSafetyGate({ files: tree, previous: input.current, contract, brief: request.brief, knownSecrets: deps.settings.knownSecrets });
    const notable = gate.decisions.filter((d) => !(d.passed && d.severity === "block"));
    for (const decision of notable) events.emit("gate-decide", roundId, { attempt, ...decision, path: decision.path ?? null });
    const changed = [...answer.files.keys()];
    if (!gate.passed) {
      const blocking = gate.decisions.filter(isBlocking);
      const reason = blocking.map((d) => `${d.rule}${d.path ? ` (${d.path})` : ""}: ${d.detail}`).join("\n");
      attempts.push({ attempt, outcome: "gate-blocked", reason, gate: gate.decisions, changed });
      events.emit("build-attempt", roundId, { attempt, outcome: "gate-blocked", reason });
      if (attempt >= deps.settings.buildMaxAttempts) throw new GateRejectedError(`the safety gate blocked every answer; last: ${reason}`, blocking);
      conversation.messages.push({ role: "user", content: renderPrompt("gate-rejected.user", { reasons: blocking.map((d) => `- ${d.rule}${d.path ? ` (${d.path})` : ""}: ${d.detail}`).join("\n") }) });
      continue;
    }
    attempts.push({ attempt, outcome: "accepted", reason: null, gate: gate.decisions, changed });
    events.emit("build-attempt", roundId, { attempt, outcome: "accepted", reason: null });
    const files = await withReadmeProse(gate.files, assembleWith, input, deps, contract, fetched);
    return { files: storeFileTree(files), attempts, fetched: fetched.map(({ base64: _, ...rest }) => rest) };
  }
  throw new GateRejectedError("no usable answer within the attempt limit", []);
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
  const dataFiles = new Set([...input.attachments.map((a) => a.name), ...fetched.map((f) => f.path)]);
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
