/**
 * Reading the local forge's bare repositories: names and paths, refs, trees and objects, and the
 * Pages marker. Shared by the forge itself, the git smart-HTTP handler and the Pages host.
 */
import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ForgeError } from "../../domain/errors.ts";
import { runGit } from "./run-git.ts";

/** File inside a bare repository whose presence means Pages is on (git ignores unknown files). */
export const PAGES_MARKER_FILE = "briefwright-pages.json";

const REPOSITORY_NAME = /^[A-Za-z0-9._-]{1,100}$/;
export const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** What the Pages marker records. */
export interface PagesSite {
  readonly branch: string;
  readonly enabledAt: string;
}

/** Throws `forge-bad-name` unless `name` is a safe repository name. */
export function assertRepositoryName(name: string): void {
  if (!isValidRepositoryName(name)) {
    throw new ForgeError(`invalid repository name ${JSON.stringify(name).slice(0, 120)}`, { code: "forge-bad-name" });
  }
}

/** Safe as one path segment on disk and in URLs: no separators, no dot-files, no `..`. */
export function isValidRepositoryName(name: string): boolean {
  return REPOSITORY_NAME.test(name) && !name.startsWith(".");
}

/** `<reposDir>/<name>.git`; the name must already be valid. */
export function repositoryDirectory(reposDir: string, name: string): string {
  return join(resolve(reposDir), `${name}.git`);
}

export async function isBareRepository(directory: string): Promise<boolean> {
  try {
    const [head, objects] = await Promise.all([stat(join(directory, "HEAD")), stat(join(directory, "objects"))]);
    return head.isFile() && objects.isDirectory();
  } catch {
    return false;
  }
}

/** The Pages marker of a bare repository, or undefined when Pages is off. */
export async function readPagesSite(directory: string): Promise<PagesSite | undefined> {
  let text: string;
  try {
    text = await readFile(join(directory, PAGES_MARKER_FILE), "utf8");
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<PagesSite>;
    if (typeof parsed.branch === "string" && isValidBranchName(parsed.branch)) {
      return { branch: parsed.branch, enabledAt: String(parsed.enabledAt ?? "") };
    }
  } catch {
    // A damaged marker still means someone turned Pages on.
  }
  return { branch: "main", enabledAt: "" };
}

/**
 * The commit a branch points at, read from the ref files without starting a process: the Pages
 * host does this on every request. Loose refs win over `packed-refs`, as in git itself.
 */
export async function readBranchTip(directory: string, branch: string): Promise<string | undefined> {
  const ref = `refs/heads/${branch}`;
  try {
    const loose = (await readFile(join(directory, ref), "utf8")).trim();
    if (OBJECT_ID.test(loose)) return loose;
  } catch {
    // Not loose; maybe packed.
  }
  try {
    const packed = await readFile(join(directory, "packed-refs"), "utf8");
    for (const line of packed.split("\n")) {
      const [sha, name] = line.split(" ");
      if (name === ref && sha && OBJECT_ID.test(sha)) return sha;
    }
  } catch {
    // No packed refs either: the branch has no commit.
  }
  return undefined;
}

/** Every file of a commit's tree, byte-exact. */
export async function readTree(directory: string, commit: string, home: string): Promise<Map<string, Buffer>> {
  const listing = await runGit(["ls-tree", "-r", "-z", "--full-tree", commit], { gitDir: directory, home });
  const entries: { path: string; sha: string }[] = [];
  for (const record of listing.stdout.toString("utf8").split("\0")) {
    if (!record) continue;
    const tab = record.indexOf("\t");
    const [, type, sha] = record.slice(0, tab).split(" ");
    // Submodule entries (type "commit") have no content here.
    if (type === "blob" && sha) entries.push({ path: record.slice(tab + 1), sha });
  }
  const objects = await readObjects(
    directory,
    entries.map((entry) => entry.sha),
    home,
  );
  const files = new Map<string, Buffer>();
  for (const [index, entry] of entries.entries()) {
    const object = objects[index];
    if (!object || object.type !== "blob") throw new ForgeError(`blob ${entry.sha} (${entry.path}) is missing`);
    files.set(entry.path, object.content);
  }
  return files;
}

export interface GitObject {
  readonly sha: string;
  readonly type: string;
  readonly content: Buffer;
}

/**
 * Reads many objects through one `git cat-file --batch`; each name may be `<sha>` or
 * `<commit>:<path>`. Missing objects come back as undefined, in order.
 */
export async function readObjects(
  directory: string,
  names: readonly string[],
  home: string,
): Promise<(GitObject | undefined)[]> {
  if (names.length === 0) return [];
  for (const name of names) {
    // The batch protocol is line-based; a newline would desynchronise it.
    if (/[\0\n\r]/.test(name)) throw new ForgeError("object name contains a line break", { code: "forge-bad-path" });
  }
  const result = await runGit(["cat-file", "--batch"], {
    gitDir: directory,
    home,
    input: names.map((name) => `${name}\n`).join(""),
  });
  const output = result.stdout;
  const objects: (GitObject | undefined)[] = [];
  let offset = 0;
  for (const name of names) {
    const lineEnd = output.indexOf(0x0a, offset);
    if (lineEnd < 0) throw new ForgeError(`git cat-file output ended early at ${name}`);
    const header = output.subarray(offset, lineEnd).toString("utf8");
    offset = lineEnd + 1;
    const parts = header.split(" ");
    if (parts.length !== 3) {
      // `<name> missing` or `<name> ambiguous`; names may contain spaces, so judge by the tail.
      objects.push(undefined);
      continue;
    }
    const [sha = "", type = "", sizeText = ""] = parts;
    const size = Number(sizeText);
    if (!OBJECT_ID.test(sha) || !Number.isSafeInteger(size)) {
      objects.push(undefined);
      continue;
    }
    objects.push({ sha, type, content: Buffer.from(output.subarray(offset, offset + size)) });
    offset += size + 1; // content, then a newline
  }
  return objects;
}

export function isValidBranchName(branch: string): boolean {
  return (
    /^[A-Za-z0-9._/-]{1,200}$/.test(branch) &&
    !branch.includes("..") &&
    !branch.includes("//") &&
    !/(^[./-])|([./]$)|\.lock$|\/\./.test(branch)
  );
}
