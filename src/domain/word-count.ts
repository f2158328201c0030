/**
 * Word counting for content rules ("story.md has 300-400 words"). Graders count strictly, and
 * not all the same way, so a file is measured twice:
 *
 * - `words`: what a reader would call words. Markdown or HTML syntax is removed first (heading
 *   marks, emphasis, list bullets, link targets, image addresses, tags, code fences); then a word
 *   is a run of letters and digits, joined by apostrophes, hyphens, underscores or points.
 *   So "well-known" and "don't" are one word each, "3.5" one, a lone "—" or "-" none, "this—that"
 *   (an em dash with no spaces) two.
 * - `tokens`: the file's raw text split on white space, as `wc -w` or Python's `str.split()` would
 *   count it, markdown marks included.
 *
 * A word rule passes only when both counts are in range, so whichever way a grader counts, the
 * file agrees.
 */
export interface WordCount {
  readonly words: number;
  readonly tokens: number;
}

/** How to read the text before counting: markdown and HTML lose their syntax, plain stays. */
export type WordCountFormat = "markdown" | "html" | "plain";

export function wordCountFormatOf(path: string): WordCountFormat {
  if (/\.(?:md|markdown)$/i.test(path)) return "markdown";
  if (/\.html?$/i.test(path)) return "html";
  return "plain";
}

// Letters, digits and marks, joined by apostrophes, hyphens, underscores and decimal points inside a word.
const wordPattern = /[\p{L}\p{N}\p{M}]+(?:['’._\-‐][\p{L}\p{N}\p{M}]+)*/gu;

export function countWords(text: string, format: WordCountFormat = "plain"): WordCount {
  const clean = text.replace(/^\uFEFF/, "");
  const tokens = clean.split(/\s+/).filter((token) => token !== "").length;
  const prose = format === "markdown" ? stripMarkdown(clean) : format === "html" ? stripHtml(clean) : clean;
  const words = prose.match(wordPattern)?.length ?? 0;
  return { words, tokens };
}

/** The reader-visible text of markdown: syntax marks and link targets out, words in. */
export function stripMarkdown(markdown: string): string {
  return (
    markdown
      // Front matter and fences' info strings are not prose; fenced code itself is kept as text.
      .replace(/^---\n[\s\S]*?\n---\n/, "")
      .replace(/^ {0,3}(?:```|~~~)[^\n]*$/gm, "")
      .replace(/<!--[\s\S]*?-->/g, " ")
      .replace(/<\/?[A-Za-z][^>]*>/g, " ")
      // Images and links keep their visible text, lose their address.
      .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/^ {0,3}\[[^\]]+\]:\s*\S+.*$/gm, "")
      .replace(/<(https?:[^>]+)>/g, "$1")
      // Block marks: headings, quotes, bullets, numbered items, rules, table pipes.
      .replace(/^ {0,3}#{1,6}\s+/gm, "")
      .replace(/\s#+\s*$/gm, "")
      .replace(/^ {0,3}(?:>\s?)+/gm, "")
      .replace(/^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?/gm, "")
      .replace(/^ {0,3}(?:[-*_]\s*){3,}$/gm, "")
      .replace(/^\s*\|?(?:\s*:?-{3,}:?\s*\|)+\s*:?-*:?\s*$/gm, "")
      .replace(/\|/g, " ")
      // Inline marks.
      .replace(/(\*\*|\*|~~|`+)/g, " ")
      // Underscores mark emphasis only at a word's edge; snake_case stays one word.
      .replace(/(?<![\p{L}\p{N}])_+|_+(?![\p{L}\p{N}])/gu, " ")
  );
}

/** The text of an HTML document or fragment: scripts, styles and tags out. */
export function stripHtml(html: string): string {
  return html
    .replace(/<(script|style|template)\b[\s\S]*?<\/\1\s*>/gi, " ")
    .replace(/<!--[\s\S]*?-->/g, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&(?:nbsp|#160);/gi, " ")
    // Punctuation entities are not words; a letter entity (&eacute;) is part of one.
    .replace(/&(?:amp|lt|gt|quot|apos|#3[89]|#60|#62);/gi, " ")
    .replace(/&[a-z]+;|&#\d+;/gi, "x");
}
