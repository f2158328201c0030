/**
 * The double's bare repositories: creating them (with the pre-receive hook that enforces the
 * workflows permission), committing seed content, reading branch tips and workflow files.
 */
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readObjects } from "../../../src/adapters/forge/bare-repository.ts";
import { runGit } from "../../../src/adapters/forge/run-git.ts";

/** Set (by the git route) to who is pushing when that identity lacks the workflows permission. */
export const WORKFLOWS_DENIED_ENV = "GITHUB_DOUBLE_WORKFLOWS_DENIED_TO";
/** What the refusal says is missing: "`workflows` permission" (Apps) or "`workflow` scope" (tokens). */
export const WORKFLOWS_MISSING_ENV = "GITHUB_DOUBLE_WORKFLOWS_MISSING";

/**
 * GitHub refuses, per commit, a push that adds or changes `.github/workflows/` without the
 * workflows permission. The hook sees the commits new to the repository (still quarantined) and
 * refuses the whole push with GitHub's sentence; git shows it as `remote: …` lines and the ref as
 * `[remote rejected] (pre-receive hook declined)`. A merge is compared with its first parent, so
 * one that brings in a workflow from a branch already on the server counts too.
 */
const PRE_RECEIVE_HOOK = `#!/bin/sh
[ -z "$${WORKFLOWS_DENIED_ENV}" ] && exit 0
zero=0000000000000000000000000000000000000000
status=0
while read old new ref; do
  [ "$new" = "$zero" ] && continue
  for commit in $(git rev-list "$new" --not --all); do
    file=$(git diff-tree --no-commit-id --name-only -r --root -m --first-parent "$commit" -- .github/workflows | head -n 1)
    if [ -n "$file" ]; then
      echo "refusing to allow $${WORKFLOWS_DENIED_ENV} to create or update workflow \\\`$file\\\` without $${WORKFLOWS_MISSING_ENV}" >&2
      status=1
      break
    fi
  done
done
exit $status
`;

export async function createBareRepository(directory: string, defaultBranch: string, home: string): Promise<void> {
  await mkdir(directory, { recursive: true });
  // An empty --template skips copying git's sample hooks; only ours goes in.
  await runGit(["init", "--quiet", "--bare", "--template=", `--initial-branch=${defaultBranch}`, directory], { home });
  // runGit turns hooks off for its own commands; http-backend runs receive-pack with this one on.
  const hooks = join(directory, "hooks");
  await mkdir(hooks, { recursive: true });
  await writeFile(join(hooks, "pre-receive"), PRE_RECEIVE_HOOK);
  await chmod(join(hooks, "pre-receive"), 0o755);
}

export async function setHeadBranch(directory: string, branch: string, home: string): Promise<void> {
  await runGit(["symbolic-ref", "HEAD", `refs/heads/${branch}`], { gitDir: directory, home });
}

/** Commits `files` as the whole tree of `branch` (on top of its tip, if any); returns the commit. */
export async function commitFiles(
  directory: string,
  branch: string,
  files: Readonly<Record<string, string | Buffer>>,
  message: string,
  home: string,
): Promise<string> {
  const indexFile = join(home, `index-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const env = { GIT_INDEX_FILE: indexFile };
  try {
    for (const [path, content] of Object.entries(files)) {
      const blob = await runGit(["hash-object", "-w", "--stdin"], { gitDir: directory, home, input: content });
      const sha = blob.stdout.toString("utf8").trim();
      await runGit(["update-index", "--add", "--cacheinfo", `100644,${sha},${path}`], { gitDir: directory, home, env });
    }
    const tree = (await runGit(["write-tree"], { gitDir: directory, home, env })).stdout.toString("utf8").trim();
    const parent = (await listBranches(directory, home)).get(branch);
    const identity = {
      GIT_AUTHOR_NAME: "GitHub",
      GIT_AUTHOR_EMAIL: "noreply@github.com",
      GIT_COMMITTER_NAME: "GitHub",
      GIT_COMMITTER_EMAIL: "noreply@github.com",
    };
    const commit = (
      await runGit(["commit-tree", tree, ...(parent ? ["-p", parent] : []), "-m", message], {
        gitDir: directory,
        home,
        env: identity,
      })
    ).stdout
      .toString("utf8")
      .trim();
    await runGit(["update-ref", `refs/heads/${branch}`, commit], { gitDir: directory, home });
    return commit;
  } finally {
    await rm(indexFile, { force: true });
  }
}

/** Branch name → tip commit. */
export async function listBranches(directory: string, home: string): Promise<Map<string, string>> {
  const result = await runGit(["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads"], {
    gitDir: directory,
    home,
  });
  const branches = new Map<string, string>();
  for (const line of result.stdout.toString("utf8").split("\n")) {
    const space = line.indexOf(" ");
    if (space < 0) continue;
    branches.set(line.slice(space + 1).replace(/^refs\/heads\//, ""), line.slice(0, space));
  }
  return branches;
}

/** The `.github/workflows/*.yml|yaml` files of a commit, path → text. */
export async function readWorkflowFiles(directory: string, commit: string, home: string): Promise<Map<string, string>> {
  const listing = await runGit(["ls-tree", "-z", "--name-only", `${commit}:.github/workflows`], {
    gitDir: directory,
    home,
    okExitCodes: [0, 128],
  });
  if (listing.exitCode !== 0) return new Map();
  const names = listing.stdout
    .toString("utf8")
    .split("\0")
    .filter((name) => /\.ya?ml$/.test(name));
  const objects = await readObjects(
    directory,
    names.map((name) => `${commit}:.github/workflows/${name}`),
    home,
  );
  const files = new Map<string, string>();
  for (const [index, name] of names.entries()) {
    const object = objects[index];
    if (object?.type === "blob") files.set(`.github/workflows/${name}`, object.content.toString("utf8"));
  }
  return files;
}
