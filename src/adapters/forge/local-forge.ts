import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { FileTree } from "../../domain/files.ts";
import { ForgeError, describeError } from "../../domain/errors.ts";
import { systemClock, type Clock } from "../../ports/clock.ts";
import type { CommitRequest, CommitResult, Forge, RepositoryRef } from "../../ports/forge.ts";
import {
  assertRepositoryName,
  isBareRepository,
  isValidBranchName,
  OBJECT_ID,
  type PagesSite,
  PAGES_MARKER_FILE,
  readBranchTip,
  readPagesSite,
  readTree,
  repositoryDirectory,
} from "./bare-repository.ts";
import { runGit } from "./run-git.ts";

/**
 * The local forge: bare repositories under `reposDir`, committed to with git plumbing (no working
 * tree, so concurrent rounds never share a checkout), served by `git-http-handler.ts` and
 * `pages-handler.ts`. See docs/decisions/0003-local-forge.md.
 */
export interface LocalForgeSettings {
  /** Directory holding `<name>.git` bare repositories; created on demand. */
  readonly reposDir: string;
  /** Base URL the API is reachable at, without a trailing slash (one is tolerated). */
  readonly publicUrl: string;
  /** Base URL of the Pages host (its own origin, see pages-server.ts). Default: `publicUrl`. */
  readonly pagesPublicUrl?: string;
  /** Branch commits go to and Pages serves. Default `main`. */
  readonly defaultBranch?: string;
  /** Commit dates and retry pauses; injectable for tests. Default: the system clock. */
  readonly clock?: Clock;
}

/** The trailer that makes `commitFiles` idempotent across crashes and retries. */
export const IDEMPOTENCY_TRAILER = "Briefwright-Idempotency-Key";

/** How far back a retried commit looks for its own key; rounds add one or two commits each. */
const IDEMPOTENCY_LOOKBACK = 200;
/** Attempts at the compare-and-swap of the branch ref before giving up as contended. */
const MAX_REF_ATTEMPTS = 8;

