import { describe, expect, it } from "vitest";
import { MAX_REPOSITORY_DESCRIPTION, repositoryDescription } from "./repository-description.ts";

describe("repositoryDescription", () => {
  it("turns control characters and whitespace runs into single spaces", () => {
    expect(repositoryDescription("Publish a\tpage\r\n\u0000that\u0007 sums  sales.\u2028")).toBe("Publish a page that sums sales.");
  });

  it("keeps short text as it is", () => {
    expect(repositoryDescription("Sales summary")).toBe("Sales summary");
  });

  it("cuts long text to the limit with an ellipsis, never splitting a surrogate pair", () => {
    const long = `${"word ".repeat(100)}`;
    const cut = repositoryDescription(long);
    expect(cut.length).toBeLessThanOrEqual(MAX_REPOSITORY_DESCRIPTION);
    expect(cut.endsWith("…")).toBe(true);
    expect(long.startsWith(cut.slice(0, -1))).toBe(true);

    const emoji = "😀".repeat(400);
    const emojiCut = repositoryDescription(emoji);
    expect(emojiCut.length).toBeLessThanOrEqual(MAX_REPOSITORY_DESCRIPTION);
    expect(emojiCut.slice(0, -1)).toBe("😀".repeat((MAX_REPOSITORY_DESCRIPTION - 1 - 1) / 2));
  });

  it("is idempotent", () => {
    const once = repositoryDescription(`a\nb ${"x".repeat(500)}`);
    expect(repositoryDescription(once)).toBe(once);
  });
});
