import { execFile } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitHttpHandler } from "../../src/adapters/forge/git-http-handler.ts";
import { createLocalForge } from "../../src/adapters/forge/local-forge.ts";
import { createGitHubForge } from "../../src/adapters/forge/github/github-forge.ts";
import { startGitHubDouble } from "../support/github-double/start-github-double.ts";
import { createPagesHandler } from "../../src/adapters/forge/pages-handler.ts";
import { ForgeError } from "../../src/domain/errors.ts";
import type { CommitRequest, Forge, PagesStatus, RepositoryRef } from "../../src/ports/forge.ts";

/**
 * The Forge port's contract, run against every adapter in `forgeAdapters` (narrow with
 * FORGE_ADAPTERS=local,github). Everything is checked the way the evaluator would: real
 * `git clone` over HTTP and real requests to the Pages URL.
 */
interface ForgeHarness {
  readonly forge: Forge;
  /** Base URL of the HTTP server in front of the adapter, for raw requests. */
  readonly baseUrl: string;
  /** A second, independent forge over the same storage — another process, as far as it knows. */
  readonly openAnother?: () => Forge;
  /** Where the test can `git clone` a repository (GitHub's `repoUrl` is not reachable from here). */
  cloneUrl(repo: RepositoryRef): string;
  /** Every URL form and option set a clone must work with. */
  cloneVariants(repo: RepositoryRef): readonly (readonly [string, readonly string[]])[];
  close(): Promise<void>;
}

interface ForgeAdapterEntry {
  readonly name: string;
  /** Whether the adapter's git and Pages hosts are ours (the local forge), so their HTTP details are tested here too. */
  readonly ownsItsHosts: boolean;
  start(): Promise<ForgeHarness>;
}

const localForgeAdapter: ForgeAdapterEntry = {
  name: "local",
  ownsItsHosts: true,
  async start() {
    const reposDir = await mkdtemp(join(tmpdir(), "briefwright-forge-contract-"));
    const git = createGitHttpHandler({ reposDir });
    const pages = createPagesHandler({ reposDir });
    const server = createServer((req, res) => {
      const url = req.url ?? "/";
      if (url.startsWith("/git/")) return git(req, res, url.slice("/git".length));
      if (url.startsWith("/pages/") || url === "/pages") return pages(req, res, url.slice("/pages".length));
      res.statusCode = 404;
      res.end();
    });
    const baseUrl = await listen(server);
    const settings = { reposDir, publicUrl: baseUrl };
    return {
      forge: createLocalForge(settings),
      baseUrl,
      openAnother: () => createLocalForge(settings),
      cloneUrl: (repo) => repo.repoUrl,
      cloneVariants: (repo) => [
        [repo.repoUrl, []],
        [`${repo.repoUrl}.git`, []],
        [repo.repoUrl, ["-c", "protocol.version=0"]],
      ],
      async close() {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await rm(reposDir, { recursive: true, force: true });
      },
    };
  },
};

const GITHUB_OWNER = "course-org";

/** The GitHub forge as a GitHub App installed on an organisation, against the GitHub double. */
const githubForgeAdapter: ForgeAdapterEntry = {
  name: "github",
  ownsItsHosts: false,
  async start() {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const double = await startGitHubDouble({
      accounts: [{ login: GITHUB_OWNER, type: "Organization" }],
      app: { id: 4242, publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(), installations: [{ id: 99, account: GITHUB_OWNER }] },
    });
    const scratch = await mkdtemp(join(tmpdir(), "briefwright-github-mirrors-"));
    let instances = 0;
    const open = () =>
      createGitHubForge({
        apiUrl: double.apiUrl,
        pagesBase: double.pagesBaseFor(GITHUB_OWNER),
        owner: GITHUB_OWNER,
        auth: { kind: "app", appId: "4242", privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), installationId: undefined },
        // Each instance its own mirrors, as separate processes (or machines) would have.
        mirrorsDir: join(scratch, `instance-${++instances}`),
      });
    const cloneUrl = (repo: RepositoryRef) => `${double.apiUrl}/${GITHUB_OWNER}/${repo.name}.git`;
    return {
      forge: open(),
      baseUrl: double.apiUrl,
      openAnother: open,
      cloneUrl,
      cloneVariants: (repo) => [
        [cloneUrl(repo), []],
        [cloneUrl(repo).replace(/\.git$/, ""), []],
        [cloneUrl(repo), ["-c", "protocol.version=0"]],
      ],
      async close() {
        await double.close();
        await rm(scratch, { recursive: true, force: true });
      },
    };
  },
};

