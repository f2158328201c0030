import { z } from "zod";
import { describeError } from "../domain/errors.ts";
import { fetchPublicUrl, type OutboundProxy } from "../net/fetch-public-url.ts";
import type { ModelTool } from "../ports/language-model.ts";
import { savePathProblem } from "./build-files.ts";
import { textPreview, type BuildToolFactory } from "./build-tool.ts";

/** The name the model calls it by; the prompts name it too. */
export const FETCH_URL_TOOL = "fetch_url" as const;

const fetchUrlArguments = z.object({
  url: z.string().describe("The http or https URL to GET"),
  save_as: z
    .string()
    .optional()
    .describe("A relative path such as data.json: the fetched bytes are committed to the repository under it, exactly as served"),
});

export type FetchUrlArguments = z.infer<typeof fetchUrlArguments>;

/** What the model reads back: the response's status, type and the start of its text, or why not. */
export type FetchUrlResult =
  | {
      readonly ok: true;
      readonly url: string;
      readonly status: number;
      readonly content_type: string;
      readonly bytes: number;
      /** The repository path the bytes were written to, null without `save_as`. */
      readonly saved_as: string | null;
      /** The start of the body as text; null for a binary body. */
      readonly preview: string | null;
      readonly truncated: boolean;
    }
  | { readonly ok: false; readonly url: string; readonly error: string };

export interface FetchUrlToolOptions {
  /** ALLOW_PRIVATE_URLS: loopback and private addresses are refused unless this is set. */
  readonly allowPrivateUrls: boolean;
  /** Largest body accepted (MAX_ATTACHMENT_BYTES). */
  readonly maxBytes: number;
  /** Per fetch, redirects included. Default 15 s. */
  readonly timeoutMs?: number;
  /** Text shown to the model per fetch. Default 4 KiB. */
  readonly previewBytes?: number;
  /** Fetches the tool makes in all (a runaway loop is refused past it). Default 20. */
  readonly maxFetches?: number;
  readonly fetch?: typeof fetch;
  /** The User-Agent every request sends (FETCH_USER_AGENT, or one naming briefwright and the request's email). */
  readonly userAgent?: string;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as config.ts parsed them. */
  readonly proxy?: OutboundProxy;
  /** Paths `save_as` may not take: the files briefwright writes itself and the attachments. */
  readonly reservedPaths: Iterable<string>;
  /** A fetch went through; `path` is where it was saved, null when it was only looked at. */
  readonly onComplete: (fetched: { readonly url: string; readonly path: string | null; readonly contentType: string; readonly body: Buffer }) => void;
  /** A fetch was refused or failed; the model gets the same reason. */
  readonly onRefuse: (refusal: { readonly url: string; readonly path: string | null; readonly reason: string }) => void;
}

const textLike = /^(text\/|application\/(json|xml|javascript|ecmascript|x-yaml|yaml|csv|x-ndjson|geo\+json))|\+json\b|\+xml\b/i;

/**
 * `fetch_url({url, save_as?})` for the model at build time: GET only, http(s) only, private
 * addresses refused unless allowed, the size and time capped (src/net/fetch-public-url.ts). The
 * model reads back the status, content type and the start of the text; with `save_as` the bytes
 * are also handed to `onComplete` to be committed under that path, byte for byte. Refusals and
 * failures are results the model reads (`{ok: false, error}`), never exceptions.
 */
export function createFetchUrlTool(options: FetchUrlToolOptions): ModelTool<FetchUrlArguments> {
  const reserved = new Set([...options.reservedPaths].map((path) => path.toLowerCase()));
  const maxFetches = options.maxFetches ?? 20;
  const previewBytes = options.previewBytes ?? 4096;
  let fetches = 0;
  return {
    name: FETCH_URL_TOOL,
    description:
      "GET a public http(s) URL at build time and read the start of the response. With save_as, the response body is " +
      "also saved into the repository under that relative path, exactly as served (use it when the brief says to fetch " +
      "data and save or commit it, e.g. data.json); the app then loads that file by its relative path.",
    parameters: fetchUrlArguments,
    async execute(args, { signal }): Promise<FetchUrlResult> {
      const url = args.url.trim();
      const path = args.save_as === undefined || args.save_as.trim() === "" ? null : args.save_as.trim();
      const refuse = (reason: string): FetchUrlResult => {
        options.onRefuse({ url, path, reason });
        return { ok: false, url, error: reason };
      };
      if (path !== null) {
        const problem = savePathProblem(path, reserved);
        if (problem) return refuse(problem);
      }
      if (++fetches > maxFetches) return refuse(`no more than ${maxFetches} fetches are allowed while building one round`);
      try {
        const resource = await fetchPublicUrl(
          url,
          { allowPrivateUrls: options.allowPrivateUrls, maxBytes: options.maxBytes, timeoutMs: options.timeoutMs ?? 15_000, signal, userAgent: options.userAgent, proxy: options.proxy },
          options.fetch,
        );
        options.onComplete({ url: resource.url, path, contentType: resource.contentType, body: resource.body });
        const text = isText(resource.contentType, resource.body);
        const shown = textPreview(resource.body, previewBytes);
        return {
          ok: true,
          url: resource.url,
          status: resource.status,
          content_type: resource.contentType,
          bytes: resource.body.length,
          saved_as: path,
          preview: text ? shown.preview : null,
          truncated: text && shown.truncated,
        };
      } catch (error) {
        return refuse(describeError(error));
      }
    },
  };
}

/** Text by its declared type, or (for a vague type) when it decodes as UTF-8 with no NUL bytes. */
function isText(contentType: string, body: Buffer): boolean {
  if (textLike.test(contentType)) return true;
  const sample = body.subarray(0, 4096);
  if (sample.includes(0)) return false;
  return !new TextDecoder("utf-8", { fatal: false }).decode(sample).slice(0, -4).includes("\uFFFD");
}

export interface FetchUrlSettings {
  readonly allowPrivateUrls: boolean;
  readonly maxBytes: number;
  readonly fetch?: typeof fetch;
  readonly userAgent?: string;
  readonly proxy?: OutboundProxy;
}

/** `fetch_url` as a build tool: saved bodies join the round's files with `via: "tool"`. */
export function fetchUrlBuildTool(settings: FetchUrlSettings): BuildToolFactory {
  return ({ files, record }) =>
    createFetchUrlTool({
      ...settings,
      reservedPaths: files.reservedPaths(),
      onComplete: ({ url, path, contentType, body }) => {
        if (path !== null) files.save({ path, url, bytes: body.length, contentType, base64: body.toString("base64"), via: "tool", tool: FETCH_URL_TOOL });
        record({ tool: FETCH_URL_TOOL, outcome: path === null ? "answered" : "saved", path, from: url, bytes: body.length, detail: null });
      },
      onRefuse: ({ url, path, reason }) => record({ tool: FETCH_URL_TOOL, outcome: "refused", path, from: url, bytes: 0, detail: reason }),
    });
}
