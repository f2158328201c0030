import { posix } from "node:path";
import mime from "mime-types";

// Types that are text but carry no charset in mime-db; a browser (and a grader decoding the body)
// should not have to guess their encoding either.
const textLike = new Set(["image/svg+xml", "application/xml", "application/geo+json", "application/ld+json"]);

/**
 * The Content-Type a site's file is served with, by extension, the way GitHub Pages does: text
 * types (html, css, js, json, md, txt, csv, svg, xml …) say `charset=utf-8`; an unknown
 * extension is `application/octet-stream`. One helper for every server that serves a site: the
 * local Pages host, the candidate server, the CDN mirror.
 */
export function contentTypeFor(path: string): string {
  const name = posix.basename(path);
  const type = mime.lookup(name);
  if (!type) return "application/octet-stream";
  if (textLike.has(type)) return `${type}; charset=utf-8`;
  return mime.contentType(type) || type;
}
