/**
 * A repository name from a task id: GitHub's allowed characters, no leading dot or dash,
 * at most 90 characters so a `-N` suffix for uniqueness still fits in 100.
 */
export function repositoryNameFor(task: string): string {
  const cleaned = task
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[.-]+|[.-]+$/g, "")
    .slice(0, 90)
    .replace(/[.-]+$/g, "");
  const name = cleaned.toLowerCase();
  // `.git`-suffixed names confuse clone URLs.
  return (name === "" ? "app" : name).replace(/\.git$/, "-git");
}
