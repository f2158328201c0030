import { OutboundUrlError, describeError } from "../domain/errors.ts";
import { outboundDispatcher, type OutboundProxy } from "./outbound-dispatcher.ts";
import { assertUrlIsPublic } from "./outbound-url-guard.ts";

export type { OutboundProxy } from "./outbound-dispatcher.ts";

export interface FetchLimits {
  readonly allowPrivateUrls: boolean;
  readonly maxBytes: number;
  readonly timeoutMs: number;
  /** Stops the fetch early (the caller gave up); the time cap applies either way. */
  readonly signal?: AbortSignal;
  /** Sent as `User-Agent`: some public APIs answer 403 to an anonymous client. */
  readonly userAgent?: string;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY; requests go direct without it. */
  readonly proxy?: OutboundProxy;
}

export interface FetchedResource {
  readonly url: string;
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

/**
 * A build-time GET: http(s) only, no private addresses unless allowed, redirects followed only
 * to URLs that pass the same check, a size cap enforced while reading, a time cap overall.
 */
export async function fetchPublicUrl(raw: string, limits: FetchLimits, fetchFn: typeof fetch = fetch): Promise<FetchedResource> {
  let url = (await assertUrlIsPublic(raw, limits.allowPrivateUrls)).toString();
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const signal = limits.signal ? AbortSignal.any([limits.signal, timeout]) : timeout;
  const headers: Record<string, string> = { accept: "application/json, text/*;q=0.9, */*;q=0.5" };
  if (limits.userAgent) headers["user-agent"] = limits.userAgent;
  const dispatcher = outboundDispatcher(limits.proxy);
  for (let redirects = 0; ; redirects++) {
    let response: Response;
    try {
      // `dispatcher` is undici's extension of RequestInit (Node's fetch is undici).
      response = await fetchFn(url, { method: "GET", redirect: "manual", signal, headers, ...(dispatcher ? { dispatcher } : {}) } as RequestInit);
    } catch (cause) {
      throw new OutboundUrlError(`GET ${url} failed: ${describeError(cause)}`, { cause, isRetryable: true });
    }
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      if (redirects >= 5) throw new OutboundUrlError(`GET ${raw}: too many redirects`);
      url = (await assertUrlIsPublic(new URL(location, url).toString(), limits.allowPrivateUrls)).toString();
      continue;
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new OutboundUrlError(`GET ${url} answered HTTP ${response.status}`, { isRetryable: response.status >= 500 });
    }
    const declared = Number(response.headers.get("content-length") ?? "0");
    if (declared > limits.maxBytes) {
      await response.body?.cancel();
      throw new OutboundUrlError(`GET ${url}: ${declared} bytes is over the ${limits.maxBytes}-byte cap`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const reader = response.body?.getReader();
    for (;;) {
      const next = await reader?.read();
      if (!next || next.done) break;
      size += next.value.length;
      if (size > limits.maxBytes) {
        await reader!.cancel();
        throw new OutboundUrlError(`GET ${url}: body is over the ${limits.maxBytes}-byte cap`);
      }
      chunks.push(Buffer.from(next.value));
    }
    return { url, status: response.status, contentType: response.headers.get("content-type") ?? "application/octet-stream", body: Buffer.concat(chunks) };
  }
}
