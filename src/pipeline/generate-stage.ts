import type { Check } from "../domain/check.ts";
import { GenerationParseError, LanguageModelError } from "../domain/errors.ts";
import type { TaskRequest } from "../domain/task.ts";
import { parseFilesAnswer } from "../generation/parse-files-answer.ts";
import { renderPrompt } from "../generation/prompt-templates.ts";
import type { ModelMessage } from "../ports/language-model.ts";
import type { Analysis, AnalyzedAttachment } from "./analyze-stage.ts";
import { callModel } from "./call-model.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";

export interface Generation {
  /** Text files the model wrote (complete contents), path → text. */
  readonly files: Readonly<Record<string, string>>;
  /** Parse errors of answers that could not be used, in order. */
  readonly rejectedAnswers: readonly string[];
}

export interface GenerateInput {
  readonly roundId: string;
  readonly request: TaskRequest;
  readonly analysis: Analysis;
  /** Round N > 1: the repository as it stands. */
  readonly current?: ReadonlyMap<string, Buffer>;
  /** Round N > 1: earlier rounds' briefs and checks, oldest first. */
  readonly history?: readonly { readonly round: number; readonly brief: string; readonly checks: readonly Check[] }[];
  readonly signal: AbortSignal;
}

const previewBytes = 2000;
const textLike = /^(text\/|application\/(json|xml|javascript|x-yaml|yaml|csv|x-ndjson))|\+json$|\+xml$/;

function attachmentList(attachments: readonly AnalyzedAttachment[]): string {
  if (attachments.length === 0) return "(none)";
  return attachments
    .map((a) => {
      const head = `- ${a.name} (${a.mimeType}, ${a.bytes} bytes)`;
      if (!textLike.test(a.mimeType)) return head;
      const text = Buffer.from(a.base64, "base64").subarray(0, previewBytes).toString("utf8");
      return `${head}, beginning:\n\n\`\`\`\n${text}${a.bytes > previewBytes ? "\n…" : ""}\n\`\`\``;
    })
    .join("\n");
}

function checkList(checks: readonly Check[]): string {
  if (checks.length === 0) return "(none)";
  return checks.map((c) => (c.kind === "js" ? `- JavaScript: \`${c.expression}\`` : `- ${c.text}`)).join("\n");
}

/** Files shown to the model when revising: the app's own text files, not ours or the attachments. */
function fileListing(files: ReadonlyMap<string, Buffer>, attachmentNames: ReadonlySet<string>): string {
  const shown: string[] = [];
  for (const [path, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    if (path === "LICENSE" || path === "README.md") continue;
    if (attachmentNames.has(path) || content.includes(0)) {
      shown.push(`## ${path}\n\n(${content.length} bytes, not shown)`);
      continue;
    }
    shown.push(`## ${path}\n\n\`\`\`\n${content.toString("utf8")}\n\`\`\``);
  }
  return shown.join("\n\n");
}

function messagesFor(input: GenerateInput): { system: string; user: string } {
  const { request, analysis } = input;
  if (request.round === 1 || !input.current) {
    return {
      system: renderPrompt("build.system", {}),
      user: renderPrompt("build.user", {
        brief: request.brief,
        checks: checkList(analysis.checks),
        attachments: attachmentList(analysis.attachments),
      }),
    };
  }
  const history = (input.history ?? []).map((h) => `## Round ${h.round}\n\n${h.brief}\n\nChecks:\n${checkList(h.checks)}`).join("\n\n");
  const attachmentNames = new Set(analysis.attachments.map((a) => a.name));
  return {
    system: renderPrompt("revise.system", {}),
    user: renderPrompt("revise.user", {
      files: fileListing(input.current, attachmentNames),
      history: history || "(none recorded)",
      round: request.round,
      brief: request.brief,
      checks: checkList(analysis.checks),
      attachments: attachmentList(analysis.attachments),
    }),
  };
}

/**
 * Asks the model for the app's files. An answer that cannot be parsed is sent back once with the
 * reason; the reason is kept in the stage output either way.
 */
export async function generate(input: GenerateInput, deps: PipelineDeps): Promise<Generation> {
  const model = deps.model;
  if (!model) throw new LanguageModelError("none", "no language model is configured (set LLM_BACKEND and VLLM_ENDPOINT)");
  const { system, user } = messagesFor(input);
  const messages: ModelMessage[] = [{ role: "user", content: user }];
  const rejectedAnswers: string[] = [];
  const purpose = input.request.round === 1 ? "generate" : "revise";
  for (let attempt = 1; ; attempt++) {
    const answer = await callModel(model, { purpose, system, messages, format: "json", signal: input.signal }, input.roundId, deps.events);
    try {
      const files = parseFilesAnswer(answer.text);
      const bytes = [...files.values()].reduce((sum, text) => sum + Buffer.byteLength(text), 0);
      deps.events.emit("files-generate", input.roundId, { files: [...files.keys()], bytes });
      return { files: Object.fromEntries(files), rejectedAnswers };
    } catch (error) {
      if (!(error instanceof GenerationParseError) || attempt >= 2) throw error;
      rejectedAnswers.push(error.message);
      messages.push({ role: "assistant", content: answer.text }, { role: "user", content: renderPrompt("fix-format.user", { error: error.message }) });
    }
  }
}
