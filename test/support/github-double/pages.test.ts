import { get } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitClient, type GitClient } from "./git-client.ts";
import { manualClock } from "./manual-clock.ts";
import { startGitHubDouble, type GitHubDouble } from "./start-github-double.ts";

const OWNER = "octo-student";

/** The issue's figure: a Pages build takes three seconds (on a fake clock here). */
const BUILD_MS = 3000;

describe("GitHub double: Pages sites, builds and the Pages host", () => {
  const time = manualClock();
  let double: GitHubDouble;
  let client: GitClient;
  let token: string;

  beforeAll(async () => {
    double = await startGitHubDouble({ accounts: [{ login: OWNER }], clock: time.clock, pagesBuildDelayMs: BUILD_MS });
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

    expect(latestBuild("pages-site")?.status).toBe("queued");
    await time.advance(BUILD_MS - 1);
    expect((await site("pages-site")).status).toBe(404);
    const got = await api("GET", "/repos/octo-student/pages-site/pages");
    expect(got.body.status).toBe("building");
    expect(latestBuild("pages-site")?.status).toBe("building");

    await time.advance(1);
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
    await client.commit({ "index.html": "<h1>second</h1>\n" });
    await client.push(`${double.apiUrl}/${OWNER}/pages-site.git`, token);
    await time.advance(BUILD_MS - 1);
    expect(latestBuild("pages-site")?.status).toBe("building");
    expect(await (await site("pages-site")).text()).toBe("<h1>first</h1>\n");
    await time.advance(1);
    expect(await (await site("pages-site")).text()).toBe("<h1>second</h1>\n");
  });

  it("ends a configured first build errored; a requested build then publishes", async () => {
    double.control.failNextPagesBuilds(1, "Page build was cancelled.");
    await api("POST", "/user/repos", { name: "flaky-pages" });
    const flaky = await createGitClient();
    try {
      const sha = await flaky.commit({ "index.html": "flaky\n" });
      await flaky.push(`${double.apiUrl}/${OWNER}/flaky-pages.git`, token);
      expect((await api("POST", "/repos/octo-student/flaky-pages/pages", { source: { branch: "main" } })).status).toBe(201);
      await time.advance(BUILD_MS);
      expect(latestBuild("flaky-pages")?.status).toBe("errored");
      const latest = await api("GET", "/repos/octo-student/flaky-pages/pages/builds/latest");
      expect(latest.body).toMatchObject({ status: "errored", error: { message: "Page build was cancelled." }, commit: sha });
      expect((await api("GET", "/repos/octo-student/flaky-pages/pages")).body.status).toBe("errored");
      expect((await site("flaky-pages")).status).toBe(404);

      const requested = await api("POST", "/repos/octo-student/flaky-pages/pages/builds");
      expect(requested.status).toBe(201);
      expect(requested.body.status).toBe("queued");
      await time.advance(BUILD_MS);
      expect(await (await site("flaky-pages")).text()).toBe("flaky\n");
      const builds = await api("GET", "/repos/octo-student/flaky-pages/pages/builds");
      expect(builds.body.map((build: { status: string }) => build.status)).toEqual(["built", "errored"]);
    } finally {
      await flaky.remove();
    }
  });

  it("cancels a running build when a newer push arrives; the newer one publishes", async () => {
    const older = await client.commit({ "index.html": "<h1>older</h1>\n" });
    await client.push(`${double.apiUrl}/${OWNER}/pages-site.git`, token);
    const newer = await client.commit({ "index.html": "<h1>newer</h1>\n" });
    await client.push(`${double.apiUrl}/${OWNER}/pages-site.git`, token);
    const olderBuild = double.state.pagesBuilds.find((build) => build.commit === older);
    expect(olderBuild).toMatchObject({ status: "errored", error: expect.stringMatching(/cancelled/) });
    await time.advance(BUILD_MS);
    expect(latestBuild("pages-site")).toMatchObject({ status: "built", commit: newer });
    expect(await (await site("pages-site")).text()).toBe("<h1>newer</h1>\n");
  });

  it("serves like GitHub Pages: directory index, extension-less .html, the site's 404.html, /docs sources, no traversal", async () => {
    await api("POST", "/user/repos", { name: "rich-site" });
    const rich = await createGitClient();
    try {
      await rich.commit({
        "index.html": "root\n",
        "about.html": "about\n",
        "guide/index.html": "guide\n",
        "404.html": "custom missing\n",
        "docs/index.html": "docs root\n",
        "data.json": "{}\n",
      });
      await rich.push(`${double.apiUrl}/${OWNER}/rich-site.git`, token);
      await api("POST", "/repos/octo-student/rich-site/pages", { source: { branch: "main", path: "/" } });
      await time.advance(BUILD_MS);

      expect(await (await site("rich-site", "about")).text()).toBe("about\n");
      const redirect = await fetch(`${double.pagesBase}/rich-site/guide`, { redirect: "manual" });
      expect(redirect.status).toBe(301);
      expect(redirect.headers.get("location")).toBe("/octo-student/rich-site/guide/");
      expect(await (await site("rich-site", "guide/")).text()).toBe("guide\n");
      expect((await site("rich-site", "data.json")).headers.get("content-type")).toMatch(/^application\/json/);
      const missing = await site("rich-site", "nope.html");
      expect(missing.status).toBe(404);
      expect(await missing.text()).toBe("custom missing\n");
      // fetch would resolve the dots itself; a raw request shows the host refusing them.
      const { port } = new URL(double.pagesHost);
      const traversal = await new Promise<number>((resolve, reject) => {
        get({ host: "127.0.0.1", port, path: `/${OWNER}/rich-site/%2e%2e/pages-site/` }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        }).on("error", reject);
      });
      expect(traversal).toBe(400);
      expect((await fetch(`${double.pagesBaseFor("someone-else")}/rich-site/`)).status).toBe(404);

      // Re-pointed at /docs, the site rebuilds and serves that directory as its root.
      expect((await api("PUT", "/repos/octo-student/rich-site/pages", { source: { branch: "main", path: "/docs" } })).status).toBe(204);
      await time.advance(BUILD_MS);
      expect(await (await site("rich-site")).text()).toBe("docs root\n");
    } finally {
      await rich.remove();
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
