import { chmod, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import * as tar from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCdnMirror } from "./cdn-mirror.ts";
import { compareVersions, parseCdnUrl } from "./cdn-url.ts";

// A scripted npm client: answers `view` and `pack` from registry.json next to it, logs every
// call, and takes a moment per call so concurrent requests really overlap.
const fakeNpm = `#!/usr/bin/env node
import { appendFileSync, copyFileSync, readFileSync } from "node:fs";
import path from "node:path";
const here = path.dirname(new URL(import.meta.url).pathname);
const registry = JSON.parse(readFileSync(path.join(here, "registry.json"), "utf8"));
const [command, spec, ...rest] = process.argv.slice(2);
appendFileSync(path.join(here, "calls.log"), [command, spec].join(" ") + "\\n");
await new Promise((resolve) => setTimeout(resolve, 150));
const at = spec.lastIndexOf("@");
const name = at > 0 ? spec.slice(0, at) : spec;
const range = at > 0 ? spec.slice(at + 1) : "latest";
const fail = (code, summary) => { console.log(JSON.stringify({ error: { code, summary } })); console.error("npm error code " + code); process.exit(1); };
const entry = registry[name];
if (!entry) fail("E404", "Not Found - GET https://registry.npmjs.org/" + name);
const versions = Object.keys(entry.versions);
if (command === "view") {
  let matches;
  if (entry.tags[range]) matches = [entry.tags[range]];
  else if (/^\\d+$/.test(range)) matches = versions.filter((v) => v.split(".")[0] === range && !v.includes("-"));
  else if (range.startsWith("^")) matches = versions.filter((v) => v.split(".")[0] === range.slice(1).split(".")[0] && !v.includes("-"));
  else matches = versions.filter((v) => v === range);
  if (matches.length === 0) fail("E404", "No match found for version " + range);
  console.log(JSON.stringify(matches.length === 1 ? matches[0] : matches));
} else if (command === "pack") {
  if (!entry.versions[range]) fail("ETARGET", "No matching version found for " + spec);
  const destination = rest[rest.indexOf("--pack-destination") + 1];
  const filename = name.replace("@", "").replace("/", "-") + "-" + range + ".tgz";
  copyFileSync(entry.versions[range], path.join(destination, filename));
  console.log(JSON.stringify([{ id: spec, name, version: range, filename }]));
} else {
  fail("EUSAGE", "unknown command " + command);
}
`;

let root: string;
let npmDir: string;
let npmCommand: string;

async function makeTarball(name: string, files: Record<string, string>, options: { link?: [string, string] } = {}): Promise<string> {
  const source = await mkdtemp(path.join(root, "src-"));
  const packageRoot = path.join(source, "package");
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(packageRoot, file)), { recursive: true });
    await writeFile(path.join(packageRoot, file), content);
  }
  if (options.link) await symlink(options.link[1], path.join(packageRoot, options.link[0]));
  const file = path.join(root, `${name.replace(/[@/]/g, "_")}-${Math.random().toString(36).slice(2)}.tgz`);
  await tar.c({ gzip: true, file, cwd: source, portable: true }, ["package"]);
  return file;
}

