import { describe, expect, it } from "vitest";
import type { DecodedAttachment } from "./attachment.ts";
import { summarizeAttachment } from "./attachment-summary.ts";

describe("summarizeAttachment", () => {
  const attachment = (name: string, mimeType: string, content: Buffer | string): DecodedAttachment => ({ name, mimeType, content: Buffer.from(content) });

  it("previews a CSV by header and first three rows", () => {
    const summary = summarizeAttachment(attachment("d.csv", "text/csv", "a,b\n1,2\n3,4\n5,6\n7,8\n"));
    expect(summary).toEqual({ name: "d.csv", mimeType: "text/csv", size: 20, kind: "csv", preview: "CSV, 4 data rows\nheader: a,b\n1,2\n3,4\n5,6" });
  });

  it("previews JSON by shape", () => {
    expect(summarizeAttachment(attachment("r.json", "application/json", JSON.stringify([{ id: 1, name: "x" }, { id: 2, name: "y" }]))).preview).toBe(
      "JSON array of 2 × object {id: number, name: string}",
    );
    expect(summarizeAttachment(attachment("c.json", "application/json", '{"rates":{"a":1},"base":"EUR"}')).preview).toBe("JSON object {rates: object, base: string}");
    expect(summarizeAttachment(attachment("bad.json", "application/json", "{nope")).preview).toMatch(/^not valid JSON/);
  });

  it("previews text by its first five lines and binary by size", () => {
    expect(summarizeAttachment(attachment("uid.txt", "text/plain", "1\n2\n3\n4\n5\n6\n7")).preview).toBe("1\n2\n3\n4\n5");
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    expect(summarizeAttachment(attachment("logo.png", "image/png", png))).toMatchObject({ kind: "binary", preview: "binary 12 bytes" });
  });

  it("caps previews", () => {
    const wide = summarizeAttachment(attachment("w.csv", "text/csv", `${"h".repeat(5000)}\n${"x".repeat(5000)}\n`));
    expect(wide.preview.length).toBeLessThanOrEqual(800);
    const manyKeys = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`key${i}`, i]));
    expect(summarizeAttachment(attachment("k.json", "application/json", JSON.stringify(manyKeys))).preview.length).toBeLessThanOrEqual(800);
  });
});
