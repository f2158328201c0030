import { posix } from "node:path";
import type { ReadmeProse } from "./readme-prose.ts";

export interface ReadmeInput {
  readonly title: string;
  readonly pagesUrl: string;
  readonly repoUrl: string;
  /** Every round's brief so far, oldest first; the last is the current round. */
  readonly rounds: readonly { readonly round: number; readonly brief: string }[];
  readonly files: ReadonlyMap<string, Buffer>;
  readonly attachments: readonly string[];
  readonly licenseHolder: string;
  /** The model's prose for summary, usage and code explanation; the template's own without it. */
  readonly prose?: ReadmeProse;
}

const describers: Array<[RegExp, (path: string) => string]> = [
  [/^index\.html$/, () => "the page itself: markup, styles and the script that implements the brief"],
  [/\.html?$/, () => "an additional page"],
  [/\.m?js$/, () => "JavaScript used by the page"],
  [/\.css$/, () => "styles for the page"],
  [/\.(csv|json|md|txt|xml|ya?ml|tsv)$/, () => "data the page reads"],
  [/\.(png|jpe?g|gif|svg|webp|ico)$/, () => "an image used by the page"],
];

function describe(path: string, attachments: ReadonlySet<string>): string {
  if (attachments.has(path)) return "an attachment from the brief, committed unchanged";
  if (path === "LICENSE") return "the MIT licence";
  if (path === ".nojekyll") return "tells GitHub Pages to publish the files as they are (no Jekyll)";
  return describers.find(([pattern]) => pattern.test(posix.basename(path)))?.[1](path) ?? "a supporting file";
}

/** A complete README: summary, setup, usage, code explanation, round history and licence. */
export function buildReadme(input: ReadmeInput): string {
  const current = input.rounds.at(-1);
  const attachments = new Set(input.attachments);
  const files = [...input.files.keys(), "README.md"].filter((p, i, all) => all.indexOf(p) === i).sort();
  const fileLines = files.map((path) => `- \`${path}\` — ${path === "README.md" ? "this file" : describe(path, attachments)}`);
  const defaultUsage = `Open the live page (${input.pagesUrl}) or the local copy. The page implements the brief above;
${input.attachments.length > 0 ? `it reads ${input.attachments.map((a) => `\`${a}\``).join(", ")} from the same folder.` : "it needs no extra data."}`;
  const history = input.rounds.map((r) => `### Round ${r.round}\n\n${r.brief.trim()}`);
  return `# ${input.title}

## Summary

${input.prose?.summary ?? current?.brief.trim() ?? ""}

Live page: ${input.pagesUrl}

## Setup

The app is a static site with no build step. To run it locally:

\`\`\`sh
git clone ${input.repoUrl}
cd ${posix.basename(input.repoUrl).replace(/\.git$/, "")}
python3 -m http.server 8080
\`\`\`

then open http://localhost:8080/ in a browser. Any static file server works; opening
\`index.html\` from disk may block the page's own \`fetch\` calls.

## Usage

${input.prose?.usage ?? defaultUsage}

## Code explanation

${input.prose ? `${input.prose.codeExplanation}\n\nFiles:\n\n` : ""}${fileLines.join("\n")}

## Changes by round

${history.join("\n\n")}

## License

MIT — see [LICENSE](LICENSE). Copyright (c) ${input.licenseHolder}.
`;
}
