import { chromium, type Browser as PlaywrightBrowser, type BrowserContext, type Page, type Request, type Route } from "playwright-core";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { describeError } from "../../domain/errors.ts";
import { isPrivateAddress } from "../../net/outbound-url-guard.ts";
import {
  BrowserError,
  NavigationError,
  PageEvaluationError,
  type Browser,
  type BrowserPage,
  type NavigationResult,
  type PageEvent,
  type PageSessionOptions,
} from "../../ports/browser.ts";
import type { CdnMirror } from "../../verify/cdn-mirror.ts";

export interface ChromiumBrowserSettings {
  /** The Chromium binary (default Debian's `/usr/bin/chromium`; never a downloaded browser). */
  readonly executablePath?: string;
  /** Most pages open at once; further `withPage` calls wait (default 4). */
  readonly maxContexts?: number;
  /**
   * Refuse requests to hosts other than this machine (default true). Production sets false so a
   * page's fonts and APIs load as they will on Pages; tests keep it on so nothing leaves the box.
   */
  readonly blockOutsideRequests?: boolean;
  /** Answers CDN requests from npm packages instead of the network. */
  readonly cdnMirror?: CdnMirror;
  /** Longest wait for the browser to start (ms, default 30 s). */
  readonly launchTimeoutMs?: number;
  /** Keep one fresh page ready for the next run (default true). */
  readonly prewarm?: boolean;
  /** Extra command-line switches, after the defaults. */
  readonly extraArgs?: readonly string[];
  /**
   * Let pages reach loopback, private and link-local addresses (ALLOW_PRIVATE_URLS; default
   * false). Either way a page reaches its own origin (the candidate server, the Pages host).
   */
  readonly allowPrivateUrls?: boolean;
  /**
   * Run Chromium's own sandbox. Default: when not root — Chromium refuses to start its sandbox
   * as root, so there the renderer runs unsandboxed (see SECURITY.md).
   */
  readonly sandbox?: boolean;
}

// Matches every http(s) URL not on a loopback host, so local requests are never intercepted.
const outsideUrl = /^(?:https?|wss?):\/\/(?!(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])(?::\d+)?(?:[/?#]|$))/i;
// Every http(s) and WebSocket URL: when private addresses are refused, local ones are looked at too.
const anyUrl = /^(?:https?|wss?):\/\//i;

/**
 * Whether a page may not reach `url`: a loopback, private or link-local address (literal, a
 * localhost name, or a name resolving to one) that is not the page's own origin. Names are
 * resolved here, before Chromium resolves them again: a rebinding name still has that window,
 * which `VERIFY_BLOCK_OUTSIDE` closes (no outside name resolves at all then).
 */
async function isForbiddenPrivate(url: string, ownOrigins: ReadonlySet<string>): Promise<boolean> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const origin = parsed.origin.replace(/^ws/, "http");
  if (ownOrigins.has(origin)) return false;
  const host = parsed.hostname.replace(/^\[|\]$/g, "").replace(/\.+$/, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host)) return isPrivateAddress(host);
  const addresses = await lookup(host, { all: true }).catch(() => []);
  return addresses.some((entry) => isPrivateAddress(entry.address));
}

/**
 * A counting semaphore whose waiters can give up (time or abort). A released slot is handed
 * straight to the first waiter, so a newcomer can never slip in between and overfill the pool.
 */
function createSemaphore(limit: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  const releaser = () => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = waiting.shift();
      if (next) next();
      else active--;
    };
  };
  return {
    async acquire(signal?: AbortSignal, timeoutMs?: number): Promise<() => void> {
      signal?.throwIfAborted();
      if (active < limit) {
        active++;
        return releaser();
      }
      await new Promise<void>((resolve, reject) => {
        const grant = () => {
          cleanup();
          resolve();
        };
        const onAbort = () => {
          cleanup();
          reject(signal?.reason);
        };
        const timer =
          timeoutMs === undefined
            ? undefined
            : setTimeout(() => {
                cleanup();
                reject(new BrowserError(`no free browser slot within ${timeoutMs} ms`, { isRetryable: true }));
              }, timeoutMs);
        const cleanup = () => {
          const index = waiting.indexOf(grant);
          if (index !== -1) waiting.splice(index, 1);
          if (timer) clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        waiting.push(grant);
      });
      return releaser();
    },
  };
}

function pageMessage(error: unknown): string {
  // Playwright prefixes its method name and appends a call log; the page's own first line is what helps.
  const text = describeError(error).replace(/^[a-zA-Z.]+: /, "");
  return text.split("\n")[0]!.trim();
}

function isClosedError(error: unknown): boolean {
  return /Target page, context or browser has been closed|Target closed|Browser has been closed|browser has disconnected/i.test(describeError(error));
}

