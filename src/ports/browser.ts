import { BriefwrightError } from "../domain/errors.ts";

/**
 * The browser port, version 1: isolated pages in a headless browser, for running an app's checks
 * before it is deployed. Adapters: one warm Chromium through playwright-core. The check runner
 * depends on this interface only, so it can be exercised against any engine that can load a URL,
 * report what the page did and evaluate a script in it.
 *
 * Every page a caller gets is fresh: no cookies, storage, cache or service workers survive from
 * one `withPage` call to the next.
 */
export interface Browser {
  /** Adapter name for records, e.g. `chromium`. */
  readonly kind: string;

  /** What this adapter does with requests leaving the machine; checked instead of `kind`. */
  readonly capabilities: BrowserCapabilities;

  /**
   * Runs `fn` with a fresh, isolated page and disposes of the page (and everything it opened)
   * when `fn` settles, whatever the outcome. Calls beyond the adapter's concurrency bound wait
   * for a free slot. Starts the browser on first use and again if it went away.
   *
   * Rejects with BrowserError when the browser cannot be started or dies mid-run (retryable),
   * or when the browser was closed (not retryable); with `signal.reason` when aborted; otherwise
   * with whatever `fn` rejects with.
   */
  withPage<T>(fn: (page: BrowserPage) => Promise<T>, options?: PageSessionOptions): Promise<T>;

  /** Closes the browser and refuses further `withPage` calls. Idempotent. */
  close(): Promise<void>;
}

export interface BrowserCapabilities {
  /** Requests to known public CDNs are answered locally (from the npm packages), not sent out. */
  readonly mirrorsCdn: boolean;
  /** Requests to hosts other than this machine are refused instead of being sent. */
  readonly blocksOutsideRequests: boolean;
}

export interface PageSessionOptions {
  /** Aborting closes the page at once; pending calls on it reject. */
  readonly signal?: AbortSignal;
  /** Longest wait for a free slot in the adapter's pool, in ms (default: no limit). */
  readonly queueTimeoutMs?: number;
  /** Viewport in CSS pixels (default 1280×800). */
  readonly viewport?: { readonly width: number; readonly height: number };
}

/** One fresh page. Valid only inside the `withPage` callback that received it. */
export interface BrowserPage {
  /**
   * Subscribes to what the page does. Subscribe before `goto` to see everything from the first
   * request on. Returns the unsubscribe function.
   */
  onEvent(listener: (event: PageEvent) => void): () => void;

  /**
   * Navigates and waits for the `load` event, at most `timeoutMs` in total. A load that does not
   * finish in time is not an error (`loadTimedOut: true`): the document is there and checks may
   * still pass. Rejects with NavigationError when no document could be obtained at all
   * (connection refused, DNS failure, blocked, or not even a response within the time).
   */
  goto(url: string, options: { readonly timeoutMs: number }): Promise<NavigationResult>;

  /**
   * Waits until the page has had no request in flight for `quietMs`, or `timeoutMs` passed.
   * Resolves `true` if the network went quiet, `false` on the time cap (never rejects for time).
   */
  waitForNetworkIdle(options: { readonly quietMs: number; readonly timeoutMs: number }): Promise<boolean>;

  /**
   * Evaluates JavaScript source in the page's main frame, like the evaluator's
   * `page.evaluate(string)`: a promise result is awaited, a function result is called. Resolves
   * with the JSON-compatible value (DOM nodes and other unserialisable values come back lossy).
   * Rejects with PageEvaluationError carrying the page's own error text (for example
   * `TypeError: Cannot read properties of null`) or a time-out after `timeoutMs`.
   */
  evaluate(source: string, options?: { readonly timeoutMs?: number }): Promise<unknown>;
}

export interface NavigationResult {
  /** HTTP status of the main document, when there was a response. */
  readonly status: number | undefined;
  /** The URL the page ended on (after redirects). */
  readonly url: string;
  /** The `load` event had not fired when the time ran out. */
  readonly loadTimedOut: boolean;
}

/** What a page did, in the order it happened. */
export type PageEvent =
  /** An exception nobody caught (including an unhandled promise rejection). */
  | { readonly type: "page-error"; readonly message: string; readonly stack?: string }
  /** A console message; `level` is the console method (`error`, `warning`, `log` …). */
  | { readonly type: "console"; readonly level: string; readonly text: string; readonly location?: string }
  /** A request started. */
  | { readonly type: "request"; readonly url: string; readonly method: string; readonly resourceType: string }
  /** A response arrived (any status). */
  | { readonly type: "response"; readonly url: string; readonly method: string; readonly status: number; readonly resourceType: string }
  /** A request got no response (network error, aborted, blocked). */
  | { readonly type: "request-failed"; readonly url: string; readonly method: string; readonly resourceType: string; readonly reason: string }
  /** The adapter decided a request's fate itself instead of sending it as-is. */
  | {
      readonly type: "request-routed";
      readonly url: string;
      readonly outcome: RouteOutcome;
      /** Status given to the page, when the adapter answered. */
      readonly status?: number;
      /** Why, in words (e.g. `bootstrap@9.9.9 does not exist on npm`). */
      readonly detail?: string;
    };

/**
 * `mirrored`: answered from the CDN mirror. `mirror-missing`: a CDN URL the mirror could not
 * serve (answered with an error status). `blocked`: an outside request refused. `continued`: an
 * outside request sent on because outside requests are allowed.
 */
export type RouteOutcome = "mirrored" | "mirror-missing" | "blocked" | "continued";

/** The browser could not be started, died, or was closed. */
export class BrowserError extends BriefwrightError {
  constructor(message: string, options: { cause?: unknown; isRetryable?: boolean } = {}) {
    super("browser-failed", message, options);
  }
}

/** Navigation produced no document. `reason` is the browser's text, e.g. `net::ERR_CONNECTION_REFUSED`. */
export class NavigationError extends BriefwrightError {
  readonly url: string;
  constructor(url: string, message: string, options: { cause?: unknown } = {}) {
    super("page-navigation-failed", `${url}: ${message}`, options);
    this.url = url;
  }
}

/**
 * A script evaluated in the page threw, or did not settle in time. `pageMessage` is the page's own
 * text. `permanent`: asking again cannot help (the page crashed, the source does not parse).
 */
export class PageEvaluationError extends BriefwrightError {
  readonly pageMessage: string;
  readonly timedOut: boolean;
  readonly permanent: boolean;
  constructor(pageMessage: string, options: { cause?: unknown; timedOut?: boolean; permanent?: boolean } = {}) {
    super("page-evaluation-failed", pageMessage, options);
    this.pageMessage = pageMessage;
    this.timedOut = options.timedOut ?? false;
    this.permanent = options.permanent ?? /^SyntaxError\b/.test(pageMessage);
  }
}
