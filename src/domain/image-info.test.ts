import { describe, expect, it } from "vitest";
import { describeImage, imageSize } from "./image-info.ts";
import { tinyPng } from "../../test/support/tiny-png.ts";

function jpeg(width: number, height: number): Buffer {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, ...Buffer.from("JFIF\0"), 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const sof0 = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof0, Buffer.from([0xff, 0xd9])]);
}

describe("imageSize", () => {
  it("reads PNG, JPEG, GIF and WebP headers", () => {
    expect(imageSize(tinyPng(64, 32))).toEqual({ width: 64, height: 32 });
    expect(imageSize(jpeg(640, 480))).toEqual({ width: 640, height: 480 });
    const gif = Buffer.concat([Buffer.from("GIF89a", "latin1"), Buffer.from([10, 0, 20, 0]), Buffer.alloc(8)]);
    expect(imageSize(gif)).toEqual({ width: 10, height: 20 });
    const webp = Buffer.alloc(30);
    webp.write("RIFF", 0, "latin1");
    webp.write("WEBPVP8X", 8, "latin1");
    webp.writeUIntLE(99, 24, 3);
    webp.writeUIntLE(49, 27, 3);
    expect(imageSize(webp)).toEqual({ width: 100, height: 50 });
  });

  it("gives up quietly on anything else or anything truncated", () => {
    expect(imageSize(Buffer.from("not an image"))).toBeUndefined();
    expect(imageSize(tinyPng(8, 8).subarray(0, 20))).toBeUndefined();
    expect(imageSize(jpeg(8, 8).subarray(0, 12))).toBeUndefined();
    expect(imageSize(Buffer.alloc(0))).toBeUndefined();
  });
});

describe("describeImage", () => {
  it("names the file, type, size and dimensions when readable", () => {
    const data = tinyPng(3, 2);
    expect(describeImage({ name: "logo.png", mimeType: "image/png", data })).toBe(`logo.png (image/png, ${data.length} bytes, 3×2 px)`);
    expect(describeImage({ name: "x.svg", mimeType: "image/svg+xml", data: Buffer.from("<svg/>") })).toBe("x.svg (image/svg+xml, 6 bytes)");
  });
});
