/**
 * What an Octokit request failure looks like to us: a status and the response's headers and
 * message. Octokit's RequestError has these; duck-typed so we depend on no transitive package.
 */
export interface GitHubHttpError {
  readonly status: number;
  readonly message: string;
  readonly response?: { readonly headers?: Readonly<Record<string, string | number | undefined>>; readonly data?: unknown };
}

export function isGitHubHttpError(error: unknown): error is GitHubHttpError {
  return typeof error === "object" && error !== null && typeof (error as { status?: unknown }).status === "number";
}

/** The HTTP status of a failed request, or undefined for anything else (a network error …). */
export function statusOf(error: unknown): number | undefined {
  return isGitHubHttpError(error) ? error.status : undefined;
}

/** GitHub's own message from the response body (`{"message": …}`), else the error's. */
export function gitHubMessage(error: unknown): string {
  if (isGitHubHttpError(error)) {
    const data = error.response?.data;
    if (data && typeof data === "object" && typeof (data as { message?: unknown }).message === "string") {
      const errors = (data as { errors?: unknown }).errors;
      const details = Array.isArray(errors)
        ? errors.map((entry) => (entry && typeof entry === "object" ? String((entry as { message?: unknown }).message ?? "") : String(entry))).filter(Boolean)
        : [];
      return [(data as { message: string }).message, ...details].join(": ");
    }
  }
  return error instanceof Error ? error.message : String(error);
}
