import { describe, expect, it } from "vitest";
import { countWords, stripMarkdown, wordCountFormatOf } from "./word-count.ts";

describe("countWords", () => {
  it.each<[string, string, "markdown" | "html" | "plain", number, number]>([
    ["plain words", "Curious, stubborn, kind.", "plain", 3, 3],
    ["a hyphenated compound is one word", "A well-known story", "plain", 3, 3],
    ["apostrophes stay inside a word", "Don't stop", "plain", 2, 2],
    ["a decimal number is one word", "Pi is 3.14", "plain", 3, 3],
    ["a spaced dash is no word, but a token", "Brave — and kind", "plain", 3, 4],
    ["an unspaced em dash joins two words into one token", "this—that", "plain", 2, 1],
    ["markdown heading marks are not words", "# Title\n\nOne two three.", "markdown", 4, 5],
    ["emphasis and links keep their text", "**Bold** and [a link](https://example.com/x) here", "markdown", 5, 5],
    ["list bullets are not words", "- one\n- two\n* three\n1. four", "markdown", 4, 8],
    ["snake_case stays one word, emphasis underscores go", "_calm_ snake_case", "markdown", 2, 2],
    ["images lose their address", "![a cat](cat.png) sleeps", "markdown", 3, 3],
    ["html tags, scripts and styles are not words", "<p>Hello <b>there</b></p><script>var x = 1;</script>", "html", 2, 5],
    ["a byte-order mark is nothing", "\uFEFFone two", "plain", 2, 2],
    ["empty text", "   \n", "plain", 0, 0],
  ])("%s", (_, text, format, words, tokens) => {
    expect(countWords(text, format)).toEqual({ words, tokens });
  });

  it("counts a long story exactly", () => {
    const story = Array.from({ length: 439 }, (_, i) => `word${i}`).join(" ");
    expect(countWords(story, "markdown")).toEqual({ words: 439, tokens: 439 });
  });

  it("picks the format from the extension", () => {
    expect([wordCountFormatOf("story.md"), wordCountFormatOf("a/b.markdown"), wordCountFormatOf("x.html"), wordCountFormatOf("about.txt")]).toEqual(["markdown", "markdown", "html", "plain"]);
    expect(stripMarkdown("> quoted *text*")).toMatch(/^\s*quoted\s+text\s*$/);
  });
});
