/** Builds a gate tree from text contents, for tests. */
export function tree(entries: Record<string, string | Buffer>): Map<string, Buffer> {
  return new Map(Object.entries(entries).map(([path, content]) => [path, typeof content === "string" ? Buffer.from(content, "utf8") : content]));
}

/**
 * A GitHub token shape (`ghp_` + 36 alphanumerics), assembled at run time so this repository's
 * own source never holds the pattern a scanner (ours or GitHub's push protection) would flag.
 */
export function fakeGithubToken(): string {
  return ["gh", "p_", "Zq8Xw2Lm5Nv9Rt3Ks7Yb4Hc6Jd1Fg0Pa2Qe8"].join("");
}
