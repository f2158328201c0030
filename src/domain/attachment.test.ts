import { describe, expect, it } from "vitest";
import { decodeAttachment, decodeDataUri, safeAttachmentName } from "./attachment.ts";
import { AttachmentError } from "./errors.ts";

describe("decodeDataUri", () => {
  it("decodes base64 byte for byte", () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x0d, 0x0a, 0xff]);
    const { mimeType, content } = decodeDataUri(`data:image/png;base64,${bytes.toString("base64")}`, 100);
    expect(mimeType).toBe("image/png");
    expect(content.equals(bytes)).toBe(true);
  });

  it("decodes percent-encoding", () => {
    expect(decodeDataUri("data:text/plain,hello%20world%0A%E2%9C%93", 100).content.toString()).toBe("hello world\n✓");
  });

  it("defaults the media type", () => {
    expect(decodeDataUri("data:,x", 10).mimeType).toBe("text/plain");
  });

  it.each([
    ["https://example.com/a.csv", /not a data: URI/],
    ["data:text/csv;base64,@@@@", /not valid base64/],
    ["data:text/plain,%E0%A4%A", /percent-encoding/],
    ["data:text plain;base64,aGk=", /media type/],
  ])("refuses %s", (uri, message) => {
    expect(() => decodeDataUri(uri, 100)).toThrow(message);
  });

  it("enforces the size cap", () => {
    expect(() => decodeDataUri(`data:text/plain;base64,${Buffer.alloc(50).toString("base64")}`, 49)).toThrow(AttachmentError);
    expect(decodeDataUri(`data:text/plain;base64,${Buffer.alloc(50).toString("base64")}`, 50).content.length).toBe(50);
  });
});

describe("safeAttachmentName", () => {
  it.each(["data.csv", "img/logo.png", "uid.txt", "Input File (1).md"])("keeps %s", (name) => {
    expect(safeAttachmentName(name)).toBe(name);
  });

  it.each(["../../x", "/etc/passwd", "a/../b", ".git/config", "a\\b", "", ".env", "con.txt", "a//b", "x?.csv"])("refuses %j", (name) => {
    expect(() => safeAttachmentName(name)).toThrow(AttachmentError);
  });

  it("decodes a whole attachment", () => {
    const decoded = decodeAttachment({ name: "uid.txt", url: "data:text/plain;base64,MTIz" }, 10);
    expect(decoded).toEqual({ name: "uid.txt", mimeType: "text/plain", content: Buffer.from("123") });
  });
});
