import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FileTree } from "../../domain/files.ts";
import { ForgeError } from "../../domain/errors.ts";
import { unsafePathProblem } from "../../domain/repository-path.ts";
import type { CommitRequest } from "../../ports/forge.ts";
import { OBJECT_ID } from "./bare-repository.ts";
import { runGit } from "./run-git.ts";

/**
 * Writing commits into a bare repository with git plumbing (no working tree, so concurrent rounds
 * never share a checkout). Shared by the local forge, which commits straight into the served
 * repository, and the GitHub forge, which commits into a local mirror and pushes.
 */

/** The trailer that makes `commitFiles` idempotent across crashes and retries. */
export const IDEMPOTENCY_TRAILER = "Briefwright-Idempotency-Key";

/** How far back a retried commit looks for its own key; rounds add one or two commits each. */
const IDEMPOTENCY_LOOKBACK = 200;

/** Throws `forge-bad-key` unless the key can sit in a commit trailer. */
export function assertIdempotencyKey(key: string): void {
  if (!/^[\x21-\x7e][\x20-\x7e]{0,199}$/.test(key) || key.trimEnd() !== key) {
    throw new ForgeError("idempotency key must be 1-200 printable ASCII characters", { code: "forge-bad-key" });
  }
}

/** The commit message with the idempotency trailer appended. */
export function messageWithKey(message: string, key: string): string {
  return `${message.replace(/\0/g, "").trimEnd() || "Update site"}\n\n${IDEMPOTENCY_TRAILER}: ${key}\n`;
}

/** The newest commit reachable from `tip` (within the lookback) whose message carries `key`. */
export async function commitCarrying(directory: string, tip: string, key: string, home: string): Promise<string | undefined> {
  // -z separates commits with NUL; our messages never contain NUL (stripped on the way in).
  const result = await runGit(["log", "-z", `-n${IDEMPOTENCY_LOOKBACK}`, "--format=%H%n%B", tip, "--"], { gitDir: directory, home });
  const wanted = `${IDEMPOTENCY_TRAILER}: ${key}`;
  for (const record of result.stdout.toString("utf8").split("\0")) {
    const [sha, ...body] = record.split("\n");
    if (sha && OBJECT_ID.test(sha) && body.some((line) => line === wanted)) return sha;
  }
  return undefined;
}

/** Whether any commit reachable from `tip` (within the lookback) carries an idempotency trailer: one of ours. */
export async function hasOurCommit(directory: string, tip: string, home: string): Promise<boolean> {
  const result = await runGit(["log", "-z", `-n${IDEMPOTENCY_LOOKBACK}`, "--format=%B", tip, "--"], { gitDir: directory, home });
  const prefix = `${IDEMPOTENCY_TRAILER}: `;
  return result.stdout
    .toString("utf8")
    .split("\0")
    .some((body) => body.split("\n").some((line) => line.startsWith(prefix)));
}

/** Writes the blobs and the tree of `files` (validated, sorted) and returns the tree id. */
export async function writeTree(directory: string, files: readonly (readonly [string, Buffer])[], home: string): Promise<string> {
  // Blobs are written from temporary files so one `hash-object` serves any number of files;
  // --no-filters keeps bytes exact whatever attributes or autocrlf might say.
  const scratch = await mkdtemp(join(tmpdir(), "briefwright-commit-"));
  try {
    const blobPaths: string[] = [];
    await Promise.all(
      files.map(async ([, content], index) => {
        const blobPath = join(scratch, `blob-${index}`);
        blobPaths[index] = blobPath;
        await writeFile(blobPath, content);
      }),
    );
    let shas: string[] = [];
    if (files.length > 0) {
      const hashed = await runGit(["hash-object", "-w", "--no-filters", "--stdin-paths"], {
        gitDir: directory,
        home,
        input: blobPaths.map((path) => `${path}\n`).join(""),
      });
      shas = hashed.stdout.toString("utf8").split("\n").filter(Boolean);
      if (shas.length !== files.length || !shas.every((sha) => OBJECT_ID.test(sha))) {
        throw new ForgeError(`git hash-object returned ${shas.length} ids for ${files.length} files`);
      }
    }
    // A private index file: the repository's own index (a bare one has none) is never touched.
    const indexEnvironment = { GIT_INDEX_FILE: join(scratch, "index") };
    const indexInfo = files.map(([path], index) => `100644 blob ${shas[index]}\t${path}\0`).join("");
    await runGit(["update-index", "-z", "--add", "--index-info"], { gitDir: directory, home, env: indexEnvironment, input: indexInfo });
    const tree = await runGit(["write-tree"], { gitDir: directory, home, env: indexEnvironment });
    return expectObjectId(tree.stdout, "write-tree");
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export interface CommitTreeInput {
  readonly tree: string;
  readonly parent: string | undefined;
  /** The full message, trailer included. */
  readonly message: string;
  readonly author: CommitRequest["author"];
  /** Epoch ms of the author and committer dates. */
  readonly at: number;
}

/** Writes a commit object and returns its id. */
export async function commitTree(directory: string, input: CommitTreeInput, home: string): Promise<string> {
  const date = `${Math.floor(input.at / 1000)} +0000`;
  const name = cleanIdentity(input.author.name) || "briefwright";
  const email = cleanIdentity(input.author.email);
  const result = await runGit(["commit-tree", input.tree, ...(input.parent ? ["-p", input.parent] : [])], {
    gitDir: directory,
    home,
    input: input.message,
    env: {
      GIT_AUTHOR_NAME: name,
      GIT_AUTHOR_EMAIL: email,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: name,
      GIT_COMMITTER_EMAIL: email,
      GIT_COMMITTER_DATE: date,
    },
  });
  return expectObjectId(result.stdout, "commit-tree");
}

/** Sorted, validated entries; throws `forge-bad-path` naming the first offending path. */
export function validatedFiles(files: FileTree): (readonly [string, Buffer])[] {
  const entries = [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const paths = new Set(entries.map(([path]) => path));
  for (const [path, content] of entries) {
    // Only the unsafe layer: a repository may already hold hidden files briefwright would not write.
    const problem = unsafePathProblem(path);
    if (problem) {
      throw new ForgeError(`file path ${JSON.stringify(path).slice(0, 200)}: ${problem}`, { code: "forge-bad-path" });
    }
    if (!Buffer.isBuffer(content)) {
      throw new ForgeError(`file ${path} is not a Buffer`, { code: "forge-bad-path" });
    }
    const segments = path.split("/");
    for (let depth = 1; depth < segments.length; depth++) {
      const prefix = segments.slice(0, depth).join("/");
      if (paths.has(prefix)) {
        throw new ForgeError(`${prefix} is both a file and a directory`, { code: "forge-bad-path" });
      }
    }
  }
  return entries;
}

/** git drops or rejects these in identities; an evaluator should still see a sensible name. */
function cleanIdentity(value: string): string {
  return value.replace(/[<>\0\n\r]/g, "").trim();
}

export function expectObjectId(stdout: Buffer, command: string): string {
  const sha = stdout.toString("utf8").trim();
  if (!OBJECT_ID.test(sha)) throw new ForgeError(`git ${command} printed ${JSON.stringify(sha.slice(0, 80))}`);
  return sha;
}

/** One promise chain per key: work for a key starts when the previous work for it has settled. */
export class SerialQueue {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
