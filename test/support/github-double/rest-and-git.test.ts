import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitClient, type GitClient } from "./git-client.ts";
import { startGitHubDouble, type GitHubDouble } from "./start-github-double.ts";

const OWNER = "octo-student";

describe("GitHub double: token auth, repositories, git smart HTTP", () => {
  let double: GitHubDouble;
  let client: GitClient;
  let fullToken: string;
  let noScopeToken: string;
  let publicRepoOnly: string;

  beforeAll(async () => {
    double = await startGitHubDouble({ accounts: [{ login: OWNER }, { login: "someone-else" }] });
    fullToken = double.control.issuePersonalToken({ login: OWNER, scopes: ["repo", "workflow"] });
    noScopeToken = double.control.issuePersonalToken({ login: OWNER, scopes: [] });
    publicRepoOnly = double.control.issuePersonalToken({ login: OWNER, scopes: ["public_repo"] });
    client = await createGitClient();
  });
  afterAll(async () => {
    await client?.remove();
    await double?.close();
  });

  async function api(method: string, path: string, token?: string, body?: unknown) {
    const response = await fetch(`${double.apiUrl}${path}`, {
      method,
      headers: {
        accept: "application/vnd.github+json",
        ...(token ? { authorization: `token ${token}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }

  it("answers GET /user for a classic token with its scopes, and refuses missing or unknown credentials", async () => {
    const me = await api("GET", "/user", fullToken);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ login: OWNER, type: "User" });
    expect(me.headers.get("x-oauth-scopes")).toBe("repo, workflow");

    const bearer = await fetch(`${double.apiUrl}/user`, { headers: { authorization: `Bearer ${fullToken}` } });
    expect(bearer.status).toBe(200);

    const anonymous = await api("GET", "/user");
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.message).toBe("Requires authentication");

    const unknown = await api("GET", "/user", "ghp_notatokenthedoubleknows000000000000");
    expect(unknown.status).toBe(401);
    expect(unknown.body.message).toBe("Bad credentials");
    // Unknown tokens are refused even on routes anyone may call.
    expect((await api("GET", `/users/${OWNER}`, "ghp_nope")).status).toBe(401);

    expect((await api("GET", `/users/${OWNER}`)).body).toMatchObject({ login: OWNER, type: "User" });
    expect((await api("GET", "/users/nobody-here")).status).toBe(404);
  });

  it("refuses an expired token with 401 Bad credentials", async () => {
    const token = double.control.issuePersonalToken({ login: OWNER, scopes: ["repo"] });
    expect((await api("GET", "/user", token)).status).toBe(200);
    double.control.expireToken(token);
    const after = await api("GET", "/user", token);
    expect(after.status).toBe(401);
    expect(after.body.message).toBe("Bad credentials");
  });

  it("creates a public repository with GitHub's fields and refuses a taken name with GitHub's 422", async () => {
    const created = await api("POST", "/user/repos", fullToken, { name: "sum-of-sales", description: "Sums sales" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "sum-of-sales",
      full_name: `${OWNER}/sum-of-sales`,
      private: false,
      html_url: `https://github.com/${OWNER}/sum-of-sales`,
      clone_url: `${double.apiUrl}/${OWNER}/sum-of-sales.git`,
      default_branch: "main",
      description: "Sums sales",
      owner: { login: OWNER },
    });
    expect(Date.parse(created.body.created_at)).not.toBeNaN();

    const fetched = await api("GET", `/repos/${OWNER}/sum-of-sales`, fullToken);
    expect(fetched.status).toBe(200);
    expect(fetched.body.id).toBe(created.body.id);
    // Owner and name are case-insensitive, as on GitHub.
    expect((await api("GET", `/repos/${OWNER.toUpperCase()}/SUM-of-sales`, fullToken)).status).toBe(200);

    const again = await api("POST", "/user/repos", fullToken, { name: "sum-of-sales" });
    expect(again.status).toBe(422);
    expect(again.body).toMatchObject({
      message: "Repository creation failed.",
      errors: [
        { resource: "Repository", code: "custom", field: "name", message: "name already exists on this account" },
      ],
    });
    expect((await api("GET", `/repos/${OWNER}/does-not-exist`, fullToken)).status).toBe(404);
  });

  it("refuses descriptions GitHub refuses: over 350 characters, or with control characters", async () => {
    const long = await api("POST", "/user/repos", fullToken, { name: "long-description", description: "x".repeat(351) });
    expect(long.status).toBe(422);
    expect(long.body.errors[0]).toMatchObject({ field: "description" });
    const control = await api("POST", "/user/repos", fullToken, { name: "control-description", description: "a\nb" });
    expect(control.status).toBe(422);
    expect(control.body.errors[0]).toMatchObject({ field: "description" });
    expect((await api("GET", `/repos/${OWNER}/long-description`, fullToken)).status).toBe(404);
    const exact = await api("POST", "/user/repos", fullToken, { name: "exact-description", description: "y".repeat(350) });
    expect(exact.status).toBe(201);

    const patched = await api("PATCH", `/repos/${OWNER}/exact-description`, fullToken, { description: "z".repeat(400) });
    expect(patched.status).toBe(422);
    const fine = await api("PATCH", `/repos/${OWNER}/exact-description`, fullToken, { description: "short", private: true });
    expect(fine.status).toBe(200);
    expect(fine.body).toMatchObject({ description: "short", private: true });
  });

  it("needs a repo-scoped token to create repositories and hides private ones from others", async () => {
    const refused = await api("POST", "/user/repos", noScopeToken, { name: "no-scope" });
    expect(refused.status).toBe(403);
    expect((await api("POST", "/user/repos", publicRepoOnly, { name: "private-one", private: true })).status).toBe(403);
    expect((await api("POST", "/user/repos", publicRepoOnly, { name: "public-one" })).status).toBe(201);

    await api("POST", "/user/repos", fullToken, { name: "secret", private: true });
    const stranger = double.control.issuePersonalToken({ login: "someone-else", scopes: ["repo"] });
    expect((await api("GET", `/repos/${OWNER}/secret`, stranger)).status).toBe(404);
    expect((await api("GET", `/repos/${OWNER}/secret`)).status).toBe(404);
    expect((await api("GET", `/repos/${OWNER}/secret`, fullToken)).status).toBe(200);
    // A stranger sees a public repository but may not change it.
    expect((await api("GET", `/repos/${OWNER}/sum-of-sales`, stranger)).status).toBe(200);
    expect((await api("PATCH", `/repos/${OWNER}/sum-of-sales`, stranger, { description: "mine" })).status).toBe(403);
  });

  it("accepts a git push only with a valid token that may write contents, and serves clones", async () => {
    const url = `${double.apiUrl}/${OWNER}/sum-of-sales.git`;
    const sha = await client.commit({ "index.html": "<h1>one</h1>\n", "data/data.json": '{"total":1}\n' });

    const gitStatuses = () => double.control.requestsTo(/\.git\//).map((request) => request.status);
    // git asks for credentials on a 401 and cannot (no terminal): the push fails either way.
    await expect(client.push(url, undefined)).rejects.toThrow(/could not read Username|Authentication failed/);
    expect(gitStatuses().at(-1)).toBe(401);
    await expect(client.push(url, "ghp_wrongwrongwrongwrongwrongwrongwrong")).rejects.toThrow(/could not read Username|Authentication failed/);
    expect(gitStatuses().at(-1)).toBe(401);
    expect(double.control.requestsTo(/\.git\//).at(-1)?.authorization).toMatch(/^Basic /);
    await expect(client.push(url, noScopeToken)).rejects.toThrow(/403|denied/i);
    expect(gitStatuses().at(-1)).toBe(403);
    expect(double.state.pushes).toHaveLength(0);

    await client.push(url, fullToken);
    expect(double.state.pushes).toEqual([
      expect.objectContaining({ repository: `${OWNER}/sum-of-sales`, ref: "refs/heads/main", after: sha, pusher: OWNER }),
    ]);
    const pushed = await api("GET", `/repos/${OWNER}/sum-of-sales/commits/main`, fullToken);
    expect(pushed.body.sha).toBe(sha);
    expect((await api("GET", `/repos/${OWNER}/sum-of-sales/branches/main`, fullToken)).body.commit.sha).toBe(sha);

    // A public repository clones without credentials; the clone holds the pushed tree.
    const cloned = await client.clone(url);
    const head = await client.git(["-C", cloned, "rev-parse", "HEAD"]);
    expect(head.stdout.toString("utf8").trim()).toBe(sha);

    // A private one needs the token.
    const secretUrl = `${double.apiUrl}/${OWNER}/secret.git`;
    await client.push(secretUrl, fullToken);
    await expect(client.clone(secretUrl)).rejects.toThrow();
    await expect(client.clone(secretUrl, fullToken)).resolves.toBeTruthy();
  });

  it("refuses a push touching .github/workflows without the workflow scope, with GitHub's sentence", async () => {
    await api("POST", "/user/repos", fullToken, { name: "with-workflow" });
    const url = `${double.apiUrl}/${OWNER}/with-workflow.git`;
    const repoOnly = double.control.issuePersonalToken({ login: OWNER, scopes: ["repo"] });
    const workflowClient = await createGitClient();
    try {
      await workflowClient.commit({ "index.html": "hi\n" });
      await workflowClient.push(url, repoOnly);
      await workflowClient.commit({ ".github/workflows/ci.yml": "name: ci\non: push\njobs: {}\n" });
      const refusal = workflowClient.push(url, repoOnly);
      await expect(refusal).rejects.toThrow(
        /refusing to allow a Personal Access Token to create or update workflow `\.github\/workflows\/ci\.yml` without `workflow` scope/,
      );
      expect(double.state.pushes.filter((push) => push.repository === `${OWNER}/with-workflow`)).toHaveLength(1);
      await workflowClient.push(url, fullToken, "feature");
      expect(double.state.pushes.filter((push) => push.repository === `${OWNER}/with-workflow`)).toHaveLength(2);

      // Merging that branch (already on the server) into main still changes main's workflows.
      await workflowClient.git(["checkout", "--quiet", "-b", "main-again", "HEAD~1"]);
      await workflowClient.commit({ "other.txt": "x\n" });
      await workflowClient.git(["merge", "--quiet", "--no-edit", "main"]);
      await expect(workflowClient.push(url, repoOnly)).rejects.toThrow(/without `workflow` scope/);
      await workflowClient.push(url, fullToken);
      expect(double.state.pushes.filter((push) => push.repository === `${OWNER}/with-workflow`)).toHaveLength(3);
    } finally {
      await workflowClient.remove();
    }
  });

  it("keeps a seeded repository (someone else's project) with its own content under the wanted name", async () => {
    const seeded = await double.control.seedRepository({
      owner: OWNER,
      name: "taken-task",
      description: "an older project",
      files: { "README.md": "# not yours\n", "src/main.py": "print(1)\n" },
    });
    expect(seeded.seeded).toBe(true);
    const create = await api("POST", "/user/repos", fullToken, { name: "taken-task" });
    expect(create.status).toBe(422);
    expect(create.body.errors[0].message).toBe("name already exists on this account");

    const readme = await api("GET", `/repos/${OWNER}/taken-task/contents/README.md`, fullToken);
    expect(readme.status).toBe(200);
    expect(readme.body).toMatchObject({ type: "file", path: "README.md", encoding: "base64" });
    expect(Buffer.from(readme.body.content, "base64").toString("utf8")).toBe("# not yours\n");
    const root = await api("GET", `/repos/${OWNER}/taken-task/contents/`, fullToken);
    expect(root.body.map((entry: { path: string; type: string }) => `${entry.type}:${entry.path}`).sort()).toEqual([
      "dir:src",
      "file:README.md",
    ]);
    expect((await api("GET", `/repos/${OWNER}/taken-task/contents/src/main.py`, fullToken)).body.size).toBe(9);
    expect((await api("GET", `/repos/${OWNER}/taken-task/contents/nope.txt`, fullToken)).status).toBe(404);
    await api("POST", "/user/repos", fullToken, { name: "empty-one" });
    expect((await api("GET", `/repos/${OWNER}/empty-one/contents/README.md`, fullToken)).body.message).toBe(
      "This repository is empty.",
    );
  });

  it("lets members' classic tokens create organisation repositories, and nobody else's", async () => {
    double.control.addAccount({ login: "course-org", type: "Organization", members: [OWNER] });
    const created = await api("POST", "/orgs/course-org/repos", fullToken, { name: "org-task" });
    expect(created.status).toBe(201);
    expect(created.body.owner).toMatchObject({ login: "course-org", type: "Organization" });
    const outsider = double.control.issuePersonalToken({ login: "someone-else", scopes: ["repo"] });
    expect((await api("POST", "/orgs/course-org/repos", outsider, { name: "org-task-2" })).status).toBe(403);
    expect((await api("POST", "/orgs/no-such-org/repos", fullToken, { name: "x" })).status).toBe(404);
    expect((await api("POST", `/orgs/${OWNER}/repos`, fullToken, { name: "x" })).status).toBe(404);
  });

  it("records requests and the Authorization headers they carried", async () => {
    await api("GET", "/user", fullToken);
    const seen = double.control.requestsTo("/user", "GET");
    expect(seen.at(-1)).toMatchObject({ status: 200, authorization: `token ${fullToken}` });
  });
});
