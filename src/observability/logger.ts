import pino, { type DestinationStream, type Logger } from "pino";

/** The process logger: JSON lines on stdout (or `destination`). Nothing secret is ever passed to it. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: "briefwright" },
    // Defence in depth: should a secret-bearing field ever be logged by mistake, it is masked.
    redact: {
      paths: [
        "secret",
        "*.secret",
        "apiKey",
        "*.apiKey",
        "authorization",
        "*.authorization",
        "headers.authorization",
        // The key headers of the hosted providers (Anthropic, Gemini).
        'headers["x-api-key"]',
        '*.headers["x-api-key"]',
        'headers["x-goog-api-key"]',
        '*.headers["x-goog-api-key"]',
      ],
      censor: "[redacted]",
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
