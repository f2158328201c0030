import pino, { type Logger } from "pino";

/** The process logger: JSON lines on stdout. Nothing secret is ever passed to it. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "briefwright" },
    // Defence in depth: should a secret-bearing field ever be logged by mistake, it is masked.
    redact: { paths: ["secret", "*.secret", "apiKey", "*.apiKey", "authorization", "*.authorization", "headers.authorization"], censor: "[redacted]" },
  });
}
