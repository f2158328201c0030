import { AttachmentError } from "./errors.ts";
import { repositoryPathProblem } from "./repository-path.ts";

/** An attachment decoded from its data URI, with a name that is safe to write into a repository. */
export interface DecodedAttachment {
  readonly name: string;
  readonly mimeType: string;
  readonly content: Buffer;
}

/**
 * Checks an attachment name. Names are kept as given (the brief refers to them) but must be a
 * path the repository path policy accepts (domain/repository-path.ts): relative, no traversal,
 * no git internals, hidden only where repositories need it (`.gitignore`, `.github/workflows/…`).
 */
export function safeAttachmentName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw new AttachmentError("attachment name is empty");
  if (trimmed.length > 200) throw new AttachmentError("attachment name is longer than 200 characters");
  const problem = repositoryPathProblem(trimmed);
  if (problem) throw new AttachmentError(`attachment name ${JSON.stringify(name)} is not allowed: ${problem}`);
  return trimmed;
}

const dataUri = /^data:([^,]*?),(.*)$/s;

/**
 * Decodes a `data:` URI, base64 (`;base64`) or percent-encoded. `maxBytes` caps the decoded size;
 * the encoded length is checked first so an oversized URI is refused before it is decoded.
 */
export function decodeDataUri(uri: string, maxBytes: number): { mimeType: string; content: Buffer } {
  const match = dataUri.exec(uri.trim());
  if (!match) throw new AttachmentError("url is not a data: URI (data:<mime>[;base64],<data>)");
  const meta = match[1]!.split(";").map((part) => part.trim());
  const isBase64 = meta.slice(1).some((part) => part.toLowerCase() === "base64");
  const mimeType = (meta[0] || "text/plain").toLowerCase();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(mimeType)) throw new AttachmentError(`data URI has a malformed media type ${JSON.stringify(meta[0])}`);
  const body = match[2]!;
  let content: Buffer;
  if (isBase64) {
    const compact = body.replace(/\s+/g, "");
    // Accept base64url too; reject anything else rather than let Buffer.from skip it silently.
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact) || compact.replace(/=+$/, "").length % 4 === 1) {
      throw new AttachmentError("data URI is marked base64 but is not valid base64");
    }
    if ((compact.length * 3) / 4 > maxBytes + 3) throw new AttachmentError(`attachment is larger than ${maxBytes} bytes`);
    content = Buffer.from(compact, compact.includes("-") || compact.includes("_") ? "base64url" : "base64");
  } else {
    try {
      content = Buffer.from(decodeURIComponent(body), "utf8");
    } catch (cause) {
      throw new AttachmentError("data URI has broken percent-encoding", { cause });
    }
  }
  if (content.length > maxBytes) throw new AttachmentError(`attachment is larger than ${maxBytes} bytes`);
  return { mimeType, content };
}

export function decodeAttachment(attachment: { name: string; url: string }, maxBytes: number): DecodedAttachment {
  const name = safeAttachmentName(attachment.name);
  const { mimeType, content } = decodeDataUri(attachment.url, maxBytes);
  return { name, mimeType, content };
}