async function calls(): Promise<string[]> {
  try {
    return (await readFile(path.join(npmDir, "calls.log"), "utf8")).trim().split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

async function freshMirror(options: { allowFetch?: boolean; notFoundTtlMs?: number } = {}) {
  const cacheDir = await mkdtemp(path.join(root, "cache-"));
  await rm(path.join(npmDir, "calls.log"), { force: true });
  return { cacheDir, mirror: createCdnMirror({ cacheDir, npmCommand, ...options }) };
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "briefwright-mirror-test-"));
  npmDir = path.join(root, "npm");
  await mkdir(npmDir);
  npmCommand = path.join(npmDir, "npm.mjs");
  await writeFile(npmCommand, fakeNpm);
  await chmod(npmCommand, 0o755);
  const demo100 = await makeTarball("demo-lib", {
    "package.json": JSON.stringify({ name: "demo-lib", version: "1.0.0", main: "lib/index.js", jsdelivr: "dist/demo.min.js", unpkg: "dist/demo.umd.js" }),
    "lib/index.js": "module.exports = 1;",
    "dist/demo.min.js": "window.demo='1.0.0-min';",
    "dist/demo.umd.js": "window.demo='1.0.0-umd';",
    "dist/demo.css": "body{color:red}",
    "secret.txt": "inside",
  }, { link: ["escape.txt", "/etc/hostname"] });
  const demo120 = await makeTarball("demo-lib", {
    "package.json": JSON.stringify({ name: "demo-lib", version: "1.2.0", main: "index" }),
    "index.js": "window.demo='1.2.0';",
    "dist/demo.js": "window.demo='1.2.0-dist';",
  });
  const demo200beta = await makeTarball("demo-lib", { "package.json": "{}", "index.js": "beta" });
  const scoped = await makeTarball("@highlightjs/cdn-assets", {
    "package.json": JSON.stringify({ name: "@highlightjs/cdn-assets", version: "11.9.0" }),
    "highlight.min.js": "window.hljs={};",
    "styles/github.min.css": ".hljs{}",
  });
  await writeFile(
    path.join(npmDir, "registry.json"),
    JSON.stringify({
      "demo-lib": { tags: { latest: "1.2.0" }, versions: { "1.0.0": demo100, "1.2.0": demo120, "2.0.0-beta.1": demo200beta } },
      "@highlightjs/cdn-assets": { tags: { latest: "11.9.0" }, versions: { "11.9.0": scoped } },
    }),
  );
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("parseCdnUrl", () => {
  it("reads jsDelivr, unpkg, cdnjs and BootstrapCDN URLs as package files", () => {
    expect(parseCdnUrl("https://cdn.jsdelivr.net/npm/bootstrap@5.3.3/dist/css/bootstrap.min.css")).toEqual({
      kind: "npm",
      request: { name: "bootstrap", range: "5.3.3", paths: ["dist/css/bootstrap.min.css"], cdn: "jsdelivr" },
    });
    expect(parseCdnUrl("https://cdn.jsdelivr.net/npm/@highlightjs/cdn-assets@11.9.0/highlight.min.js")).toMatchObject({
      request: { name: "@highlightjs/cdn-assets", range: "11.9.0", paths: ["highlight.min.js"] },
    });
    expect(parseCdnUrl("https://cdn.jsdelivr.net/npm/marked")).toMatchObject({ request: { name: "marked", range: "latest", paths: [""] } });
    expect(parseCdnUrl("https://cdn.jsdelivr.net/npm/marked@%5E12/marked.min.js")).toMatchObject({ request: { range: "^12" } });
    expect(parseCdnUrl("https://unpkg.com/marked@12.0.2/marked.min.js?v=1")).toMatchObject({ request: { name: "marked", paths: ["marked.min.js"], cdn: "unpkg" } });
    expect(parseCdnUrl("https://cdnjs.cloudflare.com/ajax/libs/highlight.js/11.9.0/styles/github.min.css")).toMatchObject({
      request: { name: "@highlightjs/cdn-assets", range: "11.9.0", paths: ["styles/github.min.css"] },
    });
    expect(parseCdnUrl("https://cdnjs.cloudflare.com/ajax/libs/twitter-bootstrap/5.3.3/css/bootstrap.min.css")).toMatchObject({
      request: { name: "bootstrap", paths: ["dist/css/bootstrap.min.css", "css/bootstrap.min.css"] },
    });
    expect(parseCdnUrl("https://cdnjs.cloudflare.com/ajax/libs/three.js/r128/three.min.js")).toMatchObject({ request: { name: "three", range: "0.128.0" } });
    expect(parseCdnUrl("https://stackpath.bootstrapcdn.com/bootstrap/4.5.2/css/bootstrap.min.css")).toMatchObject({
      request: { name: "bootstrap", range: "4.5.2", paths: ["dist/css/bootstrap.min.css"] },
    });
    expect(parseCdnUrl("https://code.jquery.com/jquery-3.7.1.min.js")).toMatchObject({ request: { name: "jquery", range: "3.7.1", paths: ["dist/jquery.min.js"] } });
  });

  it("reports what it does not reproduce and ignores other hosts", () => {
    expect(parseCdnUrl("https://cdn.jsdelivr.net/npm/marked@12/+esm")).toMatchObject({ kind: "unsupported", reason: expect.stringContaining("+esm") });
    expect(parseCdnUrl("https://cdn.jsdelivr.net/gh/user/repo@1/file.js")).toMatchObject({ kind: "unsupported", reason: expect.stringContaining("/gh/") });
    expect(parseCdnUrl("https://cdnjs.cloudflare.com/ajax/libs/some-unknown-lib/1.0.0/x.js")).toMatchObject({ kind: "unsupported", reason: expect.stringContaining("some-unknown-lib") });
    expect(parseCdnUrl("https://esm.sh/marked@12")).toMatchObject({ kind: "unsupported" });
    expect(parseCdnUrl("https://cdn.jsdelivr.net/npm/-evil@1/x.js")).toMatchObject({ kind: "unsupported" });
    expect(parseCdnUrl("https://cdn.jsdelivr.net/npm/marked@1;rm -rf/x.js")).toMatchObject({ kind: "unsupported" });
    expect(parseCdnUrl("https://example.com/npm/marked@1/x.js")).toBeUndefined();
    expect(parseCdnUrl("not a url")).toBeUndefined();
  });
});

describe("compareVersions", () => {
  it("orders by semver precedence", () => {
    const sorted = ["1.10.0", "1.2.0", "1.2.0-beta.2", "1.2.0-beta.10", "1.2.0-alpha", "0.9.9", "2.0.0"].sort(compareVersions);
    expect(sorted).toEqual(["0.9.9", "1.2.0-alpha", "1.2.0-beta.2", "1.2.0-beta.10", "1.2.0", "1.10.0", "2.0.0"]);
  });
});

describe("createCdnMirror", () => {
  it("fetches a package once, even for concurrent requests, and serves its files with content types", async () => {
    const { cacheDir, mirror } = await freshMirror();
    const urls = [
      "https://cdn.jsdelivr.net/npm/demo-lib@1.0.0/dist/demo.min.js",
      "https://cdn.jsdelivr.net/npm/demo-lib@1.0.0/dist/demo.css",
      "https://unpkg.com/demo-lib@1.0.0/dist/demo.umd.js",
    ];
    const answers = await Promise.all(urls.map((url) => mirror.resolve(url)));
    expect(answers.map((answer) => answer?.status)).toEqual([200, 200, 200]);
    expect(answers[0]!.body.toString()).toBe("window.demo='1.0.0-min';");
    expect(answers[0]!.contentType).toMatch(/javascript/);
    expect(answers[1]!.contentType).toMatch(/^text\/css/);
    expect(answers[0]!.source).toBe("demo-lib@1.0.0/dist/demo.min.js");
    expect(await calls()).toEqual(["pack demo-lib@1.0.0"]);
    expect(await readdir(cacheDir)).toContain("demo-lib@1.0.0");

    // A second mirror over the same folder (another process, a restart) needs no npm at all.
    const again = createCdnMirror({ cacheDir, npmCommand, allowFetch: false });
    expect((await again.resolve(urls[0]!))?.status).toBe(200);
    expect(await calls()).toEqual(["pack demo-lib@1.0.0"]);
  });

  it("resolves ranges and tags to the highest matching release, once", async () => {
    const { mirror } = await freshMirror();
    const [first, second] = await Promise.all([
      mirror.resolve("https://cdn.jsdelivr.net/npm/demo-lib@1/dist/demo.js"),
      mirror.resolve("https://cdn.jsdelivr.net/npm/demo-lib@1/index.js"),
    ]);
    expect(first?.source).toBe("demo-lib@1.2.0/dist/demo.js");
    expect(second?.body.toString()).toBe("window.demo='1.2.0';");
    expect((await mirror.resolve("https://cdn.jsdelivr.net/npm/demo-lib@1/index.js"))?.status).toBe(200);
    expect(await calls()).toEqual(["view demo-lib@1", "pack demo-lib@1.2.0"]);
    expect((await mirror.resolve("https://unpkg.com/demo-lib/index.js"))?.source).toBe("demo-lib@1.2.0/index.js");
    expect(mirror.stats()).toMatchObject({ packs: 1, views: 2, served: 4 });
  });

  it("serves the default entry like the CDNs and falls back from .min to the plain file", async () => {
    const { mirror } = await freshMirror();
    expect((await mirror.resolve("https://cdn.jsdelivr.net/npm/demo-lib@1.0.0"))?.source).toBe("demo-lib@1.0.0/dist/demo.min.js");
    expect((await mirror.resolve("https://unpkg.com/demo-lib@1.0.0"))?.source).toBe("demo-lib@1.0.0/dist/demo.umd.js");
    // main: "index" has no extension; CDNs resolve it like Node would.
    expect((await mirror.resolve("https://cdn.jsdelivr.net/npm/demo-lib@1.2.0"))?.source).toBe("demo-lib@1.2.0/index.js");
    expect((await mirror.resolve("https://cdn.jsdelivr.net/npm/demo-lib@1.2.0/dist/demo.min.js"))?.source).toBe("demo-lib@1.2.0/dist/demo.js");
  });

  it("maps cdnjs names onto npm packages and serves scoped packages", async () => {
    const { mirror } = await freshMirror();
    expect(await mirror.resolve("https://cdnjs.cloudflare.com/ajax/libs/highlight.js/11.9.0/styles/github.min.css")).toMatchObject({
      status: 200,
      source: "@highlightjs/cdn-assets@11.9.0/styles/github.min.css",
    });
    expect((await mirror.resolve("https://cdn.jsdelivr.net/npm/@highlightjs/cdn-assets@11.9.0/highlight.min.js"))?.body.toString()).toBe("window.hljs={};");
    expect(await calls()).toEqual(["pack @highlightjs/cdn-assets@11.9.0"]);
  });

  it("answers 404 for missing packages, versions and files, and remembers the miss", async () => {
    const { mirror } = await freshMirror();
    const missingPackage = await mirror.resolve("https://cdn.jsdelivr.net/npm/no-such-lib@1.0.0/x.js");
    expect(missingPackage).toMatchObject({ status: 404, outcome: "not-found" });
    expect(missingPackage?.reason).toContain("no-such-lib@1.0.0 does not exist");
    expect((await mirror.resolve("https://cdn.jsdelivr.net/npm/no-such-lib@1.0.0/y.js"))?.status).toBe(404);
    expect(await calls()).toEqual(["pack no-such-lib@1.0.0"]);

    expect(await mirror.resolve("https://cdn.jsdelivr.net/npm/demo-lib@9/x.js")).toMatchObject({ status: 404, outcome: "not-found" });
    expect(await mirror.resolve("https://cdn.jsdelivr.net/npm/demo-lib@9.9.9/x.js")).toMatchObject({ status: 404, outcome: "not-found" });
    const missingFile = await mirror.resolve("https://cdn.jsdelivr.net/npm/demo-lib@1.0.0/nope.js");
    expect(missingFile).toMatchObject({ status: 404, outcome: "not-found" });
    expect(missingFile?.reason).toContain("has no file nope.js");
    expect(missingFile?.body.toString()).toContain("briefwright CDN mirror");
  });

  it("tries again after a remembered miss expires", async () => {
    const { mirror } = await freshMirror({ notFoundTtlMs: 1 });
    await mirror.resolve("https://cdn.jsdelivr.net/npm/no-such-lib@1.0.0/x.js");
    await new Promise((resolve) => setTimeout(resolve, 5));
    await mirror.resolve("https://cdn.jsdelivr.net/npm/no-such-lib@1.0.0/x.js");
    expect(await calls()).toEqual(["pack no-such-lib@1.0.0", "pack no-such-lib@1.0.0"]);
  });

  it("never serves anything outside the package folder", async () => {
    const { mirror } = await freshMirror();
    expect((await mirror.resolve("https://cdn.jsdelivr.net/npm/demo-lib@1.0.0/secret.txt"))?.status).toBe(200);
    for (const url of [
      "https://cdn.jsdelivr.net/npm/demo-lib@1.0.0/..%2f..%2fdemo-lib@1.2.0%2findex.js",
      "https://cdn.jsdelivr.net/npm/demo-lib@1.0.0/dist/..%2f..%2f..%2fetc%2fhostname",
      "https://cdn.jsdelivr.net/npm/demo-lib@1.0.0/%2e%2e/%2e%2e/etc/hostname",
      "https://cdn.jsdelivr.net/npm/demo-lib@1.0.0/escape.txt",
      "https://cdn.jsdelivr.net/npm/demo-lib@1.0.0/dist%00/demo.css",
    ]) {
      const answer = await mirror.resolve(url);
      expect(answer?.status, url).toBe(404);
    }
  });

  it("reports unsupported CDN features and, without fetching, what is not cached", async () => {
    const { mirror } = await freshMirror({ allowFetch: false });
    expect(await mirror.resolve("https://cdn.jsdelivr.net/npm/demo-lib@1.0.0/+esm")).toMatchObject({ status: 404, outcome: "unsupported" });
    expect(await mirror.resolve("https://cdn.jsdelivr.net/npm/demo-lib@1.0.0/x.js")).toMatchObject({ status: 502, outcome: "unavailable" });
    expect(await mirror.resolve("https://example.com/x.js")).toBeUndefined();
    expect(mirror.handles("https://unpkg.com/x")).toBe(true);
    expect(mirror.handles("https://example.com/x")).toBe(false);
    expect(await calls()).toEqual([]);
  });

  it("says so when the npm client cannot be run", async () => {
    const cacheDir = await mkdtemp(path.join(root, "cache-"));
    const mirror = createCdnMirror({ cacheDir, npmCommand: path.join(root, "no-such-npm") });
    expect(await mirror.resolve("https://cdn.jsdelivr.net/npm/demo-lib@1.0.0/x.js")).toMatchObject({ status: 502, outcome: "unavailable" });
  });
});
