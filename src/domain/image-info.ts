/** Width and height in pixels. */
export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

/**
 * Reads an image's size from its header, without decoding it: PNG, JPEG, GIF and WebP. Returns
 * undefined for anything else or anything truncated; the caller only loses a detail.
 */
export function imageSize(data: Buffer): ImageSize | undefined {
  try {
    return pngSize(data) ?? gifSize(data) ?? webpSize(data) ?? jpegSize(data);
  } catch {
    return undefined;
  }
}

function pngSize(data: Buffer): ImageSize | undefined {
  // Signature, then the IHDR chunk: length (4), "IHDR" (4), width (4), height (4).
  if (data.length < 24 || data.readUInt32BE(0) !== 0x89504e47 || data.toString("latin1", 12, 16) !== "IHDR") return undefined;
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}

function gifSize(data: Buffer): ImageSize | undefined {
  if (data.length < 10 || !/^GIF8[79]a$/.test(data.toString("latin1", 0, 6))) return undefined;
  return { width: data.readUInt16LE(6), height: data.readUInt16LE(8) };
}

function webpSize(data: Buffer): ImageSize | undefined {
  if (data.length < 30 || data.toString("latin1", 0, 4) !== "RIFF" || data.toString("latin1", 8, 12) !== "WEBP") return undefined;
  const chunk = data.toString("latin1", 12, 16);
  if (chunk === "VP8X") return { width: 1 + data.readUIntLE(24, 3), height: 1 + data.readUIntLE(27, 3) };
  if (chunk === "VP8 ") return { width: data.readUInt16LE(26) & 0x3fff, height: data.readUInt16LE(28) & 0x3fff };
  if (chunk === "VP8L") {
    const bits = data.readUInt32LE(21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  return undefined;
}

/** Walks the JPEG markers to the first start-of-frame, which carries the size. */
function jpegSize(data: Buffer): ImageSize | undefined {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8) return undefined;
  let offset = 2;
  while (offset + 9 < data.length) {
    if (data[offset] !== 0xff) return undefined;
    const marker = data[offset + 1]!;
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    const length = data.readUInt16BE(offset + 2);
    // SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { width: data.readUInt16BE(offset + 7), height: data.readUInt16BE(offset + 5) };
    }
    offset += 2 + length;
  }
  return undefined;
}

/** One line for a model that cannot see the image: `logo.png (image/png, 1234 bytes, 64×32 px)`. */
export function describeImage(image: { readonly name: string; readonly mimeType: string; readonly data: Buffer }): string {
  const size = imageSize(image.data);
  const dimensions = size ? `, ${size.width}×${size.height} px` : "";
  return `${image.name} (${image.mimeType}, ${image.data.length} bytes${dimensions})`;
}

/** Raster types the vision models we talk to accept as image input. */
const visionTypes = new Set(["image/png", "image/jpeg", "image/jpg", "image/gif", "image/webp"]);

/** Whether a file of this type can be shown to a vision model (SVG is text, so it is not). */
export function isVisionImage(mimeType: string): boolean {
  return visionTypes.has(mimeType.toLowerCase().split(";")[0]!.trim());
}
