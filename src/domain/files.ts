/** The files of one app version: repository-relative POSIX path → bytes. */
export type FileTree = ReadonlyMap<string, Buffer>;

/** How a FileTree is kept in JSON (stage outputs): path → base64. */
export type StoredFileTree = Readonly<Record<string, string>>;

export function storeFileTree(files: FileTree): StoredFileTree {
  const stored: Record<string, string> = {};
  for (const [path, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    stored[path] = content.toString("base64");
  }
  return stored;
}

export function loadFileTree(stored: StoredFileTree): Map<string, Buffer> {
  return new Map(Object.entries(stored).map(([path, base64]) => [path, Buffer.from(base64, "base64")]));
}

/** Text view of a tree, for prompts. Binary files are left out by the caller. */
export function textFileTree(files: Readonly<Record<string, string>>): Map<string, Buffer> {
  return new Map(Object.entries(files).map(([path, text]) => [path, Buffer.from(text, "utf8")]));
}

/** The marker that makes GitHub Pages publish a tree as committed (no Jekyll); briefwright writes it. */
export const NO_JEKYLL = ".nojekyll";
