/**
 * One base for every error briefwright raises on purpose. Only the API layer maps these to HTTP
 * status codes; everything below it speaks in codes and `isRetryable`.
 */
export class BriefwrightError extends Error {
  /** Stable machine-readable name, e.g. `validation-failed`. */
  readonly code: string;
  /** Whether trying the same thing again later may succeed. */
  readonly isRetryable: boolean;

  constructor(code: string, message: string, options: { cause?: unknown; isRetryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.isRetryable = options.isRetryable ?? false;
  }
}

/** A configuration value is missing or malformed; the message names the environment variable. */
export class ConfigError extends BriefwrightError {
  readonly variable: string;
  constructor(variable: string, message: string, options: { cause?: unknown } = {}) {
    super("config-invalid", `${variable}: ${message}`, options);
    this.variable = variable;
  }
}

/** The command line named an unknown command or option, or a bad option value. */
export class CliUsageError extends BriefwrightError {
  /** The usage text of the command it concerns, printed after the message. */
  readonly usage: string;
  constructor(message: string, usage: string, options: { cause?: unknown } = {}) {
    super("cli-usage", message, options);
    this.usage = usage;
  }
}

/** Input from outside (a request, a file from the model) broke a rule; `issues` lists each break. */
export class ValidationError extends BriefwrightError {
  readonly issues: readonly ValidationIssue[];
  constructor(issues: readonly ValidationIssue[], options: { cause?: unknown } = {}) {
    super("validation-failed", issues.map((i) => `${i.path}: ${i.message}`).join("; "), options);
    this.issues = issues;
  }
}

export interface ValidationIssue {
  /** Dotted path of the offending field, e.g. `attachments.0.url`. */
  readonly path: string;
  readonly message: string;
}

/** The caller's secret does not match. */
export class AuthenticationError extends BriefwrightError {
  constructor() {
    super("secret-mismatch", "secret does not match");
  }
}

/** A read of the API came without the API key, or with a wrong one. */
export class ApiKeyError extends BriefwrightError {
  constructor() {
    super("api-key-required", "this endpoint needs the API key (X-API-Key or Authorization: Bearer)");
  }
}

/** The same task, round and nonce came again with a different body: not a retry, so not answered as one. */
export class RoundConflictError extends BriefwrightError {
  constructor(what: string) {
    super("round-conflict", `${what} was already accepted with a different body; send a new nonce for a new request`);
  }
}

/** An attachment could not be decoded or named safely. */
export class AttachmentError extends BriefwrightError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("attachment-invalid", message, options);
  }
}

/** An outbound URL was refused (scheme, private address, size, time). */
export class OutboundUrlError extends BriefwrightError {
  constructor(message: string, options: { cause?: unknown; isRetryable?: boolean } = {}) {
    super("outbound-url-refused", message, options);
  }
}

/** A call to a language model failed. */
export class LanguageModelError extends BriefwrightError {
  readonly provider: string;
  readonly statusCode: number | undefined;
  /** How long the provider asked us to wait (its `Retry-After`), for the resilience policy to honour. */
  readonly retryAfterMs: number | undefined;
  constructor(
    provider: string,
    message: string,
    options: { cause?: unknown; isRetryable?: boolean; statusCode?: number; code?: string; retryAfterMs?: number } = {},
  ) {
    super(options.code ?? "llm-call-failed", `${provider}: ${message}`, options);
    this.provider = provider;
    this.statusCode = options.statusCode;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** A provider's circuit is open: it failed too often and is skipped until its cool-down ends. */
export class CircuitOpenError extends LanguageModelError {
  constructor(provider: string, remainingMs: number, options: { cause?: unknown } = {}) {
    super(provider, `skipped: circuit open after repeated failures (${Math.ceil(remainingMs / 1000)} s of cool-down left)`, {
      ...options,
      code: "llm-circuit-open",
      isRetryable: true,
      retryAfterMs: remainingMs,
    });
  }
}

/**
 * Every provider of a fallback chain failed (or was skipped). `errors` holds each provider's
 * last error in chain order; retryable when any of them is.
 */
export class AllProvidersFailedError extends LanguageModelError {
  readonly errors: readonly LanguageModelError[];
  constructor(chain: string, errors: readonly LanguageModelError[]) {
    super(chain, `every provider failed: ${errors.map((e) => e.message).join("; ")}`, {
      code: "llm-all-failed",
      isRetryable: errors.some((e) => e.isRetryable),
      cause: new AggregateError(errors, "every provider failed"),
    });
    this.errors = errors;
  }
}

/** The model answered, but not with files we can use. */
export class GenerationParseError extends BriefwrightError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("generation-unparseable", message, { ...options, isRetryable: true });
  }
}

/** A forge operation (repository, commit, Pages) failed. */
export class ForgeError extends BriefwrightError {
  constructor(message: string, options: { cause?: unknown; isRetryable?: boolean; code?: string } = {}) {
    super(options.code ?? "forge-failed", message, options);
  }
}

/** The store could not read or write. */
export class StoreError extends BriefwrightError {
  constructor(message: string, options: { cause?: unknown; isRetryable?: boolean } = {}) {
    super("store-failed", message, options);
  }
}

/** A thing that was asked for does not exist. */
export class NotFoundError extends BriefwrightError {
  constructor(what: string) {
    super("not-found", `${what} not found`);
  }
}

/** The report could not be delivered before the round's deadline. */
export class ReportDeliveryError extends BriefwrightError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("report-undelivered", message, options);
  }
}

/** The round's time budget ran out. */
export class DeadlineExceededError extends BriefwrightError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("deadline-exceeded", message, options);
  }
}

/** Gives a message for anything thrown, without assuming it is an Error. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
