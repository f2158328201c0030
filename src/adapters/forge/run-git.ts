import { spawn } from "node:child_process";
import { ForgeError } from "../../domain/errors.ts";

/** No plumbing command here should take long; a stuck one must not hold a repository's queue forever. */
const GIT_TIMEOUT_MS = 120_000;

export interface GitRunOptions {
  /** The repository (`--git-dir`); omit for commands like `init`. */
  readonly gitDir?: string;
  /** HOME for git: somewhere without a user's config, credentials or hooks. */
  readonly home: string;
  readonly input?: string | Buffer;
  readonly env?: Readonly<Record<string, string>>;
  /** Exit codes that are answers rather than failures (default: only 0). */
  readonly okExitCodes?: readonly number[];
}

export interface GitRunResult {
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly exitCode: number;
}

/**
 * Runs git with an argument vector (never a shell, so user content cannot become syntax) in an
 * environment that ignores the host's system and global config.
 */
export function runGit(args: readonly string[], options: GitRunOptions): Promise<GitRunResult> {
  const fullArgs = [
    // No hook of any kind runs inside our repositories (update-ref fires reference-transaction).
    "-c",
    "core.hooksPath=/dev/null",
    ...(options.gitDir ? [`--git-dir=${options.gitDir}`] : []),
    ...args,
  ];
  return new Promise((resolvePromise, reject) => {
    const child = spawn("git", fullArgs, {
      env: isolatedGitEnvironment(options.home, options.env),
      stdio: ["pipe", "pipe", "pipe"],
      timeout: GIT_TIMEOUT_MS,
      killSignal: "SIGKILL",
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    // git may exit before reading all its input (e.g. on a bad argument); the exit code says why.
    child.stdin.on("error", () => undefined);
    child.on("error", (error) =>
      reject(new ForgeError(`could not run git ${args[0]}: ${error.message}`, { cause: error, code: "forge-git-missing" })),
    );
    child.on("close", (code, signal) => {
      const exitCode = code ?? 128;
      const stderrText = Buffer.concat(stderr).toString("utf8");
      if (!(options.okExitCodes ?? [0]).includes(exitCode) || signal) {
        const detail = stderrText.trim().split("\n").slice(-3).join(" | ") || `signal ${signal ?? "none"}`;
        reject(
          new ForgeError(`git ${args[0]} failed (exit ${exitCode}): ${detail}`, {
            cause: { args: fullArgs, exitCode, signal, stderr: stderrText },
            code: "forge-git-failed",
          }),
        );
        return;
      }
      resolvePromise({ stdout: Buffer.concat(stdout), stderr: stderrText, exitCode });
    });
    child.stdin.end(options.input ?? "");
  });
}

/**
 * The environment every git child gets: built from nothing but PATH (needed to find git) so stray
 * GIT_DIR / GIT_INDEX_FILE of a parent process — say, a git hook running the tests — cannot leak in.
 */
export function isolatedGitEnvironment(
  home: string,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_ATTR_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    ...extra,
  };
}
