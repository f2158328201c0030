import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitClient, type GitClient } from "./git-client.ts";
import { startGitHubDouble, type GitHubDouble } from "./start-github-double.ts";

const OWNER = "octo-student";

describe("GitHub double: Pages sites, builds and the Pages host", () => {
  let double: GitHubDouble;
  let client: GitClient;
  let token: string;

  beforeAll(async () => {
    double = await startGitHubDouble({ accounts: [{ login: OWNER }] });
    token = double.control.issuePersonalToken({ login: OWNER, scopes: ["repo", "workflow"] });
    client = await createGitClient();
  });
  afterAll(async () => {
    await client?.remove();
    await double?.close();
  });

  async function api(method: string, path: string, body?: unknown, auth: string | undefined = token) {
    const response = await fetch(`${double.apiUrl}${path}`, {
      method,
      redirect: "manual",
      headers: {
        ...(auth ? { authorization: `Bearer ${auth}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }

  const site = (repo: string, path = "") => fetch(`${double.pagesBase}/${repo}/${path}?nocache=${Math.random()}`);
  const latestBuild = (repo: string) => double.state.pagesBuilds.filter((build) => build.repository === `${OWNER}/${repo}`).at(-1);

  it("enables Pages once (201, then 409), serves 404 before the first build and the commit after it", async () => {
    double.control.setPagesBuildDelay(400);
    await api("POST", "/user/repos", { name: "pages-site" });
    const early = await api("POST", "/repos/octo-student/pages-site/pages", { source: { branch: "main", path: "/" } });
    expect(early.status).toBe(422);
    expect(early.body.message).toMatch(/main branch must exist/);

    const first = await client.commit({ "index.html": "<h1>first</h1>\n", "app.js": "console.log(1)\n" });
    await client.push(`${double.apiUrl}/${OWNER}/pages-site.git`, token);
    const enabled = await api("POST", "/repos/octo-student/pages-site/pages", { source: { branch: "main", path: "/" } });
    expect(enabled.status).toBe(201);
    expect(enabled.body).toMatchObject({
      html_url: "https://octo-student.github.io/pages-site/",
      build_type: "legacy",
      source: { branch: "main", path: "/" },
    });
    const twice = await api("POST", "/repos/octo-student/pages-site/pages", { source: { branch: "main", path: "/" } });
    expect(twice.status).toBe(409);

    expect((await site("pages-site")).status).toBe(404);
    const got = await api("GET", "/repos/octo-student/pages-site/pages");
    expect(got.body.status).toBe("building");

    await double.control.waitFor(() => latestBuild("pages-site")?.status === "built");
    const page = await site("pages-site");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await page.text()).toBe("<h1>first</h1>\n");
    const script = await site("pages-site", "app.js");
    expect(script.headers.get("content-type")).toMatch(/^(text|application)\/javascript/);
    expect((await site("pages-site", "missing.txt")).status).toBe(404);
    expect((await api("GET", "/repos/octo-student/pages-site/pages")).body.status).toBe("built");
    const latest = await api("GET", "/repos/octo-student/pages-site/pages/builds/latest");
    expect(latest.body).toMatchObject({ status: "built", commit: first, error: { message: null } });
  });

  it("keeps serving the old commit until the new push's build has finished", async () => {
    double.control.setPagesBuildDelay(1500);
    await client.commit({ "index.html": "<h1>second</h1>\n" });
    await client.push(`${double.apiUrl}/${OWNER}/pages-site.git`, token);
    expect(latestBuild("pages-site")?.status).not.toBe("built");
    expect(await (await site("pages-site")).text()).toBe("<h1>first</h1>\n");
    await double.control.waitFor(() => latestBuild("pages-site")?.status === "built");
    expect(await (await site("pages-site")).text()).toBe("<h1>second</h1>\n");
  });

  it("ends a configured first build errored; a requested build then publishes", async () => {
    double.control.setPagesBuildDelay(50);
    double.control.failNextPagesBuilds(1, "Page build was cancelled.");
    await api("POST", "/user/repos", { name: "flaky-pages" });
    const flaky = await createGitClient();
    try {
      const sha = await flaky.commit({ "index.html": "flaky\n" });
      await flaky.push(`${double.apiUrl}/${OWNER}/flaky-pages.git`, token);
      expect((await api("POST", "/repos/octo-student/flaky-pages/pages", { source: { branch: "main" } })).status).toBe(201);
      await double.control.waitFor(() => latestBuild("flaky-pages")?.status === "errored");
      const latest = await api("GET", "/repos/octo-student/flaky-pages/pages/builds/latest");
      expect(latest.body).toMatchObject({ status: "errored", error: { message: "Page build was cancelled." }, commit: sha });
      expect((await api("GET", "/repos/octo-student/flaky-pages/pages")).body.status).toBe("errored");
      expect((await site("flaky-pages")).status).toBe(404);

      const requested = await api("POST", "/repos/octo-student/flaky-pages/pages/builds");
      expect(requested.status).toBe(201);
      expect(requested.body.status).toBe("queued");
      await double.control.waitFor(() => latestBuild("flaky-pages")?.status === "built");
      expect(await (await site("flaky-pages")).text()).toBe("flaky\n");
      const builds = await api("GET", "/repos/octo-student/flaky-pages/pages/builds");
      expect(builds.body.map((build: { status: string }) => build.status)).toEqual(["built", "errored"]);
    } finally {
      await flaky.remove();
    }
  });

  it("needs pages and administration write to change a site; anonymous may read a public one", async () => {
    const readOnly = double.control.issuePersonalToken({ login: OWNER, permissions: { contents: "write", pages: "read" } });
    const refused = await api("PUT", "/repos/octo-student/pages-site/pages", { build_type: "workflow" }, readOnly);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe("Resource not accessible by personal access token");
    expect((await api("GET", "/repos/octo-student/pages-site/pages", undefined, undefined)).status).toBe(200);
    expect((await api("GET", "/repos/octo-student/no-such/pages")).status).toBe(404);
    expect((await api("PUT", "/repos/octo-student/pages-site/pages", { build_type: "workflow" })).status).toBe(204);
    expect((await api("GET", "/repos/octo-student/pages-site/pages")).body.build_type).toBe("workflow");
  });
});
