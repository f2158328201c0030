import { NO_JEKYLL } from "../domain/files.ts";
import type { TaskRequest } from "../domain/task.ts";
import { mitLicense } from "../generation/mit-license.ts";
import { buildReadme } from "../generation/readme.ts";
import type { ReadmeProse } from "../generation/readme-prose.ts";
import type { AnalyzedAttachment } from "./analyze-stage.ts";
import type { FetchedFile } from "./generate-stage.ts";

export interface AssembleInput {
  readonly request: TaskRequest;
  /** The model's new or changed text files, path → complete content. */
  readonly generated: ReadonlyMap<string, string>;
  readonly attachments: readonly AnalyzedAttachment[];
  /**
   * Attachments the brief asks to change (the build contract's `editableAttachments`): the
   * model's version — in `generated`, or already in `current` — is kept instead of the original.
   */
  readonly editableAttachments?: readonly string[];
  readonly fetched: readonly FetchedFile[];
  /** Round N > 1: the repository as it stands (kept unless replaced). */
  readonly current?: ReadonlyMap<string, Buffer>;
  /** Every round's brief so far, oldest first, the current one last. */
  readonly rounds: readonly { readonly round: number; readonly brief: string }[];
  readonly repoUrl: string;
  readonly pagesUrl: string;
  readonly licenseHolder: string;
  /** When the round was accepted (the licence year comes from it, so a rerun is identical). */
  readonly acceptedAt: number;
  /** The model's README prose, when it wrote some. */
  readonly prose?: ReadmeProse;
  /** Paths the safety gate will drop (files the brief says not to commit): the README does not list them. */
  readonly leftOut?: ReadonlySet<string>;
}

function titleOf(files: ReadonlyMap<string, Buffer>, fallback: string): string {
  const html = files.get("index.html")?.toString("utf8") ?? "";
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(html)?.[1]?.trim();
  return title || fallback;
}

/**
 * The complete tree of the next commit: what is there, the model's files over it, the
 * attachments (but those the brief asks to change) and fetched files byte for byte, an MIT
 * LICENSE, a `.nojekyll` and a README covering every round.
 */
export function assemble(input: AssembleInput): Map<string, Buffer> {
  const files = new Map<string, Buffer>(input.current ?? []);
  for (const [path, text] of input.generated) files.set(path, Buffer.from(text, "utf8"));
  for (const fetched of input.fetched) files.set(fetched.path, Buffer.from(fetched.base64, "base64"));
  for (const attachment of input.attachments) {
    // `current` holds an editable attachment only as this round's starting content or a
    // candidate's edit of it (see startConversation), never a stale copy, so it wins too.
    if (input.editableAttachments?.includes(attachment.name) && files.has(attachment.name)) continue;
    files.set(attachment.name, Buffer.from(attachment.base64, "base64"));
  }
  files.set("LICENSE", Buffer.from(mitLicense(new Date(input.acceptedAt).getUTCFullYear(), input.licenseHolder)));
  // GitHub Pages runs Jekyll on a branch build unless told not to: it would render `story.md` as
  // HTML instead of serving the file the grader fetches, and hide `_`-folders. The sites are static.
  files.set(NO_JEKYLL, Buffer.alloc(0));
  const readme = buildReadme({
    title: titleOf(files, input.request.task),
    pagesUrl: input.pagesUrl,
    repoUrl: input.repoUrl,
    rounds: input.rounds,
    files: input.leftOut?.size ? new Map([...files].filter(([path]) => !input.leftOut!.has(path))) : files,
    attachments: input.attachments.map((a) => a.name),
    licenseHolder: input.licenseHolder,
    prose: input.prose,
  });
  files.set("README.md", Buffer.from(readme));
  return files;
}