/**
 * Chromium through playwright-core: ONE browser, started on first use and kept warm, a fresh
 * context (cookies, storage, cache) per `withPage`, at most `maxContexts` at a time. Launching
 * costs ~170 ms or more, a context ~10 ms and its first page ~150–250 ms here, so the browser
 * stays up and the next run's page is opened between runs (see docs/decisions/0005-verifier.md).
 */
export function createChromiumBrowser(settings: ChromiumBrowserSettings = {}): Browser {
  const executablePath = settings.executablePath ?? "/usr/bin/chromium";
  const blockOutside = settings.blockOutsideRequests ?? true;
  const mirror = settings.cdnMirror;
  const launchTimeoutMs = settings.launchTimeoutMs ?? 30_000;
  const slots = createSemaphore(Math.max(1, settings.maxContexts ?? 4));
  const prewarm = settings.prewarm ?? true;
  const allowPrivate = settings.allowPrivateUrls ?? false;
  const sandbox = settings.sandbox ?? process.getuid?.() !== 0;

  const args = [
    "--headless",
    // As root (containers) Chromium cannot start its sandbox; anywhere else it runs.
    ...(sandbox ? [] : ["--no-sandbox"]),
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    // Belt and braces with the request routing: when outside requests are blocked, no name but
    // the loopback ones even resolves, so nothing (preconnects included) can leave the machine.
    ...(blockOutside ? ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"] : []),
    ...(settings.extraArgs ?? []),
  ];

  let launching: Promise<PlaywrightBrowser> | undefined;
  let closed = false;
  const contexts = new Set<BrowserContext>();

  function launch(): Promise<PlaywrightBrowser> {
    const attempt: Promise<PlaywrightBrowser> = chromium
      .launch({ executablePath, headless: true, args, timeout: launchTimeoutMs, chromiumSandbox: sandbox })
      .then((launched) => {
        // A crashed or killed browser is replaced on the next use, not mid-run.
        launched.on("disconnected", () => {
          if (launching === attempt) launching = undefined;
        });
        if (closed) {
          void launched.close();
          throw new BrowserError("the browser was closed");
        }
        return launched;
      })
      .catch((cause: unknown) => {
        if (launching === attempt) launching = undefined;
        if (cause instanceof BrowserError) throw cause;
        throw new BrowserError(`could not start Chromium at ${executablePath}: ${describeError(cause)}`, { cause, isRetryable: true });
      });
    launching = attempt;
    return attempt;
  }

  /** The warm browser; concurrent first callers share one launch. */
  async function browser(): Promise<PlaywrightBrowser> {
    for (;;) {
      if (closed) throw new BrowserError("the browser was closed");
      const current = launching ?? launch();
      const launched = await current;
      if (launched.isConnected()) return launched;
      if (launching === current) launching = undefined;
    }
  }

  async function routeOutside(route: Route, request: Request, emit: (event: PageEvent) => void, ownOrigins: ReadonlySet<string>): Promise<void> {
    const url = request.url();
    try {
      // CDN requests never leave (the mirror answers), and blocked outside ones need no lookup.
      const decidedElsewhere = (mirror?.handles(url) ?? false) || (blockOutside && outsideUrl.test(url));
      if (!allowPrivate && !decidedElsewhere && (await isForbiddenPrivate(url, ownOrigins))) {
        emit({ type: "request-routed", url, outcome: "blocked", detail: "private, loopback and link-local addresses are refused during verification" });
        await route.abort("blockedbyclient");
        return;
      }
      if (!outsideUrl.test(url)) {
        await route.continue();
        return;
      }
      if (mirror?.handles(url)) {
        if (request.method() === "OPTIONS") {
          await route.fulfill({ status: 204, headers: { "access-control-allow-origin": "*", "access-control-allow-headers": "*", "access-control-allow-methods": "GET, HEAD, OPTIONS" } });
          return;
        }
        const answer = await mirror.resolve(url);
        if (answer) {
          const passOn = (answer.outcome === "unsupported" || answer.outcome === "unavailable") && !blockOutside;
          if (passOn) {
            emit({ type: "request-routed", url, outcome: "continued", detail: answer.reason });
            await route.continue();
            return;
          }
          emit({ type: "request-routed", url, outcome: answer.outcome === "served" ? "mirrored" : "mirror-missing", status: answer.status, detail: answer.reason ?? answer.source });
          await route.fulfill({
            status: answer.status,
            contentType: answer.contentType,
            body: answer.body,
            // CORS lets `crossorigin` + `integrity` tags load the file exactly as from the CDN.
            headers: { "access-control-allow-origin": "*", "cache-control": "public, max-age=31536000" },
          });
          return;
        }
      }
      if (blockOutside) {
        emit({ type: "request-routed", url, outcome: "blocked", detail: "outside requests are blocked during verification" });
        await route.abort("blockedbyclient");
        return;
      }
      emit({ type: "request-routed", url, outcome: "continued" });
      await route.continue();
    } catch (error) {
      // The page may have gone away meanwhile; a route that cannot be answered is moot then.
      if (!isClosedError(error)) {
        emit({ type: "request-routed", url, outcome: "mirror-missing", status: 502, detail: describeError(error) });
        await route.abort("failed").catch(() => undefined);
      }
    }
  }

  function wrapPage(page: Page, listeners: Set<(event: PageEvent) => void>, ownOrigins: Set<string>): BrowserPage {
    const emit = (event: PageEvent) => {
      for (const listener of listeners) listener(event);
    };
    const inFlight = new Set<Request>();
    let lastActivity = Date.now();
    const settle = (request: Request) => {
      inFlight.delete(request);
      lastActivity = Date.now();
    };

    let crashed = false;
    page.on("crash", () => {
      crashed = true;
      emit({ type: "page-error", message: "the page crashed (its renderer process died, e.g. out of memory)" });
    });
    page.on("pageerror", (error) => emit({ type: "page-error", message: error.message || String(error), stack: error.stack }));
    page.on("console", (message) => {
      const location = message.location();
      emit({ type: "console", level: message.type(), text: message.text(), location: location.url ? `${location.url}:${location.lineNumber + 1}` : undefined });
    });
    page.on("request", (request) => {
      inFlight.add(request);
      lastActivity = Date.now();
      emit({ type: "request", url: request.url(), method: request.method(), resourceType: request.resourceType() });
    });
    page.on("response", (response) => {
      const request = response.request();
      emit({ type: "response", url: response.url(), method: request.method(), status: response.status(), resourceType: request.resourceType() });
    });
    page.on("requestfinished", settle);
    page.on("requestfailed", (request) => {
      settle(request);
      emit({ type: "request-failed", url: request.url(), method: request.method(), resourceType: request.resourceType(), reason: request.failure()?.errorText ?? "failed" });
    });

    return {
      onEvent(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },

      async goto(url, { timeoutMs }): Promise<NavigationResult> {
        const started = Date.now();
        // The page's own server (candidate server, Pages host) is the one local address it may use.
        try {
          ownOrigins.add(new URL(url).origin);
        } catch {
          // Not a URL: page.goto below says so.
        }
        let response;
        try {
          response = await page.goto(url, { waitUntil: "commit", timeout: timeoutMs });
        } catch (cause) {
          if (isClosedError(cause)) throw new BrowserError("the page was closed during navigation", { cause, isRetryable: true });
          throw new NavigationError(url, pageMessage(cause), { cause });
        }
        let loadTimedOut = false;
        try {
          await page.waitForLoadState("load", { timeout: Math.max(1, timeoutMs - (Date.now() - started)) });
        } catch (cause) {
          if (isClosedError(cause)) throw new BrowserError("the page was closed during navigation", { cause, isRetryable: true });
          loadTimedOut = true;
        }
        return { status: response?.status(), url: page.url(), loadTimedOut };
      },

      async waitForNetworkIdle({ quietMs, timeoutMs }) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const now = Date.now();
          if (inFlight.size === 0 && now - lastActivity >= quietMs) return true;
          if (now >= deadline) return false;
          const wait = inFlight.size === 0 ? quietMs - (now - lastActivity) : 10;
          await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(wait, deadline - now))));
        }
      },

      async evaluate(source, options = {}) {
        if (crashed) throw new PageEvaluationError("the page crashed", { permanent: true });
        let timer: NodeJS.Timeout | undefined;
        const evaluation = page.evaluate(source);
        try {
          if (options.timeoutMs === undefined) return await evaluation;
          const timeoutMs = options.timeoutMs;
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new PageEvaluationError(`evaluation did not finish within ${Math.round(timeoutMs)} ms (is the page busy in an endless loop?)`, { timedOut: true })),
              timeoutMs,
            );
          });
          return await Promise.race([evaluation, timeout]);
        } catch (cause) {
          // The losing evaluation may still reject later; nobody listens to it any more.
          evaluation.catch(() => undefined);
          if (cause instanceof PageEvaluationError) throw cause;
          if (crashed || /Target crashed/i.test(describeError(cause))) throw new PageEvaluationError("the page crashed", { cause, permanent: true });
          if (isClosedError(cause)) throw new BrowserError("the page was closed during evaluation", { cause, isRetryable: true });
          throw new PageEvaluationError(pageMessage(cause), { cause });
        } finally {
          if (timer) clearTimeout(timer);
        }
      },
    };
  }

  interface Session {
    readonly context: BrowserContext;
    readonly page: Page;
    readonly listeners: Set<(event: PageEvent) => void>;
    /** Origins navigated to by the verifier itself, reachable whatever their address. */
    readonly ownOrigins: Set<string>;
  }

  /** A fresh context with its routes and one blank page, ready for a run. */
  async function openSession(): Promise<Session> {
    const current = await browser();
    let context: BrowserContext;
    try {
      context = await current.newContext({
        viewport: { width: 1280, height: 800 },
        // A service worker could serve a stale candidate or fetch past our routes.
        serviceWorkers: "block",
      });
    } catch (cause) {
      throw new BrowserError(`could not open a browser context: ${describeError(cause)}`, { cause, isRetryable: true });
    }
    contexts.add(context);
    try {
      const listeners = new Set<(event: PageEvent) => void>();
      const emit = (event: PageEvent) => {
        for (const listener of listeners) listener(event);
      };
      const ownOrigins = new Set<string>();
      await context.route(allowPrivate ? outsideUrl : anyUrl, (route, request) => routeOutside(route, request, emit, ownOrigins));
      if (!allowPrivate) {
        await context.routeWebSocket(anyUrl, async (socket) => {
          const url = socket.url();
          const privateRefused = !(blockOutside && outsideUrl.test(url)) && (await isForbiddenPrivate(url, ownOrigins));
          if (privateRefused || (blockOutside && outsideUrl.test(url))) {
            const detail = privateRefused ? "private, loopback and link-local addresses are refused during verification" : "outside WebSockets are blocked during verification";
            emit({ type: "request-routed", url, outcome: "blocked", detail });
            void socket.close({ code: 1008, reason: "blocked during verification" });
            return;
          }
          socket.connectToServer();
        });
      } else if (blockOutside) {
        await context.routeWebSocket(outsideUrl, (socket) => {
          emit({ type: "request-routed", url: socket.url(), outcome: "blocked", detail: "outside WebSockets are blocked during verification" });
          void socket.close({ code: 1008, reason: "blocked during verification" });
        });
      }
      const page = await context.newPage();
      return { context, page, listeners, ownOrigins };
    } catch (cause) {
      contexts.delete(context);
      await context.close().catch(() => undefined);
      throw new BrowserError(`could not open a page: ${describeError(cause)}`, { cause, isRetryable: true });
    }
  }

  // Starting a page's renderer is most of a run's fixed cost (~100–300 ms); one unused session
  // is kept ready so the next run skips it. It has never loaded anything, so it is still fresh.
  let spare: Promise<Session | undefined> | undefined;

  function warmSpare(): void {
    if (!prewarm || closed || spare || launching === undefined) return;
    spare = openSession().catch(() => undefined);
  }

  async function takeSession(): Promise<Session> {
    const ready = spare;
    spare = undefined;
    const session = ready ? await ready : undefined;
    if (session && !session.page.isClosed() && session.context.browser()?.isConnected()) return session;
    if (session) {
      contexts.delete(session.context);
      void session.context.close().catch(() => undefined);
    }
    return openSession();
  }

  return {
    kind: "chromium",
    capabilities: { mirrorsCdn: mirror !== undefined, blocksOutsideRequests: blockOutside },

    async withPage(fn, options: PageSessionOptions = {}) {
      const { signal } = options;
      const release = await slots.acquire(signal, options.queueTimeoutMs);
      let session: Session | undefined;
      const onAbort = () => void session?.context.close().catch(() => undefined);
      try {
        signal?.throwIfAborted();
        session = await takeSession();
        signal?.addEventListener("abort", onAbort, { once: true });
        if (options.viewport) await session.page.setViewportSize(options.viewport);
        const result = await fn(wrapPage(session.page, session.listeners, session.ownOrigins));
        signal?.throwIfAborted();
        return result;
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        throw error;
      } finally {
        signal?.removeEventListener("abort", onAbort);
        // The caller has its answer; closing this context and warming the next run's page
        // happen off its clock. Warming only now, not during the run, keeps the two from
        // competing for two cores (measured: the run's checks went from ~20 to ~100 ms).
        // The slot stays taken until the context is really gone.
        warmSpare();
        const finished = session;
        void (async () => {
          if (finished) {
            await finished.context.close().catch(() => undefined);
            contexts.delete(finished.context);
          }
          release();
        })();
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      const current = launching;
      launching = undefined;
      const pendingSpare = spare;
      spare = undefined;
      await pendingSpare?.then((unused) => unused?.context.close()).catch(() => undefined);
      await Promise.all([...contexts].map((context) => context.close().catch(() => undefined)));
      if (current) {
        const launched = await current.catch(() => undefined);
        await launched?.close().catch(() => undefined);
      }
    },
  };
}