export function createLocalForge(settings: LocalForgeSettings): Forge {
  const reposDir = resolve(settings.reposDir);
  const publicUrl = settings.publicUrl.replace(/\/+$/, "");
  const pagesPublicUrl = (settings.pagesPublicUrl ?? settings.publicUrl).replace(/\/+$/, "");
  const branch = settings.defaultBranch ?? "main";
  const clock = settings.clock ?? systemClock;
  if (!isValidBranchName(branch)) {
    throw new ForgeError(`invalid default branch name ${JSON.stringify(branch)}`, { code: "forge-bad-branch" });
  }
  const branchRef = `refs/heads/${branch}`;
  // Writes to one repository run one after another inside this process; the ref compare-and-swap
  // below covers writers in other processes.
  const writes = new SerialQueue();

  function refFor(name: string): RepositoryRef {
    return {
      name,
      repoUrl: `${publicUrl}/git/${name}`,
      pagesUrl: `${pagesPublicUrl}/pages/${name}/`,
      defaultBranch: branch,
    };
  }

  async function existingRepository(name: string): Promise<string> {
    const directory = repositoryDirectory(reposDir, name);
    if (!(await isBareRepository(directory))) {
      throw new ForgeError(`repository ${name} does not exist`, { code: "forge-no-repository" });
    }
    return directory;
  }

  async function tipOf(directory: string): Promise<string | undefined> {
    const result = await runGit(["rev-parse", "--verify", "--quiet", `${branchRef}^{commit}`], {
      gitDir: directory,
      home: reposDir,
      okExitCodes: [0, 1],
    });
    const sha = result.stdout.toString("utf8").trim();
    return result.exitCode === 0 && OBJECT_ID.test(sha) ? sha : undefined;
  }

  async function commitCarrying(directory: string, tip: string, key: string): Promise<string | undefined> {
    // -z separates commits with NUL; our messages never contain NUL (stripped on the way in).
    const result = await runGit(["log", "-z", `-n${IDEMPOTENCY_LOOKBACK}`, "--format=%H%n%B", tip, "--"], {
      gitDir: directory,
      home: reposDir,
    });
    const wanted = `${IDEMPOTENCY_TRAILER}: ${key}`;
    for (const record of result.stdout.toString("utf8").split("\0")) {
      const [sha, ...body] = record.split("\n");
      if (sha && OBJECT_ID.test(sha) && body.some((line) => line === wanted)) return sha;
    }
    return undefined;
  }

  async function writeTree(directory: string, files: readonly (readonly [string, Buffer])[]): Promise<string> {
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
          home: reposDir,
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
      await runGit(["update-index", "-z", "--add", "--index-info"], {
        gitDir: directory,
        home: reposDir,
        env: indexEnvironment,
        input: indexInfo,
      });
      const tree = await runGit(["write-tree"], { gitDir: directory, home: reposDir, env: indexEnvironment });
      return expectObjectId(tree.stdout, "write-tree");
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  async function commitTree(
    directory: string,
    tree: string,
    parent: string | undefined,
    message: string,
    author: CommitRequest["author"],
  ): Promise<string> {
    const date = `${Math.floor(clock.now() / 1000)} +0000`;
    const name = cleanIdentity(author.name) || "briefwright";
    const email = cleanIdentity(author.email);
    const result = await runGit(["commit-tree", tree, ...(parent ? ["-p", parent] : [])], {
      gitDir: directory,
      home: reposDir,
      input: message,
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

  /** Moves the branch from `expected` to `next`; false when someone else moved it first. */
  async function swapRef(directory: string, next: string, expected: string | undefined): Promise<boolean> {
    const zero = "0".repeat(next.length);
    const result = await runGit(["update-ref", "-m", "briefwright: commit", branchRef, next, expected ?? zero], {
      gitDir: directory,
      home: reposDir,
      okExitCodes: [0, 1, 128],
    });
    return result.exitCode === 0;
  }

  return {
    kind: "local",

    async ensureRepository(name) {
      assertRepositoryName(name);
      return writes.run(name, async () => {
        const directory = repositoryDirectory(reposDir, name);
        if (await isBareRepository(directory)) return refFor(name);
        await mkdir(reposDir, { recursive: true });
        // Initialise under a dot-name (never a valid repository name, so never served) and rename
        // into place: another process doing the same at the same moment cannot leave a half-made
        // repository behind, and whichever rename loses simply finds the winner's repository.
        const staging = join(reposDir, `.init-${name}-${randomBytes(6).toString("hex")}`);
        try {
          await runGit(["init", "--quiet", "--bare", `--initial-branch=${branch}`, staging], { home: reposDir });
          await runGit(["config", "http.receivepack", "false"], { gitDir: staging, home: reposDir });
          // Pages reads loose refs straight from disk; keep automatic housekeeping out of the way.
          await runGit(["config", "gc.auto", "0"], { gitDir: staging, home: reposDir });
          await rename(staging, directory).catch(async (error: unknown) => {
            if (!(await isBareRepository(directory))) {
              throw new ForgeError(`could not create repository ${name}: ${describeError(error)}`, {
                cause: error,
                code: "forge-create-failed",
              });
            }
          });
        } finally {
          await rm(staging, { recursive: true, force: true });
        }
        return refFor(name);
      });
    },

    async readFiles(name) {
      assertRepositoryName(name);
      const directory = await existingRepository(name);
      const tip = await tipOf(directory);
      if (!tip) return undefined;
      return { files: await readTree(directory, tip, reposDir), commitSha: tip };
    },

    async commitFiles(name, request) {
      assertRepositoryName(name);
      const key = request.idempotencyKey;
      if (!/^[\x21-\x7e][\x20-\x7e]{0,199}$/.test(key) || key.trimEnd() !== key) {
        throw new ForgeError("idempotency key must be 1-200 printable ASCII characters", { code: "forge-bad-key" });
      }
      const files = validatedFiles(request.files);
      const message = `${request.message.replace(/\0/g, "").trimEnd() || "Update site"}\n\n${IDEMPOTENCY_TRAILER}: ${key}\n`;
      return writes.run(name, async (): Promise<CommitResult> => {
        const directory = await existingRepository(name);
        let parent = await tipOf(directory);
        if (parent) {
          const earlier = await commitCarrying(directory, parent, key);
          if (earlier) return { commitSha: earlier, created: false };
        }
        const tree = await writeTree(directory, files);
        for (let attempt = 1; ; attempt++) {
          const commit = await commitTree(directory, tree, parent, message, request.author);
          if (await swapRef(directory, commit, parent)) return { commitSha: commit, created: true };
          // Another writer moved the branch: it may have been a retry of this very commit.
          parent = await tipOf(directory);
          if (parent) {
            const earlier = await commitCarrying(directory, parent, key);
            if (earlier) return { commitSha: earlier, created: false };
          }
          if (attempt >= MAX_REF_ATTEMPTS) {
            throw new ForgeError(`branch ${branch} of ${name} kept moving; gave up after ${attempt} attempts`, {
              code: "forge-ref-contended",
              isRetryable: true,
            });
          }
          await clock.sleep(10 * attempt + Math.floor(Math.random() * 20));
        }
      });
    },

    async enablePages(name) {
      assertRepositoryName(name);
      await writes.run(name, async () => {
        const directory = await existingRepository(name);
        if (await readPagesSite(directory)) return;
        const marker = join(directory, PAGES_MARKER_FILE);
        const staging = `${marker}.${randomBytes(6).toString("hex")}.tmp`;
        const site: PagesSite = { branch, enabledAt: new Date(clock.now()).toISOString() };
        await writeFile(staging, `${JSON.stringify(site)}\n`);
        await rename(staging, marker);
      });
    },

    async pagesServes(name, commitSha) {
      assertRepositoryName(name);
      const directory = await existingRepository(name);
      const site = await readPagesSite(directory);
      if (!site) return false;
      // The Pages host serves the branch tip straight from the repository, so "serves this commit"
      // is exactly "this commit is the tip".
      return (await readBranchTip(directory, site.branch)) === commitSha;
    },
  };
}

/** Sorted, validated entries; throws `forge-bad-path` naming the first offending path. */
function validatedFiles(files: FileTree): (readonly [string, Buffer])[] {
  const entries = [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const paths = new Set(entries.map(([path]) => path));
  for (const [path, content] of entries) {
    const problem = pathProblem(path);
    if (problem) {
      throw new ForgeError(`file path ${JSON.stringify(path).slice(0, 200)} ${problem}`, { code: "forge-bad-path" });
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

function pathProblem(path: string): string | undefined {
  if (path.length === 0 || path.length > 4096) return "must be 1-4096 characters";
  if (/[\0-\x1f\x7f\\]/.test(path)) return "contains a control character or backslash";
  for (const segment of path.split("/")) {
    if (segment === "" || segment === "." || segment === "..") return "must be relative with no empty, . or .. segments";
    if (segment.toLowerCase() === ".git") return "must not contain a .git segment";
  }
  return undefined;
}

/** git drops or rejects these in identities; an evaluator should still see a sensible name. */
function cleanIdentity(value: string): string {
  return value.replace(/[<>\0\n\r]/g, "").trim();
}

function expectObjectId(stdout: Buffer, command: string): string {
  const sha = stdout.toString("utf8").trim();
  if (!OBJECT_ID.test(sha)) throw new ForgeError(`git ${command} printed ${JSON.stringify(sha.slice(0, 80))}`);
  return sha;
}

/** One promise chain per key: work for a key starts when the previous work for it has settled. */
class SerialQueue {
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
