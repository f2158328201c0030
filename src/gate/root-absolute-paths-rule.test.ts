import { describe, expect, it } from "vitest";
import { fixRootAbsolutePaths } from "./root-absolute-paths-rule.ts";
import { tree } from "./test-files.ts";

function run(entries: Record<string, string>) {
  const result = fixRootAbsolutePaths(tree(entries));
  return { files: Object.fromEntries([...result.files].map(([path, content]) => [path, content.toString("utf8")])), decisions: result.decisions };
}

describe("fixRootAbsolutePaths", () => {
  it("rewrites root-absolute src, href, CSS url() and fetch() to relative paths when the target exists", () => {
    const { files, decisions } = run({
      "index.html": `<link href="/style.css" rel="stylesheet"><script src='/app.js?v=2'></script><a href="/">home</a><img src=/img/logo.png>
<div style="background: url(/img/logo.png)"></div><script>fetch("/data.csv").then(r => r.text());</script>`,
      "style.css": "body { background: url('/img/logo.png'); }",
      "css/theme.css": '@import "/style.css"; .x { background: url(/img/logo.png) }',
      "app.js": 'fetch(`/data.csv`); import("/lib/util.js");',
      "img/logo.png": "png",
      "data.csv": "a,b",
      "lib/util.js": "export {}",
    });
    expect(files["index.html"]).toBe(`<link href="style.css" rel="stylesheet"><script src='app.js?v=2'></script><a href="./">home</a><img src=img/logo.png>
<div style="background: url(img/logo.png)"></div><script>fetch("data.csv").then(r => r.text());</script>`);
    expect(files["style.css"]).toBe("body { background: url('img/logo.png'); }");
    expect(files["css/theme.css"]).toBe('@import "../style.css"; .x { background: url(../img/logo.png) }');
    expect(files["app.js"]).toBe('fetch(`data.csv`); import("lib/util.js");');
    expect(decisions.every((d) => d.passed && d.severity === "fixed")).toBe(true);
    expect(decisions[0]).toEqual({
      rule: "root-absolute-paths",
      passed: true,
      severity: "fixed",
      detail: `index.html: rewrote root-absolute attribute "/style.css" to "style.css" so it works under Pages' /<repo>/ prefix`,
      path: "index.html",
    });
  });

  it("leaves protocol-relative and absolute URLs, and relative paths, untouched", () => {
    const page = `<script src="//cdn.jsdelivr.net/npm/marked/marked.min.js"></script><link href="https://cdn.jsdelivr.net/x.css"><img src="img/a.png"><script>fetch("https://api.github.com/users/x")</script>`;
    const { files, decisions } = run({ "index.html": page });
    expect(files["index.html"]).toBe(page);
    expect(decisions).toEqual([{ rule: "root-absolute-paths", passed: true, severity: "block", detail: "no root-absolute asset paths" }]);
  });

  it("blocks a root-absolute path whose target is not in the tree", () => {
    const { files, decisions } = run({ "index.html": `<script src="/missing.js"></script><script>fetch("/api/items")</script>` });
    expect(files["index.html"]).toBe(`<script src="/missing.js"></script><script>fetch("/api/items")</script>`);
    expect(decisions.map((d) => [d.severity, d.passed, d.detail])).toEqual([
      ["block", false, `index.html: attribute "/missing.js" is root-absolute and missing.js is not in the tree; under Pages' /<repo>/ prefix it would not load — use a relative path to a file that exists`],
      ["block", false, `index.html: script URL "/api/items" is root-absolute and api/items is not in the tree; under Pages' /<repo>/ prefix it would not load — use a relative path to a file that exists`],
    ]);
  });

  it("resolves a directory path to its index.html, from a page in a subdirectory", () => {
    const { files } = run({ "docs/page.html": `<a href="/docs/">docs</a><a href="/">home</a><a href="/about">about</a>`, "docs/index.html": "d", "index.html": "i", "about/index.html": "a" });
    expect(files["docs/page.html"]).toBe(`<a href="./">docs</a><a href="../">home</a><a href="../about/">about</a>`);
  });
});
