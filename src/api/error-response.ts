import { BriefwrightError, ValidationError } from "../domain/errors.ts";

export interface ErrorResponse {
  readonly status: number;
  readonly body: { error: string; message: string; issues?: readonly { path: string; message: string }[] };
}

const statusByCode: Record<string, number> = {
  "validation-failed": 400,
  "api-key-required": 401,
  "secret-mismatch": 403,
  "not-found": 404,
  "round-conflict": 409,
};

/** The one place where errors become HTTP status codes. */
export function errorResponse(error: unknown): ErrorResponse {
  if (error instanceof ValidationError) {
    return { status: 400, body: { error: error.code, message: "the request is invalid", issues: error.issues } };
  }
  if (error instanceof BriefwrightError && statusByCode[error.code]) {
    return { status: statusByCode[error.code]!, body: { error: error.code, message: error.message } };
  }
  // Fastify's own errors (body parsing, size, content type) carry a 4xx statusCode.
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError.statusCode === "number" && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    const code =
      fastifyError.statusCode === 413
        ? "payload-too-large"
        : fastifyError.statusCode === 415
          ? "unsupported-media-type"
          : fastifyError.statusCode === 429
            ? "rate-limited"
        : fastifyError.code === "FST_ERR_CTP_INVALID_JSON_BODY" || error instanceof SyntaxError
          ? "malformed-json"
          : (fastifyError.code ?? "bad-request");
    return { status: fastifyError.statusCode, body: { error: code, message: fastifyError.message ?? "bad request" } };
  }
  return { status: 500, body: { error: "internal", message: "internal error" } };
}
