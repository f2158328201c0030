import { performance } from "node:perf_hooks";
import { Script } from "node:vm";
import { describeError } from "../domain/errors.ts";
import { BrowserError, NavigationError, PageEvaluationError, type Browser, type BrowserPage, type PageEvent, type RouteOutcome } from "../ports/browser.ts";

/** One JavaScript check, already stripped of its `js:` prefix or `{js}` wrapper. */
export interface JsCheck {
  readonly id: string;
  readonly expression: string;
  /** Overrides the run's `checkTimeoutMs` for this check. */
  readonly timeoutMs?: number;
}

export interface CheckRunOptions {
  /** How long each check may take to become truthy, counted from when polling starts (default 10 s). */
  readonly checkTimeoutMs?: number;
  /** Cap on the whole run: load, settle and every check (default 60 s). */
  readonly overallTimeoutMs?: number;
  /** Cap on reaching the `load` event (default 15 s). */
  readonly loadTimeoutMs?: number;
  /**
   * No request in flight for this long counts as "the page's fetches settled" (default 50 ms).
   * Short on purpose: it only has to bridge one fetch's response to the next fetch it triggers;
   * later changes are caught by polling, so a long window would only add to every run.
   */
  readonly settleQuietMs?: number;
  /** Cap on waiting for the network to settle (default 5 s). */
  readonly settleTimeoutMs?: number;
  /** Pause between two evaluations of a check that is not true yet (default 100 ms). */
  readonly pollIntervalMs?: number;
  readonly signal?: AbortSignal;
}

export interface CheckResult {
  readonly id: string;
  readonly passed: boolean;
  /** From the start of polling to the verdict. */
  readonly durationMs: number;
  /** How many times the expression was evaluated. */
  readonly attempts: number;
  /** For a failure: the page's last error text, or why the value never became truthy. */
  readonly error?: string;
  /** A short rendering of the last value the expression produced. */
  readonly valuePreview?: string;
}

export interface FailedRequest {
  readonly url: string;
  readonly method: string;
  /** HTTP status when there was a response (4xx/5xx). */
  readonly status?: number;
  /** The browser's error text and, when the verifier routed the request, why. */
  readonly reason: string;
}

export interface RoutedRequest {
  readonly url: string;
  readonly outcome: RouteOutcome;
  readonly detail?: string;
}

/** Everything one page load and its checks produced; the repair prompt is built from this. */
export interface PageCheckReport {
  readonly url: string;
  /** Every check passed, the document loaded, and nothing was thrown uncaught. */
  readonly passed: boolean;
  /** Why no usable document was obtained (navigation failure, error status). */
  readonly loadError?: string;
  readonly httpStatus?: number;
  /** The `load` event had not fired within its cap (checks still ran). */
  readonly loadTimedOut: boolean;
  /** The network went quiet before the settle cap. */
  readonly networkSettled: boolean;
  /** Uncaught exceptions and unhandled rejections, by message. */
  readonly pageErrors: readonly string[];
  readonly consoleErrors: readonly string[];
  readonly failedRequests: readonly FailedRequest[];
  /** Requests the browser answered or refused itself (CDN mirror, blocked). */
  readonly routedRequests: readonly RoutedRequest[];
  /** The body's HTML after the checks, whitespace collapsed, script bodies elided, ≤ 4 KB. */
  readonly domExcerpt: string;
  readonly checks: readonly CheckResult[];
  readonly durationMs: number;
  /** Where the time went, in ms: getting a page, loading, settling, checks, DOM excerpt. */
  readonly timings: { readonly pageMs: number; readonly loadMs: number; readonly settleMs: number; readonly checksMs: number; readonly excerptMs: number };
}

export interface CheckRunner {
  /**
   * Loads `url` in a fresh page, waits for its fetches to settle, then polls every check
   * concurrently until truthy or timed out. Rejects only when the browser itself fails
   * (BrowserError) or `signal` aborts; everything the page does wrong is in the report.
   */
  run(url: string, checks: readonly JsCheck[], options?: CheckRunOptions): Promise<PageCheckReport>;
}