const wanted = process.env.FORGE_ADAPTERS?.split(",").map((name) => name.trim());
const forgeAdapters = [localForgeAdapter, githubForgeAdapter].filter((adapter) => !wanted || wanted.includes(adapter.name));

// A PNG signature, an IHDR-ish chunk full of NULs, a CR, LF and CRLF, and random bytes.
const binary = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]),
  Buffer.alloc(64),
  Buffer.from([0x0d, 0x0a, 0x0a, 0x0d, 0xff, 0xfe, 0x00]),
  randomBytes(2048),
]);

const siteV1 = files({
  "index.html": '<!doctype html><html><head><title>v1</title><script src="app.js"></script></head><body>v1</body></html>\n',
  "app.js": 'document.body.dataset.ready = "yes";\n',
  "data.csv": "product,sales\r\nwidget,3\r\ngadget,4\r\n",
  "notes/crlf.txt": "line one\r\nline two\r\n",
  "a/b/c.js": "export const deep = true;\n",
  "sub/index.html": "<p>sub</p>\n",
  "with space.md": "# spaced\n",
  "LICENSE": "MIT\n",
});
siteV1.set("images/logo.png", binary);

describe.each(forgeAdapters)("Forge contract: $name", (adapter) => {
  let harness: ForgeHarness;
  let forge: Forge;
  let scratch: string;

  beforeAll(async () => {
    harness = await adapter.start();
    forge = harness.forge;
    scratch = await mkdtemp(join(tmpdir(), "briefwright-forge-clones-"));
  });

  afterAll(async () => {
    await harness?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const commit = (files: Map<string, Buffer>, key: string, message = `deploy ${key}`): CommitRequest => ({
    files,
    message,
    idempotencyKey: key,
    author: { name: "Briefwright Test", email: "test@example.com" },
  });

  async function cloneInto(url: string, ...gitOptions: string[]): Promise<string> {
    const target = join(scratch, `clone-${randomBytes(4).toString("hex")}`);
    await git([...gitOptions, "clone", "--quiet", url, target]);
    return target;
  }

  it("ensureRepository is idempotent and names a clonable URL and a Pages URL", async () => {
    const first = await forge.ensureRepository("ensure-me");
    const second = await forge.ensureRepository("ensure-me");
    expect(second).toEqual(first);
    expect(first.name).toBe("ensure-me");
    expect(first.defaultBranch).toBe("main");
    expect(first.pagesUrl.endsWith("/")).toBe(true);
    expect(await forge.readFiles("ensure-me")).toBeUndefined();
    // Concurrent creation of a new repository is also fine.
    const [a, b] = await Promise.all([forge.ensureRepository("race-me"), forge.ensureRepository("race-me")]);
    expect(a).toEqual(b);
  });

  it("rejects unsafe repository names with forge-bad-name", async () => {
    const bad = ["", ".hidden", "..", "../escape", "a/b", "a\\b", "with space", "x".repeat(101), "ü", "a\0b"];
    for (const name of bad) {
      for (const attempt of [
        () => forge.ensureRepository(name),
        () => forge.readFiles(name),
        () => forge.commitFiles(name, commit(files({ "a.txt": "a" }), "k")),
        () => forge.enablePages(name),
        () => forge.pagesStatus(name, "0".repeat(40)),
      ]) {
        await expect(attempt()).rejects.toSatisfy(
          (error: unknown) => error instanceof ForgeError && error.code === "forge-bad-name",
        );
      }
    }
  });

  it("rejects unsafe file paths and commits to missing repositories", async () => {
    await forge.ensureRepository("bad-paths");
    const badPaths = ["../up.txt", "/abs.txt", "a//b.txt", "./here.txt", ".git/config", "a/.GIT/x", "back\\slash", "nl\n.txt", ""];
    for (const [index, path] of badPaths.entries()) {
      await expect(forge.commitFiles("bad-paths", commit(files({ [path]: "x" }), `bad-${index}`))).rejects.toSatisfy(
        (error: unknown) => error instanceof ForgeError && error.code === "forge-bad-path",
      );
    }
    await expect(
      forge.commitFiles("bad-paths", commit(files({ a: "file", "a/b": "and directory" }), "conflict")),
    ).rejects.toBeInstanceOf(ForgeError);
    await expect(forge.commitFiles("never-created", commit(files({ "a.txt": "a" }), "k"))).rejects.toBeInstanceOf(
      ForgeError,
    );
    expect(await forge.readFiles("bad-paths")).toBeUndefined();
  });

  it("commits a tree that git clone reproduces byte for byte, from both URL forms and protocol versions", async () => {
    const repo = await forge.ensureRepository("clone-me");
    const result = await forge.commitFiles("clone-me", commit(siteV1, "clone-1"));
    expect(result.created).toBe(true);
    expect(result.commitSha).toMatch(/^[0-9a-f]{40}$/);

    for (const [url, options] of harness.cloneVariants(repo)) {
      const clone = await cloneInto(url, ...options);
      expect(await git(["rev-parse", "HEAD"], clone)).toBe(result.commitSha);
      expect(await git(["rev-parse", "--abbrev-ref", "HEAD"], clone)).toBe("main");
      expectSameTree(await readWorkingTree(clone), siteV1);
    }
  });

  it("replaces the whole tree on the next commit: deletions, parent link, readFiles round trip", async () => {
    const repo = await forge.ensureRepository("revise-me");
    const first = await forge.commitFiles("revise-me", commit(siteV1, "revise-1"));
    const read1 = await forge.readFiles("revise-me");
    expect(read1?.commitSha).toBe(first.commitSha);
    expectSameTree(read1?.files ?? new Map(), siteV1);

    const siteV2 = new Map(siteV1);
    siteV2.delete("data.csv");
    siteV2.delete("a/b/c.js");
    siteV2.set("index.html", Buffer.from("<!doctype html><title>v2</title>\n"));
    const second = await forge.commitFiles("revise-me", commit(siteV2, "revise-2", "Round 2: drop the table"));
    expect(second.created).toBe(true);
    expect(second.commitSha).not.toBe(first.commitSha);

    const clone = await cloneInto(harness.cloneUrl(repo));
    expect(await git(["log", "--format=%P", "-n1", "HEAD"], clone)).toBe(first.commitSha);
    expect(await git(["log", "--format=%an <%ae>", "-n1", "HEAD"], clone)).toBe("Briefwright Test <test@example.com>");
    expect(await git(["log", "--format=%s", "-n1", "HEAD"], clone)).toBe("Round 2: drop the table");
    expectSameTree(await readWorkingTree(clone), siteV2);

    const read2 = await forge.readFiles("revise-me");
    expect(read2?.commitSha).toBe(second.commitSha);
    expectSameTree(read2?.files ?? new Map(), siteV2);
  });

  it("is idempotent on idempotencyKey: same sha, created false, no new commit", async () => {
    const repo = await forge.ensureRepository("idempotent");
    const first = await forge.commitFiles("idempotent", commit(siteV1, "round-1-nonce-abc"));
    const later = await forge.commitFiles("idempotent", commit(files({ "other.txt": "x" }), "round-2-nonce-def"));
    // A retried round 1 (after a crash) finds its commit even though another landed on top.
    const retried = await forge.commitFiles("idempotent", commit(files({ "changed.txt": "y" }), "round-1-nonce-abc"));
    expect(retried).toEqual({ commitSha: first.commitSha, created: false });
    // A key that merely starts like an existing one is a different key.
    const prefixed = await forge.commitFiles("idempotent", commit(files({ "p.txt": "p" }), "round-1-nonce-ab"));
    expect(prefixed.created).toBe(true);

    const clone = await cloneInto(harness.cloneUrl(repo));
    expect(await git(["rev-list", "--count", "HEAD"], clone)).toBe("3");
    expect(await git(["rev-parse", "HEAD^"], clone)).toBe(later.commitSha);
  });

  it("serialises concurrent commits to one repository into a linear history", async () => {
    const repo = await forge.ensureRepository("concurrent");
    const results = await Promise.all(
      ["one", "two", "three"].map((key) => forge.commitFiles("concurrent", commit(files({ [`${key}.txt`]: key }), key))),
    );
    expect(results.every((result) => result.created)).toBe(true);
    expect(new Set(results.map((result) => result.commitSha)).size).toBe(3);
    await expectLinearHistory(harness.cloneUrl(repo), 3);
  });

  it("keeps history linear when independent writers (another process) race on the same branch", async (context) => {
    if (!harness.openAnother) return context.skip();
    const repo = await forge.ensureRepository("two-writers");
    const writers = [forge, harness.openAnother(), harness.openAnother()];
    const results = await Promise.all(
      writers.flatMap((writer, w) =>
        [0, 1, 2].map((n) => writer.commitFiles("two-writers", commit(files({ [`w${w}-${n}.txt`]: "x" }), `w${w}-${n}`))),
      ),
    );
    expect(results.every((result) => result.created)).toBe(true);
    await expectLinearHistory(harness.cloneUrl(repo), 9);
    // The same key from every writer at once still yields exactly one commit.
    const same = await Promise.all(
      writers.map((writer) => writer.commitFiles("two-writers", commit(files({ "same.txt": "s" }), "same-key"))),
    );
    expect(new Set(same.map((result) => result.commitSha)).size).toBe(1);
    expect(same.filter((result) => result.created)).toHaveLength(1);
    await expectLinearHistory(harness.cloneUrl(repo), 10);
  }, 240_000); // nine pushes from three writers collide on purpose; over HTTP (the GitHub double) that takes a while

  it("Pages: not built before enablePages, built after (twice is fine), and the site serves the commit", async () => {
    const repo = await forge.ensureRepository("pages-port");
    const { commitSha } = await forge.commitFiles("pages-port", commit(siteV1, "pages-port-1"));
    expect((await forge.pagesStatus("pages-port", commitSha)).state).not.toBe("built");
    await forge.enablePages("pages-port");
    await forge.enablePages("pages-port", { buildType: "legacy" });
    expect((await settledPagesStatus("pages-port", commitSha)).state).toBe("built");
    const served = await fetchUntil(repo.pagesUrl, siteV1.get("index.html")!);
    expect(served).toBe(true);

    const next = await forge.commitFiles("pages-port", commit(files({ "index.html": "<p>next</p>\n" }), "pages-port-2"));
    expect((await settledPagesStatus("pages-port", next.commitSha)).state).toBe("built");
    expect(await fetchUntil(repo.pagesUrl, Buffer.from("<p>next</p>\n"))).toBe(true);
    // A commit the branch has moved past will never be the one served.
    expect((await settledPagesStatus("pages-port", commitSha)).state).not.toBe("built");
  });

  it("states its version and capabilities, refuses build types it lacks, and passes its preflight", async () => {
    expect(forge.version).toBe(2);
    expect(forge.capabilities.pagesBuildTypes[0]).toBe("legacy");
    const preflight = await forge.preflight();
    expect(preflight.ok).toBe(true);
    expect(preflight.problems).toEqual([]);
    expect(preflight.identity.length).toBeGreaterThan(0);
    if (!forge.capabilities.pagesBuildTypes.includes("workflow")) {
      await forge.ensureRepository("no-workflow");
      await expect(forge.enablePages("no-workflow", { buildType: "workflow" })).rejects.toSatisfy(
        (error: unknown) => error instanceof ForgeError && error.code === "forge-unsupported",
      );
    }
  });

  /** Polls pagesStatus while it says building (forges with a build step take a moment). */
  async function settledPagesStatus(name: string, sha: string): Promise<PagesStatus> {
    for (let poll = 0; ; poll++) {
      const status = await forge.pagesStatus(name, sha);
      if (status.state !== "building" || poll >= 100) return status;
      await new Promise((resolve) => setTimeout(resolve, Math.min(status.retryAfterMs, 100)));
    }
  }

  if (adapter.ownsItsHosts) {
    describe("its own git and Pages hosts", () => {
    it("refuses git push, over the wire and at the endpoint", async () => {
      const repo = await forge.ensureRepository("no-push");
      const first = await forge.commitFiles("no-push", commit(siteV1, "no-push-1"));
      const clone = await cloneInto(harness.cloneUrl(repo));
      await writeFile(join(clone, "evil.txt"), "pushed\n");
      await git(["add", "evil.txt"], clone);
      await git(["-c", "user.name=x", "-c", "user.email=x@example.com", "commit", "--quiet", "-m", "evil"], clone);
      await expect(git(["push", "origin", "HEAD:main"], clone)).rejects.toThrow(/403|read-only|denied|not allowed/i);
      expect((await forge.readFiles("no-push"))?.commitSha).toBe(first.commitSha);

      const advert = await raw(harness.baseUrl, "/git/no-push/info/refs?service=git-receive-pack");
      expect(advert.status).toBe(403);
      const post = await raw(harness.baseUrl, "/git/no-push.git/git-receive-pack", {
        method: "POST",
        headers: { "content-type": "application/x-git-receive-pack-request" },
        body: Buffer.from("0000"),
      });
      expect(post.status).toBe(403);
    });

    it("answers 404 for unknown repositories and unsafe repository segments", async () => {
      await forge.ensureRepository("known");
      for (const path of [
        "/git/unknown/info/refs?service=git-upload-pack",
        "/git/../known.git/info/refs?service=git-upload-pack",
        "/git/..%2fknown/info/refs?service=git-upload-pack",
        "/git/.init-x/info/refs?service=git-upload-pack",
        "/git/known/config",
        "/git/known/objects/info/packs",
        "/git/known/../../etc/passwd",
      ]) {
        const response = await raw(harness.baseUrl, path);
        expect(response.status, path).toBe(404);
      }
      await expect(git(["ls-remote", `${harness.baseUrl}/git/unknown`])).rejects.toThrow();
    });

    it("accepts gzip-encoded upload-pack requests (git compresses large negotiations)", async () => {
      await forge.ensureRepository("gzip");
      const { commitSha } = await forge.commitFiles("gzip", commit(files({ "a.txt": "a" }), "gzip-1"));
      const body = Buffer.concat([pktLine(`want ${commitSha} ofs-delta\n`), Buffer.from("0000"), pktLine("done\n")]);
      const response = await raw(harness.baseUrl, "/git/gzip/git-upload-pack", {
        method: "POST",
        headers: {
          "content-type": "application/x-git-upload-pack-request",
          "content-encoding": "gzip",
        },
        body: gzipSync(body),
      });
      expect(response.status).toBe(200);
      expect(response.headers["content-type"]).toBe("application/x-git-upload-pack-result");
      expect(response.body.subarray(0, 8).toString("latin1")).toBe("0008NAK\n");
      expect(response.body.subarray(8, 12).toString("latin1")).toBe("PACK");
    });

    describe("Pages", () => {
      let site: Awaited<ReturnType<Forge["ensureRepository"]>>;
      let v1: string;
      let path: string;

      beforeAll(async () => {
        site = await forge.ensureRepository("site");
        v1 = (await forge.commitFiles("site", commit(siteV1, "site-1"))).commitSha;
        path = new URL(site.pagesUrl).pathname;
        // A neighbour whose content must never leak through a traversal.
        await forge.ensureRepository("neighbour");
        await forge.commitFiles("neighbour", commit(files({ "index.html": "TOP-SECRET" }), "n-1"));
        await forge.enablePages("neighbour");
      });

      it("is off until enablePages, then serves the tip", async () => {
        expect((await forge.pagesStatus("site", v1)).state).toBe("failed");
        expect((await raw(harness.baseUrl, path)).status).toBe(404);
        await forge.enablePages("site");
        await forge.enablePages("site");
        expect((await forge.pagesStatus("site", v1)).state).toBe("built");
        expect((await forge.pagesStatus("site", "f".repeat(40))).state).toBe("failed");
      });

      it("serves files with their content types", async () => {
        const index = await raw(harness.baseUrl, path);
        expect(index.status).toBe(200);
        expect(index.headers["content-type"]).toBe("text/html; charset=utf-8");
        expect(index.body.equals(siteV1.get("index.html") ?? Buffer.alloc(0))).toBe(true);
        expect(index.headers["cache-control"]).toBe("no-cache");

        const script = await raw(harness.baseUrl, `${path}app.js`);
        expect(script.status).toBe(200);
        expect(script.headers["content-type"]).toMatch(/^(text|application)\/javascript; charset=utf-8$/);

        const csv = await raw(harness.baseUrl, `${path}data.csv`);
        expect(csv.headers["content-type"]).toBe("text/csv; charset=utf-8");
        expect(csv.body.equals(siteV1.get("data.csv") ?? Buffer.alloc(0))).toBe(true);

        const png = await raw(harness.baseUrl, `${path}images/logo.png`);
        expect(png.headers["content-type"]).toBe("image/png");
        expect(png.body.equals(binary)).toBe(true);

        const spaced = await raw(harness.baseUrl, `${path}with%20space.md`);
        expect(spaced.status).toBe(200);

        const head = await raw(harness.baseUrl, `${path}app.js`, { method: "HEAD" });
        expect(head.status).toBe(200);
        expect(head.body.length).toBe(0);
        expect(head.headers["content-length"]).toBe(String(siteV1.get("app.js")?.length));

        expect((await raw(harness.baseUrl, `${path}app.js`, { method: "POST", body: Buffer.from("x") })).status).toBe(405);
      });

      it("maps directories to index.html and redirects missing trailing slashes", async () => {
        const sub = await raw(harness.baseUrl, `${path}sub/`);
        expect(sub.status).toBe(200);
        expect(sub.body.toString()).toBe("<p>sub</p>\n");

        const subRedirect = await raw(harness.baseUrl, `${path}sub`);
        expect(subRedirect.status).toBe(301);
        expect(subRedirect.headers.location).toBe(`${path}sub/`);

        const rootRedirect = await raw(harness.baseUrl, path.replace(/\/$/, ""));
        expect(rootRedirect.status).toBe(301);
        expect(rootRedirect.headers.location).toBe(path);
      });

      it("answers 404 with an HTML body for missing files and repositories", async () => {
        for (const missing of [`${path}nope.js`, `${path}a/b/`, "/pages/no-such-repo/", "/pages/no-such-repo/index.html"]) {
          const response = await raw(harness.baseUrl, missing);
          expect(response.status, missing).toBe(404);
          expect(response.headers["content-type"], missing).toMatch(/^text\/html/);
          expect(response.body.length, missing).toBeGreaterThan(0);
        }
      });

      it("refuses traversal, plain or encoded", async () => {
        for (const attempt of [
          `${path}../neighbour/index.html`,
          `${path}%2e%2e/neighbour/index.html`,
          `${path}%2E%2E%2Fneighbour%2Findex.html`,
          `${path}.%2e/neighbour/`,
          `${path}..%5cneighbour%5cindex.html`,
          `${path}..\\neighbour\\index.html`,
          `${path}./index.html`,
          "/pages/%2e%2e/site.git/config",
          "/pages/site.git/config",
          "/pages/../site/index.html",
          `${path}%00index.html`,
          `${path}%ZZ`,
        ]) {
          const response = await raw(harness.baseUrl, attempt);
          expect([400, 404], attempt).toContain(response.status);
          expect(response.body.toString(), attempt).not.toContain("TOP-SECRET");
        }
      });

      it("commits the dot-paths a repository needs but publishes none of them, like GitHub Pages", async () => {
        const dotted = await forge.ensureRepository("dotted");
        const tree = files({
          "index.html": "<p>dotted</p>\n",
          ".github/workflows/ci.yml": "on: push\n",
          ".gitignore": "result.json\n",
          ".well-known/security.txt": "Contact: mailto:x@example.com\n",
          "_layouts/page.html": "<p>layout</p>\n",
        });
        await forge.commitFiles("dotted", commit(tree, "dotted-1"));
        await forge.enablePages("dotted");
        const base = new URL(dotted.pagesUrl).pathname;
        const clone = await cloneInto(dotted.repoUrl);
        expect((await readFile(join(clone, ".github/workflows/ci.yml"))).toString()).toBe("on: push\n");
        const status = async (file: string) => (await raw(harness.baseUrl, `${base}${file}`)).status;
        expect(await status("index.html")).toBe(200);
        for (const hidden of [".github/workflows/ci.yml", ".gitignore", ".well-known/security.txt", "_layouts/page.html"]) expect(await status(hidden), hidden).toBe(404);

        // Without Jekyll, `_` folders and `.well-known` are published; other dot-files still are not.
        await forge.commitFiles("dotted", commit(new Map([...tree, [".nojekyll", Buffer.alloc(0)]]), "dotted-2"));
        expect(await status("_layouts/page.html")).toBe(200);
        expect(await status(".well-known/security.txt")).toBe(200);
        expect(await status(".github/workflows/ci.yml")).toBe(404);
        expect(await status(".nojekyll")).toBe(404);
      });

      it("honours If-None-Match with 304 and shows a new commit at once", async () => {
        const first = await raw(harness.baseUrl, path);
        const etag = first.headers.etag;
        expect(etag).toMatch(/^"[0-9a-f]{40}"$/);
        const notModified = await raw(harness.baseUrl, path, { headers: { "if-none-match": String(etag) } });
        expect(notModified.status).toBe(304);
        expect(notModified.body.length).toBe(0);

        const v2 = await forge.commitFiles(
          "site",
          commit(new Map([...siteV1, ["index.html", Buffer.from("<!doctype html><title>v2</title>\n")]]), "site-2"),
        );
        expect((await forge.pagesStatus("site", v2.commitSha)).state).toBe("built");
        expect((await forge.pagesStatus("site", v1)).state).toBe("failed");
        const fresh = await raw(harness.baseUrl, path, { headers: { "if-none-match": String(etag) } });
        expect(fresh.status).toBe(200);
        expect(fresh.body.toString()).toContain("v2");
        expect(fresh.headers.etag).not.toBe(etag);
      });
    });
    });
  }
});

/** Fetches the Pages URL (cache-busted) until it answers `expected`, for a few seconds at most. */
async function fetchUntil(pagesUrl: string, expected: Buffer): Promise<boolean> {
  for (let poll = 0; poll < 50; poll++) {
    const response = await fetch(`${pagesUrl}?poll=${poll}`).catch(() => undefined);
    const body = response ? Buffer.from(await response.arrayBuffer()) : undefined;
    if (response?.status === 200 && body?.equals(expected)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

function files(entries: Record<string, string>): Map<string, Buffer> {
  return new Map(Object.entries(entries).map(([path, text]) => [path, Buffer.from(text, "utf8")]));
}

function expectSameTree(actual: ReadonlyMap<string, Buffer>, expected: ReadonlyMap<string, Buffer>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [path, content] of expected) {
    expect(actual.get(path)?.equals(content), path).toBe(true);
  }
}

async function readWorkingTree(root: string): Promise<Map<string, Buffer>> {
  const tree = new Map<string, Buffer>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = relative(root, join(entry.parentPath, entry.name)).split("\\").join("/");
    if (path === ".git" || path.startsWith(".git/")) continue;
    tree.set(path, await readFile(join(root, path)));
  }
  return tree;
}

async function expectLinearHistory(repoUrl: string, commits: number): Promise<void> {
  const lines = (await git(["ls-remote", repoUrl, "refs/heads/main"])).split("\t");
  const target = await mkdtemp(join(tmpdir(), "briefwright-forge-linear-"));
  try {
    await git(["clone", "--quiet", repoUrl, target]);
    expect(await git(["rev-parse", "HEAD"], target)).toBe(lines[0]);
    const parents = (await git(["log", "--format=%H:%P"], target)).split("\n").map((line) => line.split(":")[1]);
    expect(parents).toHaveLength(commits);
    // Every commit has one parent except the root: no merge, no lost commit.
    expect(parents.slice(0, -1).every((parent) => /^[0-9a-f]{40}$/.test(parent ?? ""))).toBe(true);
    expect(parents.at(-1)).toBe("");
  } finally {
    await rm(target, { recursive: true, force: true });
  }
}

/** git with no user or system config, so the host's settings (autocrlf, credential helpers) stay out. */
function git(args: readonly string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args,
      {
        cwd,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: tmpdir(),
          GIT_CONFIG_NOSYSTEM: "1",
          GIT_CONFIG_GLOBAL: "/dev/null",
          GIT_TERMINAL_PROMPT: "0",
          LC_ALL: "C",
        },
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`git ${args.join(" ")}: ${stderr || error.message}`));
        else resolve(stdout.trim());
      },
    );
  });
}

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** A request whose path goes out exactly as written (fetch would normalise `..` away). */
function raw(
  baseUrl: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: options.method ?? "GET", headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

function pktLine(text: string): Buffer {
  const payload = Buffer.from(text, "utf8");
  return Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, "0")), payload]);
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}
