import { NO_JEKYLL } from "../domain/files.ts";
import type { BuildContract } from "../domain/build-contract.ts";
import { renderObligations } from "../domain/render-obligations.ts";
import type { Check } from "../domain/check.ts";
import { GenerationParseError, LanguageModelError } from "../domain/errors.ts";
import type { TaskRequest } from "../domain/task.ts";
import { applyEditBlocks, parseEditBlocks, EditApplyError, EditBlockParseError } from "../generation/edit-blocks.ts";
import { parseFilesAnswer } from "../generation/parse-files-answer.ts";
import { renderPrompt } from "../generation/prompt-templates.ts";
import type { ModelImage, ModelMessage, ModelTool } from "../ports/language-model.ts";
import type { AnalyzedAttachment } from "./analyze-stage.ts";
import { attachmentImages, callModel } from "./call-model.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";

/** A file made at build time: fetched (because the brief asked, or by the model), converted, or computed. */
export interface FetchedFile {
  readonly path: string;
  /** The URL fetched; for a conversion or a `run_js` result, the file(s) it was made from. */
  readonly url: string;
  readonly bytes: number;
  readonly contentType: string;
  readonly base64: string;
  /** Made ahead because the build contract asked for it, or by the model through a tool. */
  readonly via: "contract" | "tool";
  /** The build tool that made it (src/build-tools/); absent means a fetch. */
  readonly tool?: "fetch_url" | "convert_file" | "run_js";
}

export interface PromptInput {
  readonly request: TaskRequest;
  readonly checks: readonly Check[];
  readonly attachments: readonly AnalyzedAttachment[];
  readonly contract: BuildContract;
  readonly fetched: readonly FetchedFile[];
  /** Round N > 1: the repository as it stands. */
  readonly current?: ReadonlyMap<string, Buffer>;
  /** Round N > 1: earlier rounds' briefs and checks, oldest first. */
  readonly history?: readonly { readonly round: number; readonly brief: string; readonly checks: readonly Check[] }[];
}

const previewBytes = 2000;
const textLike = /^(text\/|application\/(json|xml|javascript|x-yaml|yaml|csv|x-ndjson))|\+json$|\+xml$/;

function preview(name: string, mimeType: string, content: Buffer): string {
  const head = `- ${name} (${mimeType}, ${content.length} bytes)`;
  if (!textLike.test(mimeType)) return head;
  const text = content.subarray(0, previewBytes).toString("utf8");
  return `${head}, beginning:\n\n\`\`\`\n${text}${content.length > previewBytes ? "\n…" : ""}\n\`\`\``;
}

function attachmentList(attachments: readonly AnalyzedAttachment[]): string {
  if (attachments.length === 0) return "(none)";
  return attachments.map((a) => preview(a.name, a.mimeType, Buffer.from(a.base64, "base64"))).join("\n");
}

function fetchedList(fetched: readonly FetchedFile[]): string {
  if (fetched.length === 0) return "(none)";
  return fetched.map((f) => `${preview(f.path, f.contentType, Buffer.from(f.base64, "base64"))}\n  ${!f.tool || f.tool === "fetch_url" ? "fetched from" : `made by ${f.tool} from`} ${f.url}`).join("\n");
}

function checkList(checks: readonly Check[]): string {
  if (checks.length === 0) return "(none)";
  return checks.map((c) => (c.kind === "js" ? `- JavaScript: \`${c.expression}\`` : `- ${c.text}`)).join("\n");
}

/** Attachments the brief asks to change, as the text the model starts editing from. */
function editableStart(input: PromptInput): Map<string, Buffer> {
  const start = new Map<string, Buffer>();
  for (const attachment of input.attachments) {
    if (input.contract.editableAttachments.includes(attachment.name)) start.set(attachment.name, Buffer.from(attachment.base64, "base64"));
  }
  return start;
}

/** Attachments and fetched files: committed as they are, so not offered for editing. */
function dataFilesOf(input: PromptInput, fetched: readonly FetchedFile[]): Set<string> {
  return new Set([...input.attachments.map((a) => a.name).filter((name) => !input.contract.editableAttachments.includes(name)), ...fetched.map((f) => f.path)]);
}

/** Round 1: the full text of each attachment to edit, as a file the answer must return. */
function editSection(start: ReadonlyMap<string, Buffer>): string {
  if (start.size === 0) return "";
  const files = [...start].map(([path, content]) => `## ${path}\n\n\`\`\`\n${content.toString("utf8")}\n\`\`\``).join("\n\n");
  return renderPrompt("edit-attachments.user", { files });
}

