// Extensions that are binary whatever their first bytes look like.
const binaryExtensions = new Set([
  "png", "jpg", "jpeg", "gif", "webp", "avif", "ico", "bmp", "tif", "tiff", "pdf", "zip", "gz", "tgz", "br", "7z",
  "woff", "woff2", "ttf", "otf", "eot", "mp3", "mp4", "m4a", "ogg", "oga", "wav", "webm", "mov", "wasm", "bin",
]);

/** Lower-case extension of the last path segment, "" when there is none. */
export function extensionOf(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return dot <= 0 ? "" : name.slice(dot + 1).toLowerCase();
}

/**
 * Whether a file is text: not a known binary type, no NUL byte in its first 8 KiB, valid UTF-8
 * there. Text files are the ones the gate scans, measures for shrinkage and may rewrite.
 */
export function isTextFile(path: string, content: Buffer): boolean {
  if (binaryExtensions.has(extensionOf(path))) return false;
  const head = content.subarray(0, 8192);
  if (head.includes(0)) return false;
  // A multi-byte character cut by the window is not a sign of binary content.
  let end = head.length;
  if (head.length < content.length) {
    for (let back = 1; back <= 3 && end - back >= 0; back += 1) {
      const byte = head[end - back]!;
      if ((byte & 0xc0) === 0xc0) {
        end -= back;
        break;
      }
      if ((byte & 0x80) === 0) break;
    }
  }
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(head.subarray(0, end));
    return true;
  } catch {
    return false;
  }
}
