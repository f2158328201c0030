import { safeAttachmentName } from "../domain/attachment.ts";
import { describeError } from "../domain/errors.ts";
import type { FetchedFile } from "../pipeline/generate-stage.ts";

/**
 * The files of one round's build that tools read and write: what they may read (attachments, the
 * repository's files in a later round, and everything saved so far) and what they saved, by path
 * (a later save of a path replaces an earlier one). Saved files are committed byte for byte, stay
 * out of the model's editable files and are listed in `build.fetched` with `via`.
 */
export class BuildFiles {
  readonly #saved = new Map<string, FetchedFile>();
  readonly #readable: ReadonlyMap<string, Buffer>;
  readonly #reserved: ReadonlySet<string>;

  constructor(options: {
    /** Attachments and (round N) the repository's files; attachments win over repository files of the same path. */
    readonly readable: ReadonlyMap<string, Buffer>;
    /** Paths no tool may write: the files briefwright writes itself and the attachments. */
    readonly reservedPaths: Iterable<string>;
  }) {
    this.#readable = options.readable;
    this.#reserved = new Set([...options.reservedPaths].map((path) => path.toLowerCase()));
  }

  save(file: FetchedFile): void {
    this.#saved.set(file.path, file);
  }

  /** Every saved file, in the order first saved. */
  all(): FetchedFile[] {
    return [...this.#saved.values()];
  }

  /** A saved file's bytes, else an attachment's or the repository's; undefined when there is none. */
  read(path: string): Buffer | undefined {
    const saved = this.#saved.get(path);
    return saved ? Buffer.from(saved.base64, "base64") : this.#readable.get(path);
  }

  /** What `read` can return, sorted: the names a tool's refusal lists for the model. */
  readablePaths(): string[] {
    return [...new Set([...this.#readable.keys(), ...this.#saved.keys()])].sort();
  }

  /** The paths no tool may write, lower case. */
  reservedPaths(): ReadonlySet<string> {
    return this.#reserved;
  }

  /** Why a tool may not write `path`, or undefined when it may. */
  savePathProblem(path: string, argument = "save_as"): string | undefined {
    return savePathProblem(path, this.#reserved, argument);
  }
}

/** Why a tool may not write `path` (unsafe, or one of `reserved`, lower case), or undefined. */
export function savePathProblem(path: string, reserved: ReadonlySet<string>, argument = "save_as"): string | undefined {
  try {
    safeAttachmentName(path);
  } catch (error) {
    return `${argument} ${JSON.stringify(path)} is not a safe relative path: ${describeError(error).replace(/^attachment name (?:"(?:[^"\\]|\\.)*" )?/, "it ")}`;
  }
  if (reserved.has(path.toLowerCase())) return `${argument} ${JSON.stringify(path)} names a file that is written for you (or an attachment); choose another name`;
  return undefined;
}