/** Files shown to the model when revising: the app's own text files, not ours or the data. */
export function editableFiles(files: ReadonlyMap<string, Buffer>, dataFiles: ReadonlySet<string>): Map<string, string> {
  const editable = new Map<string, string>();
  for (const [path, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    if (path === "LICENSE" || path === "README.md" || path === NO_JEKYLL || dataFiles.has(path) || content.includes(0)) continue;
    editable.set(path, content.toString("utf8"));
  }
  return editable;
}

function fileListing(files: ReadonlyMap<string, Buffer>, editable: ReadonlyMap<string, string>): string {
  const shown: string[] = [];
  for (const [path, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    if (path === "LICENSE" || path === "README.md" || path === NO_JEKYLL) continue;
    const text = editable.get(path);
    shown.push(text === undefined ? `## ${path}\n\n(${content.length} bytes, not shown; keep it)` : `## ${path}\n\n\`\`\`\n${text}\n\`\`\``);
  }
  return shown.join("\n\n");
}

/** The answer format of a round: whole files for a new app, edit blocks for a revision. */
export type AnswerFormat = "files-json" | "edit-blocks";

export interface Conversation {
  readonly format: AnswerFormat;
  readonly purpose: string;
  readonly system: string;
  readonly messages: ModelMessage[];
  /** Round N: the editable text files the edit blocks apply to. */
  readonly editable: ReadonlyMap<string, string>;
  /** Image attachments, shown to models that take images and described to the others. */
  readonly images: readonly ModelImage[];
  /** The tree the answer's files are laid over: the repository (round N), a failed candidate (repair). */
  readonly base: ReadonlyMap<string, Buffer> | undefined;
}

/** The opening of the conversation with the model for this round. */
export function startConversation(input: PromptInput): Conversation {
  const { request } = input;
  const obligations = renderObligations(input.contract) || "(none beyond the brief)";
  if (request.round === 1 || !input.current) {
    return {
      format: "files-json",
      purpose: "generate",
      system: renderPrompt("build.system", {}),
      messages: [
        {
          role: "user",
          content: renderPrompt("build.user", {
            brief: request.brief,
            obligations,
            checks: checkList(input.checks),
            attachments: attachmentList(input.attachments),
            fetched: fetchedList(input.fetched),
            edit: editSection(editableStart(input)),
          }),
        },
      ],
      editable: new Map(),
      images: attachmentImages(input.attachments),
      base: undefined,
    };
  }
  // An attachment to edit starts from the attachment, not from whatever the repository holds.
  const base = new Map([...input.current, ...editableStart(input)]);
  const editable = editableFiles(base, dataFilesOf(input, input.fetched));
  const history = (input.history ?? []).map((h) => `## Round ${h.round}\n\n${h.brief}\n\nChecks:\n${checkList(h.checks)}`).join("\n\n");
  return {
    format: "edit-blocks",
    purpose: "revise",
    system: renderPrompt("revise.system", {}),
    messages: [
      {
        role: "user",
        content: renderPrompt("revise.user", {
          files: fileListing(base, editable),
          history: history || "(none recorded)",
          round: request.round,
          brief: request.brief,
          obligations,
          checks: checkList(input.checks),
          attachments: attachmentList(input.attachments),
          fetched: fetchedList(input.fetched),
        }),
      },
    ],
    editable,
    images: attachmentImages(input.attachments),
    base,
  };
}

/** A fresh conversation that asks for edit blocks fixing the failures of a candidate. */
export function startRepair(input: PromptInput & { readonly candidate: ReadonlyMap<string, Buffer>; readonly failures: string }): Conversation {
  const editable = editableFiles(input.candidate, dataFilesOf(input, input.fetched));
  return {
    format: "edit-blocks",
    purpose: "repair",
    system: renderPrompt("revise.system", {}),
    messages: [
      {
        role: "user",
        content: renderPrompt("repair.user", {
          files: fileListing(input.candidate, editable),
          round: input.request.round,
          brief: input.request.brief,
          obligations: renderObligations(input.contract) || "(none beyond the brief)",
          failures: input.failures,
        }),
      },
    ],
    editable,
    images: attachmentImages(input.attachments),
    base: input.candidate,
  };
}

/** The files an answer produces, or the reason it produced none (to send back to the model). */
export type AnswerOutcome =
  | { readonly ok: true; readonly files: Map<string, string>; readonly modes: string[] }
  | { readonly ok: false; readonly reason: string; readonly followUp: string };

export function readAnswer(conversation: Conversation, text: string): AnswerOutcome {
  try {
    if (conversation.format === "files-json") return { ok: true, files: parseFilesAnswer(text), modes: ["whole-file"] };
    const { files, applied } = applyEditBlocks(conversation.editable, parseEditBlocks(text));
    // Only what the blocks touched is the model's change; the rest stays as the repository has it.
    const changed = new Map([...files].filter(([path]) => applied.some((a) => a.path === path)));
    if (changed.size === 0) throw new GenerationParseError("the answer contains no edit blocks");
    for (const path of changed.keys()) {
      if (path === "LICENSE" || path === "README.md") changed.delete(path);
    }
    return { ok: true, files: changed, modes: applied.map((a) => `${a.path}:${a.mode}`) };
  } catch (error) {
    if (error instanceof EditApplyError || error instanceof EditBlockParseError || error instanceof GenerationParseError) {
      const followUp =
        conversation.format === "files-json"
          ? renderPrompt("fix-format.user", { error: error.message })
          : renderPrompt("fix-edits.user", { error: error.message });
      return { ok: false, reason: error.message, followUp };
    }
    throw error;
  }
}

/**
 * One model call in the conversation; the answer text is added to it. `tools` are offered when
 * the model takes tools (the build-contract prefetch covers the rest).
 */
export async function askModel(
  conversation: Conversation,
  deps: PipelineDeps,
  roundId: string,
  signal: AbortSignal,
  tools: readonly ModelTool[] = [],
): Promise<string> {
  const model = deps.model;
  if (!model) throw new LanguageModelError("none", "no language model is configured (set LLM_BACKEND and VLLM_ENDPOINT)");
  const answer = await callModel(
    model,
    {
      purpose: conversation.purpose,
      system: conversation.system,
      messages: conversation.messages,
      format: conversation.format === "files-json" ? "json" : "text",
      images: conversation.images,
      ...(model.supportsTools && tools.length > 0 ? { tools } : {}),
      signal,
    },
    roundId,
    deps.events,
    { prices: deps.settings.llmPrices },
  );
  conversation.messages.push({ role: "assistant", content: answer.text });
  return answer.text;
}
