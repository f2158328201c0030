import { describe, expect, it } from "vitest";
import { contentTypeFor } from "./content-type.ts";

describe("contentTypeFor", () => {
  it.each([
    ["index.html", "text/html; charset=utf-8"],
    ["notes.txt", "text/plain; charset=utf-8"],
    ["data.json", "application/json; charset=utf-8"],
    ["story.md", "text/markdown; charset=utf-8"],
    ["logo.svg", "image/svg+xml; charset=utf-8"],
    ["data.csv", "text/csv; charset=utf-8"],
    ["feed.xml", "application/xml; charset=utf-8"],
    ["sub/dir/app.js", "text/javascript; charset=utf-8"],
    ["photo.png", "image/png"],
    ["LICENSE", "application/octet-stream"],
  ])("%s → %s", (path, type) => expect(contentTypeFor(path)).toBe(type));
});
