import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ForgeError, describeError } from "../../domain/errors.ts";
import { repositoryDescription } from "../../domain/repository-description.ts";
import { systemClock, type Clock } from "../../ports/clock.ts";
import type { CommitResult, Forge, ForgeCapabilities, RepositoryRef } from "../../ports/forge.ts";
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
import {
  assertIdempotencyKey,
  commitCarrying,
  commitTree,
  messageWithKey,
  SerialQueue,
  validatedFiles,
  writeTree,
} from "./commit-writer.ts";

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

export { IDEMPOTENCY_TRAILER } from "./commit-writer.ts";

/** Attempts at the compare-and-swap of the branch ref before giving up as contended. */
const MAX_REF_ATTEMPTS = 8;

/** The Pages host serves the tip the moment the ref moves; there is no build and no workflow runner. */
const capabilities: ForgeCapabilities = Object.freeze({
  pagesBuildTypes: Object.freeze(["legacy"] as const),
  mayRenameRepositories: false,
  pagesPropagates: false,
  runsWorkflows: false,
});

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
    version: 2,
    capabilities,

    async preflight() {
      // Everything is on this machine and this process may do all of it; nothing to ask.
      return {
        ok: true,
        identity: `local forge at ${publicUrl}`,
        owner: "local",
        may: { createRepositories: "yes", writeContents: "yes", managePages: "yes", writeWorkflows: "yes" },
        problems: [],
      };
    },

    async ensureRepository(name, options = {}) {
      assertRepositoryName(name);
      return writes.run(name, async () => {
        const directory = repositoryDirectory(reposDir, name);
        if (await isBareRepository(directory)) return refFor(name);
        const description = repositoryDescription(options.description ?? "");
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
          // git's own description file (what gitweb shows); the same cleaning as GitHub's limit needs.
          if (description) await writeFile(join(staging, "description"), `${description}\n`);
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
      assertIdempotencyKey(key);
      const files = validatedFiles(request.files);
      const message = messageWithKey(request.message, key);
      return writes.run(name, async (): Promise<CommitResult> => {
        const directory = await existingRepository(name);
        let parent = await tipOf(directory);
        if (parent) {
          const earlier = await commitCarrying(directory, parent, key, reposDir);
          if (earlier) return { commitSha: earlier, created: false };
        }
        const tree = await writeTree(directory, files, reposDir);
        for (let attempt = 1; ; attempt++) {
          const commit = await commitTree(directory, { tree, parent, message, author: request.author, at: clock.now() }, reposDir);
          if (await swapRef(directory, commit, parent)) return { commitSha: commit, created: true };
          // Another writer moved the branch: it may have been a retry of this very commit.
          parent = await tipOf(directory);
          if (parent) {
            const earlier = await commitCarrying(directory, parent, key, reposDir);
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

    async enablePages(name, options = {}) {
      assertRepositoryName(name);
      const buildType = options.buildType ?? "legacy";
      if (!capabilities.pagesBuildTypes.includes(buildType)) {
        throw new ForgeError(`the local forge cannot build Pages with ${buildType}`, { code: "forge-unsupported" });
      }
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

    async pagesStatus(name, commitSha) {
      assertRepositoryName(name);
      const directory = await existingRepository(name);
      const site = await readPagesSite(directory);
      if (!site) return { state: "failed", reason: `Pages is not enabled for ${name}` };
      // The Pages host serves the branch tip straight from the repository, so "built" is exactly
      // "this commit is the tip", and a commit the branch has moved past will never be served.
      const tip = await readBranchTip(directory, site.branch);
      if (tip === commitSha) return { state: "built" };
      return { state: "failed", reason: tip ? `the ${site.branch} branch has moved on to ${tip}` : `the ${site.branch} branch has no commit` };
    },
  };
}
