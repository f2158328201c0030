/**
 * Which npm package file a public CDN URL (jsDelivr, unpkg, cdnjs, the Bootstrap CDN, …) stands
 * for, by each CDN's own URL rules; and npm version ordering. Pure: the CDN mirror does the I/O.
 */

/** A package request the mirror understood. */
export interface NpmFileRequest {
  readonly name: string;
  /** Exact version, range or dist-tag (`latest` when the URL named none). */
  readonly range: string;
  /** Paths to try in order, relative to the package root; `""` means the package's default entry. */
  readonly paths: readonly string[];
  /** Which CDN's rules pick the default entry. */
  readonly cdn: "jsdelivr" | "unpkg" | "cdnjs" | "other";
}

export type ParsedCdnUrl =
  | { readonly kind: "npm"; readonly request: NpmFileRequest }
  | { readonly kind: "unsupported"; readonly reason: string };

const jsdelivrHosts = new Set(["cdn.jsdelivr.net", "fastly.jsdelivr.net", "gcore.jsdelivr.net", "testingcf.jsdelivr.net", "quantil.jsdelivr.net"]);
const unpkgHosts = new Set(["unpkg.com", "www.unpkg.com"]);
const cdnjsHosts = new Set(["cdnjs.cloudflare.com"]);
const bootstrapCdnHosts = new Set(["stackpath.bootstrapcdn.com", "maxcdn.bootstrapcdn.com", "netdna.bootstrapcdn.com"]);
const otherHosts = new Set(["code.jquery.com", "esm.sh", "cdn.skypack.dev"]);

/**
 * cdnjs names libraries its own way and lays files out differently from the npm package. Each
 * entry names the npm package and the folders a cdnjs path may sit in inside that package.
 * Unknown libraries are reported rather than guessed: a wrong guess would serve the wrong file.
 */
const cdnjsLibraries: Readonly<Record<string, { readonly package: string | ((version: string) => string); readonly prefixes: readonly string[] }>> = {
  "highlight.js": { package: "@highlightjs/cdn-assets", prefixes: [""] },
  marked: { package: "marked", prefixes: ["", "lib/"] },
  "twitter-bootstrap": { package: "bootstrap", prefixes: ["dist/", ""] },
  bootstrap: { package: "bootstrap", prefixes: ["dist/", ""] },
  "bootstrap-icons": { package: "bootstrap-icons", prefixes: ["font/", ""] },
  jquery: { package: "jquery", prefixes: ["dist/"] },
  "Chart.js": { package: "chart.js", prefixes: ["dist/", ""] },
  d3: { package: "d3", prefixes: ["dist/", ""] },
  "lodash.js": { package: "lodash", prefixes: [""] },
  axios: { package: "axios", prefixes: ["dist/", ""] },
  PapaParse: { package: "papaparse", prefixes: [""] },
  papaparse: { package: "papaparse", prefixes: [""] },
  dompurify: { package: "dompurify", prefixes: ["dist/"] },
  "moment.js": { package: "moment", prefixes: ["min/", ""] },
  dayjs: { package: "dayjs", prefixes: [""] },
  "font-awesome": { package: (version) => (majorOf(version) < 5 ? "font-awesome" : "@fortawesome/fontawesome-free"), prefixes: [""] },
  KaTeX: { package: "katex", prefixes: ["dist/"] },
  showdown: { package: "showdown", prefixes: ["dist/"] },
  "markdown-it": { package: "markdown-it", prefixes: ["dist/"] },
  leaflet: { package: "leaflet", prefixes: ["dist/"] },
  prism: { package: "prismjs", prefixes: [""] },
  "three.js": { package: "three", prefixes: ["build/", ""] },
  vue: { package: "vue", prefixes: ["dist/", ""] },
  react: { package: "react", prefixes: [""] },
  "react-dom": { package: "react-dom", prefixes: [""] },
  mathjax: { package: "mathjax", prefixes: [""] },
  mathjs: { package: "mathjs", prefixes: ["lib/browser/"] },
  "github-markdown-css": { package: "github-markdown-css", prefixes: [""] },
  normalize: { package: "normalize.css", prefixes: [""] },
  "animate.css": { package: "animate.css", prefixes: [""] },
  bulma: { package: "bulma", prefixes: [""] },
  mermaid: { package: "mermaid", prefixes: ["dist/", ""] },
  "pdf.js": { package: "pdfjs-dist", prefixes: ["build/", ""] },
  jszip: { package: "jszip", prefixes: ["dist/"] },
  "FileSaver.js": { package: "file-saver", prefixes: ["dist/"] },
  "crypto-js": { package: "crypto-js", prefixes: [""] },
  "plotly.js": { package: "plotly.js-dist-min", prefixes: [""] },
  echarts: { package: "echarts", prefixes: ["dist/"] },
  sweetalert2: { package: "sweetalert2", prefixes: ["dist/", ""] },
  "popper.js": { package: (version) => (majorOf(version) < 2 ? "popper.js" : "@popperjs/core"), prefixes: ["dist/", ""] },
  "Sortable": { package: "sortablejs", prefixes: [""] },
};

