/**
 * A real git client for tests against the double: a working copy, commits, and push / clone with
 * the token in `http.extraHeader` (as the GitHub forge adapter sends it), never in the URL.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { runGit, type GitRunResult } from "../../../src/adapters/forge/run-git.ts";

export interface GitClient {
  readonly directory: string;
  /** Writes the files (paths relative to the working copy) and commits them; returns the commit. */
  commit(files: Readonly<Record<string, string>>, message?: string): Promise<string>;
  /** `git push <url> HEAD:<branch>` with the token as Basic `x-access-token:<token>`. */
  push(url: string, token: string | undefined, branch?: string): Promise<GitRunResult>;
  /** Clones `url` into a new directory and returns that directory. */
  clone(url: string, token?: string): Promise<string>;
  git(args: readonly string[]): Promise<GitRunResult>;
  remove(): Promise<void>;
}

export function basicAuthHeader(token: string): string {
  return `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`;
}

const IDENTITY = {
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
};

export async function createGitClient(): Promise<GitClient> {
  const root = await mkdtemp(join(tmpdir(), "github-double-client-"));
  const directory = join(root, "work");
  const git = (args: readonly string[]) => runGit(["-C", directory, ...args], { home: root, env: IDENTITY });
  await runGit(["init", "--quiet", "--initial-branch=main", directory], { home: root });
  return {
    directory,
    git,
    async commit(files, message = "a commit") {
      for (const [path, content] of Object.entries(files)) {
        await mkdir(dirname(join(directory, path)), { recursive: true });
        await writeFile(join(directory, path), content);
      }
      await git(["add", "--all"]);
      await git(["commit", "--quiet", "--allow-empty", "-m", message]);
      return (await git(["rev-parse", "HEAD"])).stdout.toString("utf8").trim();
    },
    push(url, token, branch = "main") {
      const auth = token === undefined ? [] : ["-c", `http.extraHeader=${basicAuthHeader(token)}`];
      return git([...auth, "push", "--porcelain", url, `HEAD:refs/heads/${branch}`]);
    },
    async clone(url, token) {
      const target = join(root, `clone-${Math.random().toString(36).slice(2)}`);
      const auth = token === undefined ? [] : ["-c", `http.extraHeader=${basicAuthHeader(token)}`];
      await runGit([...auth, "clone", "--quiet", url, target], { home: root });
      return target;
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
