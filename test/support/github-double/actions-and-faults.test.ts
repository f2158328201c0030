import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitClient, type GitClient } from "./git-client.ts";
import { manualClock } from "./manual-clock.ts";
import { startGitHubDouble, type GitHubDouble } from "./start-github-double.ts";
import { workflowFacts } from "./workflow-runs.ts";

const OWNER = "octo-student";

const PAGES_WORKFLOW = `name: Deploy site
on:
  push:
    branches: [main]
permissions:
  pages: write
  id-token: write
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/upload-pages-artifact@v3
        with:
          path: ./site   # what gets published
      - id: deployment
        uses: actions/deploy-pages@v4
`;

/** A run takes a minute on the double's fake clock. */
const RUN_MS = 60_000;

describe("GitHub double: Actions runs and workflow-deployed Pages", () => {
  const time = manualClock();
  let double: GitHubDouble;
  let token: string;
  let client: GitClient;

  beforeAll(async () => {
    double = await startGitHubDouble({ accounts: [{ login: OWNER }], actionsDelayMs: RUN_MS, clock: time.clock });
    token = double.control.issuePersonalToken({ login: OWNER, scopes: ["repo", "workflow"] });
    client = await createGitClient();
  });
  afterAll(async () => {
    await client?.remove();
    await double?.close();
  });

  async function api(method: string, path: string, body?: unknown) {
    const response = await fetch(`${double.apiUrl}${path}`, {
      method,
      redirect: "manual",
      headers: { authorization: `token ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Plain text (a log).
    }
    return { status: response.status, headers: response.headers, body: parsed as Record<string, any> };
  }

  it("reads name, deploy-pages and the uploaded path out of a workflow", () => {
    expect(workflowFacts(PAGES_WORKFLOW)).toEqual({ name: "Deploy site", runsOnPush: true, deploysPages: true, uploadPath: "site" });
    expect(workflowFacts("on: push\njobs:\n  a:\n    steps:\n      - uses: actions/upload-pages-artifact@v3\n      - uses: actions/deploy-pages@v4\n")).toEqual({
      name: undefined,
      runsOnPush: true,
      deploysPages: true,
      uploadPath: "_site",
    });
    expect(workflowFacts("name: 'lint'\non: [push, pull_request]\n")).toMatchObject({ name: "lint", runsOnPush: true, deploysPages: false });
    expect(workflowFacts("name: manual\non:\n  workflow_dispatch:\njobs:\n  push-it:\n    runs-on: x\n").runsOnPush).toBe(false);
    expect(workflowFacts("on:\n  # push: disabled\n  pull_request:\n").runsOnPush).toBe(false);
  });

  it("runs a pushed workflow; with a workflow-type site a success publishes the uploaded directory", async () => {
    await api("POST", "/user/repos", { name: "workflow-site" });
    // Like on GitHub, the site must be set to workflow builds before the run reaches deploy-pages.
    expect((await api("POST", `/repos/${OWNER}/workflow-site/pages`, { build_type: "workflow" })).status).toBe(201);
    const sha = await client.commit({
      ".github/workflows/pages.yml": PAGES_WORKFLOW,
      "site/index.html": "<p>from the artifact</p>\n",
      "index.html": "<p>repository root</p>\n",
    });
    await client.push(`${double.apiUrl}/${OWNER}/workflow-site.git`, token);

    const listed = await api("GET", `/repos/${OWNER}/workflow-site/actions/runs?head_sha=${sha}`);
    expect(listed.body.total_count).toBe(1);
    const run = listed.body.workflow_runs[0];
    expect(run).toMatchObject({ name: "Deploy site", head_sha: sha, head_branch: "main", path: ".github/workflows/pages.yml", event: "push", conclusion: null });
    expect(run.status).toBe("queued");
    expect(run.html_url).toBe(`https://github.com/${OWNER}/workflow-site/actions/runs/${run.id}`);
    expect((await api("GET", `/repos/${OWNER}/workflow-site/actions/runs?head_sha=${"0".repeat(40)}`)).body.total_count).toBe(0);
    expect((await api("GET", `/repos/${OWNER}/workflow-site/actions/runs/${run.id}/logs`)).status).toBe(404);
    await time.advance(RUN_MS - 1);
    expect((await api("GET", `/repos/${OWNER}/workflow-site/actions/runs/${run.id}`)).body.status).toBe("in_progress");
    expect((await fetch(`${double.pagesBase}/workflow-site/?v=0`)).status).toBe(404);

    await time.advance(1);
    await double.control.waitFor(() => double.state.workflowRuns.find((each) => each.id === run.id)?.status === "completed");
    const done = await api("GET", `/repos/${OWNER}/workflow-site/actions/runs/${run.id}`);
    expect(done.body).toMatchObject({ status: "completed", conclusion: "success" });
    const page = await fetch(`${double.pagesBase}/workflow-site/?v=1`);
    expect(await page.text()).toBe("<p>from the artifact</p>\n");
    expect((await api("GET", `/repos/${OWNER}/workflow-site/pages`)).body.status).toBe("built");

    const logs = await api("GET", `/repos/${OWNER}/workflow-site/actions/runs/${run.id}/logs`);
    expect(logs.status).toBe(302);
    const text = await (await fetch(logs.headers.get("location") ?? "")).text();
    expect(text).toMatch(/Job succeeded/);
    // The link is the key: a guessed one is refused.
    expect((await fetch(`${double.apiUrl}/_double/run-logs/${run.id}.txt?sig=guess`)).status).toBe(404);
  });

  it("records a failing run with its log and leaves the site as it was", async () => {
    double.control.queueActionsOutcome({ conclusion: "failure", log: "ruff: E501 line too long\nError: Process completed with exit code 1.\n" });
    const sha = await client.commit({ "site/index.html": "<p>broken</p>\n" });
    await client.push(`${double.apiUrl}/${OWNER}/workflow-site.git`, token);
    await time.advance(RUN_MS);
    const run = await double.control.waitFor(() =>
      double.state.workflowRuns.find((each) => each.headSha === sha && each.status === "completed"),
    );
    expect(run.conclusion).toBe("failure");
    const logs = await fetch(`${double.apiUrl}/repos/${OWNER}/workflow-site/actions/runs/${run.id}/logs`, {
      headers: { authorization: `token ${token}` },
    });
    expect(await logs.text()).toMatch(/ruff: E501/);
    expect(await (await fetch(`${double.pagesBase}/workflow-site/?v=2`)).text()).toBe("<p>from the artifact</p>\n");
  });

  it("fails a deploy-pages run when the site is not set to workflow builds", async () => {
    await api("POST", "/user/repos", { name: "legacy-site" });
    const other = await createGitClient();
    try {
      const sha = await other.commit({ ".github/workflows/pages.yml": PAGES_WORKFLOW, "site/index.html": "x\n" });
      await other.push(`${double.apiUrl}/${OWNER}/legacy-site.git`, token);
      await time.advance(RUN_MS);
      const run = await double.control.waitFor(() =>
        double.state.workflowRuns.find((each) => each.headSha === sha && each.status === "completed"),
      );
      expect(run.conclusion).toBe("failure");
      expect(run.log).toMatch(/Get Pages site failed/);
    } finally {
      await other.remove();
    }
  });
});

describe("GitHub double: injected faults", () => {
  let double: GitHubDouble;
  let token: string;

  beforeAll(async () => {
    double = await startGitHubDouble();
    token = double.control.issuePersonalToken({ login: "octo-student", scopes: ["repo"] });
  });
  afterAll(async () => {
    await double?.close();
  });

  const createRepo = (name: string) =>
    fetch(`${double.apiUrl}/user/repos`, {
      method: "POST",
      headers: { authorization: `token ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name }),
    });

  it("answers a secondary rate limit with Retry-After for the given count, then lets requests through", async () => {
    double.control.injectFault({ kind: "secondary-rate-limit", path: "/user/repos", method: "POST", times: 2, retryAfterSeconds: 3 });
    for (let attempt = 0; attempt < 2; attempt++) {
      const limited = await createRepo("limited");
      expect(limited.status).toBe(403);
      expect(limited.headers.get("retry-after")).toBe("3");
      expect(((await limited.json()) as { message: string }).message).toMatch(/secondary rate limit/);
    }
    expect((await createRepo("limited")).status).toBe(201);
    // Other routes were never affected.
    expect(double.control.requestsTo("/user/repos", "POST").map((request) => request.status)).toEqual([403, 403, 201]);
  });

  it("injects 429, primary rate limits with a reset time, and server errors", async () => {
    double.control.injectFault({ kind: "too-many-requests", path: /^\/repos\//, retryAfterSeconds: 1 });
    double.control.injectFault({ kind: "primary-rate-limit", path: "/user", retryAfterSeconds: 2 });
    double.control.injectFault({ kind: "server-error", path: "/users/octo-student", status: 503 });
    const repo = await fetch(`${double.apiUrl}/repos/octo-student/limited`, { headers: { authorization: `token ${token}` } });
    expect(repo.status).toBe(429);
    expect(repo.headers.get("retry-after")).toBe("1");

    const before = Math.floor(Date.now() / 1000);
    const user = await fetch(`${double.apiUrl}/user`, { headers: { authorization: `token ${token}` } });
    expect(user.status).toBe(403);
    expect(user.headers.get("x-ratelimit-remaining")).toBe("0");
    const after = Math.ceil(Date.now() / 1000);
    const reset = Number(user.headers.get("x-ratelimit-reset"));
    expect(reset).toBeGreaterThanOrEqual(before + 2);
    expect(reset).toBeLessThanOrEqual(after + 2);

    expect((await fetch(`${double.apiUrl}/users/octo-student`)).status).toBe(503);
    expect((await fetch(`${double.apiUrl}/users/octo-student`)).status).toBe(200);
    expect((await fetch(`${double.apiUrl}/user`, { headers: { authorization: `token ${token}` } })).status).toBe(200);
  });
});
