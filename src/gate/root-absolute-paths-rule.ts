import { posix } from "node:path";
import type { GateDecision, GateFiles } from "./gate-decision.ts";
import { extensionOf, isTextFile } from "./text-file.ts";

const RULE = "root-absolute-paths";

// Each pattern captures: 1 = text before the path (kept), 2 = the root-absolute path without its
// leading "/", 3 = the closing delimiter (kept). `(?!\/)` leaves protocol-relative //cdn… alone.
const htmlAttribute = /(\b(?:src|href|action|formaction|poster|data|data-src)\s*=\s*(["']))\/(?!\/)([^"'\s]*)(\2)/gi;
const htmlUnquotedAttribute = /(\b(?:src|href|action|formaction|poster|data|data-src)\s*=\s*)\/(?!\/)([^"'\s>`=<]*)(?=[\s>])()/gi;
const cssUrl = /(\burl\(\s*(["']?))\/(?!\/)([^"')\s]*)(\2\s*\))/gi;
const cssImport = /(@import\s+(["']))\/(?!\/)([^"']*)(\2)/gi;
const scriptCall = /(\b(?:fetch|import|new\s+Worker|new\s+URL|open\(\s*["'][A-Z]+["']\s*,)\s*\(?\s*(["'`]))\/(?!\/)([^"'`$]*)(\2)/g;
const moduleImport = /(\bfrom\s+(["']))\/(?!\/)([^"']*)(\2)/g;

interface Pattern {
  readonly regex: RegExp;
  readonly kind: string;
  /** Which group holds the path; the unquoted attribute has no quote group. */
  readonly quoted: boolean;
}

const patternsByExtension: Readonly<Record<string, readonly Pattern[]>> = {
  html: [
    { regex: htmlAttribute, kind: "attribute", quoted: true },
    { regex: htmlUnquotedAttribute, kind: "attribute", quoted: false },
    { regex: cssUrl, kind: "CSS url()", quoted: true },
    { regex: scriptCall, kind: "script URL", quoted: true },
    { regex: moduleImport, kind: "module import", quoted: true },
  ],
  css: [
    { regex: cssUrl, kind: "CSS url()", quoted: true },
    { regex: cssImport, kind: "CSS @import", quoted: true },
  ],
  js: [
    { regex: scriptCall, kind: "script URL", quoted: true },
    { regex: moduleImport, kind: "module import", quoted: true },
  ],
};
const extensionKinds: Readonly<Record<string, string>> = { html: "html", htm: "html", css: "css", js: "js", mjs: "js" };

/** The tree path a root-absolute URL path names, with its query/fragment split off. */
function resolveTarget(urlPath: string, files: GateFiles): { target: string; suffix: string; directory: boolean } {
  const cut = urlPath.search(/[?#]/);
  const pathPart = cut === -1 ? urlPath : urlPath.slice(0, cut);
  const suffix = cut === -1 ? "" : urlPath.slice(cut);
  let decoded = pathPart;
  try {
    decoded = decodeURIComponent(pathPart);
  } catch {
    // Keep it as written; it simply will not be found.
  }
  const directory = decoded === "" || decoded.endsWith("/");
  const target = directory ? `${decoded}index.html` : files.has(decoded) ? decoded : files.has(`${decoded}/index.html`) ? `${decoded}/index.html` : decoded;
  return { target, suffix, directory: directory || target !== decoded };
}

/**
 * Pages serves a project site under `/<repo>/`, so `src="/app.js"` asks for the user's root
 * site and 404s. A root-absolute path whose target is in the tree is rewritten to a relative
 * one (severity `fixed`); one whose target is not blocks, since no rewrite can make it work.
 *
 * Relative to what: an HTML or CSS file's own directory. A JS file's URLs resolve against the
 * page that loads it, which this rule cannot see; pages live at the root here, so JS paths are
 * made relative to the root.
 */
export function fixRootAbsolutePaths(files: GateFiles): { files: Map<string, Buffer>; decisions: GateDecision[] } {
  const result = new Map(files);
  const decisions: GateDecision[] = [];

  for (const [path, content] of files) {
    const kind = extensionKinds[extensionOf(path)];
    if (!kind || !isTextFile(path, content)) continue;
    const base = kind === "js" ? "" : posix.dirname(path) === "." ? "" : posix.dirname(path);
    let text = content.toString("utf8");
    let changed = false;

    for (const pattern of patternsByExtension[kind]!) {
      text = text.replace(pattern.regex, (whole: string, ...groups: unknown[]) => {
        const [before, , urlPathQuoted, closeQuoted] = groups as [string, string, string, string];
        const [beforeUnquoted, urlPathUnquoted] = groups as [string, string];
        const prefix = pattern.quoted ? before : beforeUnquoted;
        const urlPath = pattern.quoted ? urlPathQuoted : urlPathUnquoted;
        const close = pattern.quoted ? closeQuoted : "";
        const { target, suffix, directory } = resolveTarget(urlPath, files);
        const written = `/${urlPath}`;
        if (!files.has(target)) {
          decisions.push({
            rule: RULE,
            passed: false,
            severity: "block",
            detail: `${path}: ${pattern.kind} ${JSON.stringify(written)} is root-absolute and ${target} is not in the tree; under Pages' /<repo>/ prefix it would not load — use a relative path to a file that exists`,
            path,
          });
          return whole;
        }
        const targetDirectory = directory ? posix.dirname(target) : target;
        let relative = posix.relative(base, targetDirectory === "." ? "" : targetDirectory);
        if (directory) relative = relative === "" ? "./" : `${relative}/`;
        const rewritten = `${relative}${suffix}`;
        changed = true;
        decisions.push({
          rule: RULE,
          passed: true,
          severity: "fixed",
          detail: `${path}: rewrote root-absolute ${pattern.kind} ${JSON.stringify(written)} to ${JSON.stringify(rewritten)} so it works under Pages' /<repo>/ prefix`,
          path,
        });
        return `${prefix}${rewritten}${close}`;
      });
    }
    if (changed) result.set(path, Buffer.from(text, "utf8"));
  }

  if (decisions.length === 0) decisions.push({ rule: RULE, passed: true, severity: "block", detail: "no root-absolute asset paths" });
  return { files: result, decisions };
}
