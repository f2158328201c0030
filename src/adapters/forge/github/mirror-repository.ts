import { mkdir, rename, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { dirname } from "node:path";
import { ForgeError } from "../../../domain/errors.ts";
import { isBareRepository, OBJECT_ID } from "../bare-repository.ts";
import { runGit } from "../run-git.ts";

/**
 * A local bare mirror of a GitHub repository: commits are written into it with plumbing and
 * pushed from it, and reads come from it after a fetch. The token travels only in the child's
 * environment as an `http.extraHeader` (GIT_CONFIG_COUNT/KEY/VALUE): never in an argument, a remote
 * URL or a config file, so no error message, log line or `.git/config` can carry it.
 */
export interface MirrorAccess {
  /** The repository's `clone_url` (no credentials in it). */
  readonly cloneUrl: string;
  readonly token: string;
  /** HOME for git: no user config, credentials or hooks. */
  readonly home: string;
}

/** `unchanged`: the branch already was this commit (another writer pushed the identical one). */
export type PushOutcome = "pushed" | "unchanged" | "rejected";

/** Creates the bare mirror at `directory` if it is missing (race-safe: init elsewhere, rename in). */
export async function ensureMirror(directory: string, home: string): Promise<void> {
  if (await isBareRepository(directory)) return;
  await mkdir(dirname(directory), { recursive: true });
  const staging = `${directory}.init-${randomBytes(6).toString("hex")}`;
  try {
    await runGit(["init", "--quiet", "--bare", staging], { home });
    await runGit(["config", "gc.auto", "0"], { gitDir: staging, home });
    await rename(staging, directory).catch(async (error: unknown) => {
      if (!(await isBareRepository(directory))) throw new ForgeError("could not create a local mirror", { cause: error, code: "forge-mirror" });
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Makes the mirror's branches exactly the remote's; returns the tip of `branch`, if it has one. */
export async function fetchMirror(directory: string, branch: string, access: MirrorAccess): Promise<string | undefined> {
  await runAuthenticated(["fetch", "--quiet", "--prune", "--no-tags", access.cloneUrl, "+refs/heads/*:refs/heads/*"], directory, access);
  const tip = await runGit(["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`], { gitDir: directory, home: access.home, okExitCodes: [0, 1] });
  const sha = tip.stdout.toString("utf8").trim();
  return tip.exitCode === 0 && OBJECT_ID.test(sha) ? sha : undefined;
}

/**
 * Pushes `commit` to `branch` as a fast-forward. `rejected`: someone else moved the branch first
 * (fetch and try again). A refusal for lack of permission is a ForgeError naming it.
 */
export async function pushCommit(directory: string, commit: string, branch: string, access: MirrorAccess): Promise<PushOutcome> {
  // --porcelain without --quiet: its `=` flag says the branch already was this very commit.
  const result = await runAuthenticated(["push", "--porcelain", access.cloneUrl, `${commit}:refs/heads/${branch}`], directory, access, [0, 1, 128]);
  if (result.exitCode === 0) {
    await runGit(["update-ref", `refs/heads/${branch}`, commit], { gitDir: directory, home: access.home });
    // Another writer pushed a byte-identical commit (same tree, parent, message and second) first.
    return /^=\t/m.test(result.stdout.toString("utf8")) ? "unchanged" : "pushed";
  }
  const output = `${result.stdout.toString("utf8")}\n${result.stderr}`;
  if (/\[rejected\]|non-fast-forward|fetch first|stale info|\[remote rejected\].*(cannot lock|failed to update ref)/i.test(output) && !/workflow/i.test(output)) {
    return "rejected";
  }
  if (/workflow/i.test(output) && /refusing|without .?workflows?.? (permission|scope)/i.test(output)) {
    throw new ForgeError(
      "GitHub refused the push: it adds or changes a .github/workflows file and the credentials lack the workflows permission (App: Workflows read and write; classic token: the workflow scope)",
      { code: "forge-permission" },
    );
  }
  const detail = lastLines(output);
  if (/\b401\b|\b403\b|authentication failed|could not read username|permission to .* denied|access denied/i.test(output)) {
    throw new ForgeError(`GitHub refused the push (credentials): ${detail}`, { code: "forge-push-denied" });
  }
  throw new ForgeError(`git push failed (exit ${result.exitCode}): ${detail}`, { code: "forge-git-failed", isRetryable: true });
}

function runAuthenticated(args: readonly string[], directory: string, access: MirrorAccess, okExitCodes?: readonly number[]) {
  const basic = Buffer.from(`x-access-token:${access.token}`, "utf8").toString("base64");
  return runGit(args, {
    gitDir: directory,
    home: access.home,
    ...(okExitCodes ? { okExitCodes } : {}),
    env: {
      GIT_CONFIG_COUNT: "2",
      GIT_CONFIG_KEY_0: "http.extraHeader",
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
      // No credential helper may ask for (or store) anything.
      GIT_CONFIG_KEY_1: "credential.helper",
      GIT_CONFIG_VALUE_1: "",
    },
  });
}

function lastLines(text: string): string {
  return text.trim().split("\n").filter(Boolean).slice(-3).join(" | ").slice(0, 500);
}