const maxListEntries = 50;
const maxEntryLength = 500;
const maxDomExcerptBytes = 4096;
const maxPreviewLength = 200;
// An evaluation gets at least this long even when its check's time is nearly up, so a slow but
// healthy page is not failed by a race between the timer and the answer.
const minimumEvaluationMs = 250;

const previewFunction = `(value) => {
  try {
    if (value === undefined) return "undefined";
    if (value === null) return "null";
    if (typeof value === "string") return JSON.stringify(value.length > 160 ? value.slice(0, 160) + "…" : value);
    if (typeof value === "function") return "function " + (value.name || "(anonymous)");
    if (typeof value !== "object") return String(value);
    if (typeof Element !== "undefined" && value instanceof Element) {
      return "<" + value.tagName.toLowerCase() + (value.id ? "#" + value.id : "") + ">";
    }
    if ((typeof NodeList !== "undefined" && value instanceof NodeList) || (typeof HTMLCollection !== "undefined" && value instanceof HTMLCollection)) {
      return value.constructor.name + "(" + value.length + ")";
    }
    const json = JSON.stringify(value);
    return json === undefined ? Object.prototype.toString.call(value) : json.slice(0, 160);
  } catch {
    return Object.prototype.toString.call(value);
  }
}`;

function parses(source: string): boolean {
  try {
    // Compiling never runs anything; it only tells us which wrapping the text fits.
    new Script(source);
    return true;
  } catch {
    return false;
  }
}

/**
 * Turns a check expression into the source evaluated in the page.
 *
 * `expression` mode (the normal case): the text becomes the body of an async arrow, so `await`
 * works, IIFEs and template literals pass untouched, a function result is called and a promise
 * awaited (as Playwright's `page.evaluate(string)` does), and truthiness plus a preview are
 * computed in the page, where DOM values still exist. The newlines around the text keep a
 * trailing `// comment` from swallowing the wrapper.
 *
 * `script` mode: text that is not one expression (`const x = …; x > 1`) is run as a block, whose
 * completion value is the verdict; the block keeps its declarations from clashing between polls.
 */
export function prepareCheckSource(expression: string): { mode: "expression" | "script"; source: string } {
  const text = expression.trim();
  const asExpression = `(async () => {\n  const __briefwrightPreview = ${previewFunction};\n  let __briefwrightValue = (\n${text}\n);\n  if (typeof __briefwrightValue === "function") __briefwrightValue = __briefwrightValue();\n  __briefwrightValue = await __briefwrightValue;\n  return { truthy: !!__briefwrightValue, preview: __briefwrightPreview(__briefwrightValue) };\n})()`;
  if (parses(`(async () => (\n${text}\n))`)) return { mode: "expression", source: asExpression };
  if (parses(`{\n${text}\n}`)) return { mode: "script", source: `{\n${text}\n}` };
  // Node's parser may lag the browser's; let the page have the last word (a SyntaxError fails fast).
  return { mode: "expression", source: asExpression };
}

function clip(text: string, length = maxEntryLength): string {
  const flat = text.trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

function previewInNode(value: unknown): string {
  if (value === undefined) return "undefined";
  try {
    return clip(JSON.stringify(value) ?? String(value), maxPreviewLength);
  } catch {
    return clip(String(value), maxPreviewLength);
  }
}

function clipBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let end = Math.min(text.length, maxBytes);
  while (end > 0 && Buffer.byteLength(text.slice(0, end)) > maxBytes - 3) end--;
  return `${text.slice(0, end)}…`;
}

const domExcerptSource = `(() => {
  const root = document.body || document.documentElement;
  if (!root) return "";
  const clone = root.cloneNode(true);
  for (const element of clone.querySelectorAll("script, style")) {
    if (element.textContent && element.textContent.trim() !== "") element.textContent = "…";
  }
  return clone.outerHTML.replace(/\\s+/g, " ").trim();
})()`;