function majorOf(version: string): number {
  return Number.parseInt(version, 10) || 0;
}

// npm's rules, loosened for legacy mixed-case names; never a leading dot, dash or underscore.
const packageNamePattern = /^(?:@[a-z0-9~][a-z0-9._~-]*\/)?[a-zA-Z0-9~][a-zA-Z0-9._~-]*$/;
const rangePattern = /^[0-9A-Za-z.^~<>=|*+ x-]{1,64}$/;
const exactVersionPattern = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

function decodeSegments(pathname: string): string[] | undefined {
  try {
    return pathname.split("/").map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}

/** Splits `@scope/name@range/rest…` or `name@range/rest…` (already split on `/`). */
function splitPackageSpec(segments: readonly string[]): { name: string; range: string; rest: string[] } | undefined {
  const [first, second, ...others] = segments;
  if (first === undefined || first === "") return undefined;
  let nameAndRange: string;
  let scope = "";
  let rest: string[];
  if (first.startsWith("@")) {
    if (second === undefined || second === "") return undefined;
    scope = `${first}/`;
    nameAndRange = second;
    rest = others;
  } else {
    nameAndRange = first;
    rest = second === undefined ? [] : [second, ...others];
  }
  const at = nameAndRange.indexOf("@");
  const name = scope + (at === -1 ? nameAndRange : nameAndRange.slice(0, at));
  const range = at === -1 ? "latest" : nameAndRange.slice(at + 1) || "latest";
  return { name, range, rest };
}

function npmRequest(name: string, range: string, rest: readonly string[], cdn: NpmFileRequest["cdn"]): ParsedCdnUrl {
  if (!packageNamePattern.test(name) || name.length > 214) return { kind: "unsupported", reason: `${JSON.stringify(name)} is not an npm package name` };
  if (!rangePattern.test(range)) return { kind: "unsupported", reason: `${JSON.stringify(range)} is not a version, range or tag` };
  if (rest.at(-1) === "+esm") return { kind: "unsupported", reason: `${name}@${range}: jsDelivr's /+esm bundles are built on the fly and not mirrored; load a file from the package instead` };
  const filePath = rest.join("/");
  if (filePath.endsWith("/")) return { kind: "unsupported", reason: `${name}@${range}/${filePath}: directory listings are not mirrored` };
  return { kind: "npm", request: { name, range, paths: [filePath], cdn } };
}

/** Whether a URL is on one of the CDN hosts the mirror answers for. */
export function isCdnUrl(url: string | URL): boolean {
  try {
    const host = (typeof url === "string" ? new URL(url) : url).hostname.toLowerCase();
    return jsdelivrHosts.has(host) || unpkgHosts.has(host) || cdnjsHosts.has(host) || bootstrapCdnHosts.has(host) || otherHosts.has(host);
  } catch {
    return false;
  }
}

/** Works out which package file a CDN URL stands for, or undefined when the host is not a mirrored CDN. */
export function parseCdnUrl(input: string | URL): ParsedCdnUrl | undefined {
  let url: URL;
  try {
    url = typeof input === "string" ? new URL(input) : input;
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  const host = url.hostname.toLowerCase();
  const segments = decodeSegments(url.pathname);
  if (!segments) return { kind: "unsupported", reason: "the URL's path has broken percent-encoding" };
  const parts = segments.slice(1); // the pathname starts with "/"

  if (jsdelivrHosts.has(host)) {
    const [channel, ...rest] = parts;
    if (channel === "npm") {
      const spec = splitPackageSpec(rest);
      if (!spec) return { kind: "unsupported", reason: "jsDelivr URL names no package" };
      return npmRequest(spec.name, spec.range, spec.rest, "jsdelivr");
    }
    if (channel === "gh") return { kind: "unsupported", reason: "jsDelivr /gh/ files come from GitHub repositories and are not mirrored; use the npm package (/npm/…)" };
    return { kind: "unsupported", reason: `jsDelivr /${channel ?? ""}/ URLs are not mirrored` };
  }

  if (unpkgHosts.has(host)) {
    if (parts[0] === "browse") return { kind: "unsupported", reason: "unpkg /browse/ pages are not mirrored" };
    if (url.searchParams.has("module")) return { kind: "unsupported", reason: "unpkg ?module rewriting is not mirrored" };
    const spec = splitPackageSpec(parts);
    if (!spec) return { kind: "unsupported", reason: "unpkg URL names no package" };
    return npmRequest(spec.name, spec.range, spec.rest, "unpkg");
  }

  if (cdnjsHosts.has(host)) {
    const [ajax, libs, library, version, ...rest] = parts;
    if (ajax !== "ajax" || libs !== "libs" || !library || !version || rest.length === 0) {
      return { kind: "unsupported", reason: "cdnjs URLs are mirrored only as /ajax/libs/<library>/<version>/<file>" };
    }
    const known = cdnjsLibraries[library];
    if (!known) {
      return { kind: "unsupported", reason: `cdnjs library ${JSON.stringify(library)} has no known npm package; load it from jsDelivr (https://cdn.jsdelivr.net/npm/<package>@<version>/<file>)` };
    }
    // three.js is versioned r128 on cdnjs and 0.128.0 on npm.
    const npmVersion = /^r(\d+)$/.exec(version) ? `0.${version.slice(1)}.0` : version;
    const name = typeof known.package === "function" ? known.package(npmVersion) : known.package;
    const file = rest.join("/");
    const parsed = npmRequest(name, npmVersion, rest, "cdnjs");
    if (parsed.kind !== "npm") return parsed;
    return { kind: "npm", request: { ...parsed.request, paths: known.prefixes.map((prefix) => prefix + file) } };
  }

  if (bootstrapCdnHosts.has(host)) {
    // /bootstrap/<version>/<css|js>/<file> → bootstrap@<version>/dist/<css|js>/<file>
    const [library, version, ...rest] = parts;
    if (library !== "bootstrap" || !version || rest.length === 0) return { kind: "unsupported", reason: "only /bootstrap/<version>/… is mirrored from BootstrapCDN" };
    const parsed = npmRequest("bootstrap", version, rest, "other");
    if (parsed.kind !== "npm") return parsed;
    return { kind: "npm", request: { ...parsed.request, paths: [`dist/${rest.join("/")}`] } };
  }

  if (host === "code.jquery.com") {
    const match = /^jquery-(\d+\.\d+\.\d+)((?:\.slim)?(?:\.min)?)\.js$/.exec(parts.join("/"));
    if (!match) return { kind: "unsupported", reason: "only code.jquery.com/jquery-<version>[.slim][.min].js is mirrored" };
    return { kind: "npm", request: { name: "jquery", range: match[1]!, paths: [`dist/jquery${match[2]}.js`], cdn: "other" } };
  }

  if (otherHosts.has(host)) return { kind: "unsupported", reason: `${host} builds its modules on the fly and is not mirrored; load the file from jsDelivr instead` };
  return undefined;
}

export function isExactVersion(range: string): boolean {
  return exactVersionPattern.test(range);
}

/** Semver precedence: numbers numerically, a pre-release below its release. */
export function compareVersions(a: string, b: string): number {
  const parse = (version: string) => {
    const [core = "", pre] = version.split("+")[0]!.split(/-(.*)/s);
    return { core: core.split(".").map((n) => Number.parseInt(n, 10) || 0), pre: pre ? pre.split(".") : [] };
  };
  const left = parse(a);
  const right = parse(b);
  for (let i = 0; i < 3; i++) {
    const difference = (left.core[i] ?? 0) - (right.core[i] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  if (left.pre.length === 0 || right.pre.length === 0) return Math.sign(right.pre.length - left.pre.length);
  for (let i = 0; i < Math.max(left.pre.length, right.pre.length); i++) {
    const l = left.pre[i];
    const r = right.pre[i];
    if (l === undefined) return -1;
    if (r === undefined) return 1;
    const ln = /^\d+$/.test(l) ? Number(l) : undefined;
    const rn = /^\d+$/.test(r) ? Number(r) : undefined;
    if (ln !== undefined && rn !== undefined) {
      if (ln !== rn) return Math.sign(ln - rn);
    } else if (ln !== undefined) return -1;
    else if (rn !== undefined) return 1;
    else if (l !== r) return l < r ? -1 : 1;
  }
  return 0;
}
