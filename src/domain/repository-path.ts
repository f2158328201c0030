/**
 * The one path policy of a repository tree: which paths a model answer, an attachment, a
 * build-time fetch, the safety gate and the forge accept, and which files Pages publishes.
 * Pure; every place that writes or serves a path asks here instead of keeping its own rules.
 *
 * Two layers:
 * - `unsafePathProblem` — never acceptable anywhere: absolute paths, traversal, `.git`, control
 *   characters, runaway lengths. The forge enforces only this layer, so a repository that already
 *   holds, say, `.editorconfig` can still be committed to.
 * - `repositoryPathProblem` — what briefwright itself writes: the unsafe layer, names every
 *   file system can hold, and hidden (dot) paths only where real repositories need them.
 */

// Git and most file systems cap one name at 255 bytes; a whole path beyond this is a runaway.
const MAX_SEGMENT_BYTES = 255;
const MAX_PATH_BYTES = 1024;

// Windows-reserved device names: a repository holding one cannot be checked out there.
const reservedNames = /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i;
// Characters Windows (and so many git clients) cannot hold in a file name.
const unportableCharacters = /[<>:"|?*]/;

/**
 * Hidden paths a repository legitimately holds. Anything else starting with `.` stays refused:
 * a model has no business writing `.env`, `.npmrc` or `.htaccess`, and Pages would not publish
 * them anyway.
 */
const allowedHiddenPaths: readonly RegExp[] = [
  // GitHub Actions workflows (only the workflow folder, only YAML).
  /^\.github\/workflows\/[^/]+\.ya?ml$/i,
  // Git's own per-folder files (not its internals).
  /^(?:[^/]+\/)*\.(?:gitignore|gitattributes|gitkeep)$/,
  // Turns Jekyll off on GitHub Pages.
  /^\.nojekyll$/,
  // RFC 8615 well-known URIs; nothing hidden below the folder itself.
  /^\.well-known\/(?:[^./][^/]*\/)*[^./][^/]*$/,
];

/** Why a path is never acceptable in a repository tree, or `undefined` when it is safe. */
export function unsafePathProblem(path: string): string | undefined {
  if (path === "") return "empty path";
  if (/[\u0000-\u001f\u007f]/.test(path)) return "control character in path";
  if (path.includes("\\")) return "backslash in path (use / separators)";
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return "absolute path";
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) return `path longer than ${MAX_PATH_BYTES} bytes`;
  for (const segment of path.split("/")) {
    if (segment === "") return "empty path segment (// or a trailing /)";
    if (segment === "." || segment === "..") return `"${segment}" segment`;
    // .GIT and .git. resolve to .git on case-insensitive or Windows file systems.
    if (/^\.git\.?$/i.test(segment)) return ".git segment (git internals)";
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) return `path segment longer than ${MAX_SEGMENT_BYTES} bytes`;
  }
  return undefined;
}

/** True for the dot-paths a repository may hold (`.github/workflows/ci.yml`, `.nojekyll` …). */
export function isAllowedHiddenPath(path: string): boolean {
  return allowedHiddenPaths.some((pattern) => pattern.test(path));
}

/**
 * Why briefwright must not write `path` into a repository, or `undefined` when it may: safe
 * (see `unsafePathProblem`), portable, and not hidden unless it is one of the allowed dot-paths.
 */
export function repositoryPathProblem(path: string): string | undefined {
  const unsafe = unsafePathProblem(path);
  if (unsafe) return unsafe;
  for (const segment of path.split("/")) {
    if (reservedNames.test(segment)) return `reserved file name ${JSON.stringify(segment)}`;
    if (unportableCharacters.test(segment)) return `characters not allowed in file names (< > : " | ? *) in ${JSON.stringify(segment)}`;
  }
  if (path.split("/").some((segment) => segment.startsWith(".")) && !isAllowedHiddenPath(path)) {
    return "hidden path (only .github/workflows/*.yml, .gitignore, .gitattributes, .gitkeep, .nojekyll and .well-known/… are allowed)";
  }
  return undefined;
}

/**
 * Whether GitHub Pages publishes `path` from a branch. Jekyll runs unless the site has a root
 * `.nojekyll`, and leaves out dot-files, `_`-prefixed files, editor backups and vendored
 * folders. Without Jekyll, dot-files still stay private here (the Pages host is ours to make
 * strict), except `.well-known/…`, which exists to be served.
 */
export function pagesPublishes(path: string, siteHasNojekyll: boolean): boolean {
  const segments = path.split("/");
  if (segments.some((segment) => segment.startsWith("."))) return siteHasNojekyll && /^\.well-known\//.test(path) && isAllowedHiddenPath(path);
  if (siteHasNojekyll) return true;
  return !segments.some((segment) => segment.startsWith("_") || segment.startsWith("#") || segment.endsWith("~") || jekyllExcluded.has(segment));
}

// Jekyll's default `exclude` list.
const jekyllExcluded = new Set(["node_modules", "Gemfile", "Gemfile.lock", "vendor"]);