function isSyntaxError(message: string): boolean {
  return /^SyntaxError\b/.test(message);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Creates a runner over any Browser port adapter; `defaults` fill options a run leaves out. */
export function createCheckRunner(browser: Browser, defaults: CheckRunOptions = {}): CheckRunner {
  return {
    async run(url, checks, runOptions = {}) {
      const options = { ...defaults, ...runOptions };
      const checkTimeoutMs = options.checkTimeoutMs ?? 10_000;
      const overallTimeoutMs = options.overallTimeoutMs ?? 60_000;
      const loadTimeoutMs = options.loadTimeoutMs ?? 15_000;
      const settleQuietMs = options.settleQuietMs ?? 50;
      const settleTimeoutMs = options.settleTimeoutMs ?? 5_000;
      const pollIntervalMs = options.pollIntervalMs ?? 100;
      const { signal } = options;
      const started = performance.now();
      const overallDeadline = started + overallTimeoutMs;
      const remaining = () => Math.max(0, overallDeadline - performance.now());

      return browser.withPage(async (page) => {
        const marks = [performance.now()];
        const pageErrors: string[] = [];
        const consoleErrors: string[] = [];
        const failedRequests: FailedRequest[] = [];
        const routedRequests: RoutedRequest[] = [];
        const routeDetails = new Map<string, string>();
        const answeredWithError = new Set<string>();
        const push = <T>(list: T[], entry: T) => {
          if (list.length < maxListEntries) list.push(entry);
        };
        // A failing timer or retry loop repeats one message many times; once, with a count, says more.
        const repeats = new Map<string, number>();
        const pushMessage = (list: string[], message: string) => {
          const key = `${list === pageErrors ? "p" : "c"}:${message}`;
          const seen = repeats.get(key) ?? 0;
          repeats.set(key, seen + 1);
          if (seen === 0) return push(list, message);
          const index = list.findIndex((entry) => entry === message || entry.startsWith(`${message} (×`));
          if (index !== -1) list[index] = `${message} (×${seen + 1})`;
        };
        page.onEvent((event: PageEvent) => {
          switch (event.type) {
            case "page-error":
              pushMessage(pageErrors, clip(event.message));
              break;
            case "console":
              if (event.level === "error") pushMessage(consoleErrors, clip(event.text));
              break;
            case "request-routed":
              push(routedRequests, { url: event.url, outcome: event.outcome, detail: event.detail });
              if (event.outcome !== "mirrored" && event.outcome !== "continued" && event.detail) routeDetails.set(event.url, event.detail);
              break;
            case "request-failed": {
              // Chromium aborts a script or style it got an error page for; the HTTP status already said it.
              if (event.reason === "net::ERR_ABORTED" && answeredWithError.has(event.url)) break;
              const detail = routeDetails.get(event.url);
              push(failedRequests, { url: event.url, method: event.method, reason: clip(detail ? `${event.reason} (${detail})` : event.reason) });
              break;
            }
            case "response":
              if (event.status >= 400) {
                answeredWithError.add(event.url);
                const detail = routeDetails.get(event.url);
                push(failedRequests, { url: event.url, method: event.method, status: event.status, reason: clip(`HTTP ${event.status}${detail ? ` (${detail})` : ""}`) });
              }
              break;
            default:
              break;
          }
        });

        let loadError: string | undefined;
        let httpStatus: number | undefined;
        let loadTimedOut = false;
        let networkSettled = false;
        let documentUsable = true;
        try {
          const navigation = await page.goto(url, { timeoutMs: Math.min(loadTimeoutMs, remaining()) });
          httpStatus = navigation.status;
          loadTimedOut = navigation.loadTimedOut;
          if (httpStatus !== undefined && httpStatus >= 400) loadError = `the page answered HTTP ${httpStatus}`;
        } catch (error) {
          if (!(error instanceof NavigationError)) throw error;
          loadError = error.message;
          documentUsable = false;
        }
        marks.push(performance.now());
        if (documentUsable) {
          networkSettled = await page.waitForNetworkIdle({ quietMs: settleQuietMs, timeoutMs: Math.min(settleTimeoutMs, remaining()) });
        }

        marks.push(performance.now());
        const results = await Promise.all(
          checks.map((check) =>
            documentUsable
              ? pollCheck(page, check, {
                  // An error page will not turn into the app; one look is enough to report it.
                  timeoutMs: loadError ? 0 : (check.timeoutMs ?? checkTimeoutMs),
                  overallDeadline,
                  pollIntervalMs,
                  signal,
                })
              : Promise.resolve<CheckResult>({ id: check.id, passed: false, durationMs: 0, attempts: 0, error: `the page did not load: ${loadError}` }),
          ),
        );
        signal?.throwIfAborted();
        marks.push(performance.now());

        let domExcerpt = "";
        if (documentUsable) {
          try {
            const html = await page.evaluate(domExcerptSource, { timeoutMs: 2_000 });
            domExcerpt = typeof html === "string" ? clipBytes(html, maxDomExcerptBytes) : "";
          } catch (error) {
            if (error instanceof BrowserError) throw error;
            domExcerpt = "";
          }
        }

        return {
          url,
          passed: loadError === undefined && pageErrors.length === 0 && results.every((result) => result.passed),
          ...(loadError === undefined ? {} : { loadError }),
          ...(httpStatus === undefined ? {} : { httpStatus }),
          loadTimedOut,
          networkSettled,
          pageErrors,
          consoleErrors,
          failedRequests,
          routedRequests,
          domExcerpt,
          checks: results,
          durationMs: Math.round(performance.now() - started),
          timings: {
            pageMs: Math.round(marks[0]! - started),
            loadMs: Math.round(marks[1]! - marks[0]!),
            settleMs: Math.round(marks[2]! - marks[1]!),
            checksMs: Math.round(marks[3]! - marks[2]!),
            excerptMs: Math.round(performance.now() - marks[3]!),
          },
        };
      }, { signal });
    },
  };
}

async function pollCheck(
  page: BrowserPage,
  check: JsCheck,
  limits: { timeoutMs: number; overallDeadline: number; pollIntervalMs: number; signal?: AbortSignal },
): Promise<CheckResult> {
  const { mode, source } = prepareCheckSource(check.expression);
  const started = performance.now();
  const deadline = Math.min(started + limits.timeoutMs, limits.overallDeadline);
  let attempts = 0;
  let lastError: string | undefined;
  let lastPreview: string | undefined;
  const finish = (passed: boolean, error?: string): CheckResult => ({
    id: check.id,
    passed,
    durationMs: Math.round(performance.now() - started),
    attempts,
    ...(error === undefined ? {} : { error }),
    ...(lastPreview === undefined ? {} : { valuePreview: lastPreview }),
  });

  for (;;) {
    attempts++;
    try {
      const value = await page.evaluate(source, { timeoutMs: Math.max(minimumEvaluationMs, deadline - performance.now()) });
      let truthy: boolean;
      if (mode === "expression" && typeof value === "object" && value !== null && "truthy" in value) {
        const outcome = value as { truthy: unknown; preview?: unknown };
        truthy = outcome.truthy === true;
        lastPreview = clip(String(outcome.preview ?? ""), maxPreviewLength);
      } else {
        truthy = Boolean(value);
        lastPreview = previewInNode(value);
      }
      if (truthy) return finish(true);
      lastError = undefined;
    } catch (error) {
      // A dead page cannot answer any check; let the caller see the browser failure.
      if (error instanceof BrowserError) throw error;
      lastError = clip(error instanceof PageEvaluationError ? error.pageMessage : describeError(error));
      // Not a "not yet": broken text stays broken, a crashed page stays crashed.
      if ((error instanceof PageEvaluationError && error.permanent) || isSyntaxError(lastError)) return finish(false, lastError);
    }
    const left = deadline - performance.now();
    if (left <= 0 || limits.signal?.aborted) break;
    await sleep(Math.min(limits.pollIntervalMs, left), limits.signal);
  }
  const waited = Math.round(performance.now() - started);
  return finish(false, lastError ?? `still falsy after ${waited} ms (last value: ${lastPreview ?? "undefined"})`);
}
