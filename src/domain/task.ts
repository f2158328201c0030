/** A check as it arrived on the wire (PROTOCOL §4): a string or `{ js }`. */
export type RawCheck = string | { readonly js: string };

export interface RawAttachment {
  readonly name: string;
  readonly url: string;
}

/** A validated task request, minus the secret (which never leaves the API layer). */
export interface TaskRequest {
  readonly email: string;
  readonly task: string;
  readonly round: number;
  readonly nonce: string;
  readonly brief: string;
  readonly checks: readonly RawCheck[];
  readonly evaluationUrl: string;
  readonly attachments: readonly RawAttachment[];
}

export type RoundStatus = "queued" | "running" | "succeeded" | "failed";

/**
 * What a round shipped, beside its status: `built` — a candidate that passed every blocking check
 * (or was not verified); `best-effort` — the best candidate, which fails some checks; `fallback` —
 * no usable candidate at all, so the attachments, LICENSE and a README saying why (see
 * docs/decisions/0014-never-silent.md). `reason` says why for the last two, null for `built`.
 */
export interface RoundOutcome {
  readonly kind: "built" | "best-effort" | "fallback";
  readonly reason: string | null;
}

/** What the round delivered; also the body of the report (PROTOCOL §3), less the echoed fields. */
export interface DeployResult {
  readonly repoUrl: string;
  readonly commitSha: string;
  readonly pagesUrl: string;
  /**
   * The repository name the forge used (it may differ from the task's when the name was taken);
   * later rounds revise this one. Absent in results stored before it was recorded.
   */
  readonly repoName?: string;
  /** How the Pages wait ended; absent in results stored before it was recorded. */
  readonly pages?: PagesOutcome;
}

/** Where the Pages site stood when the report left. */
export interface PagesOutcome {
  readonly buildType: "legacy" | "workflow";
  /** `live`: the URL served this commit. `propagating`: built, or still building, when the budget said report. `failed`: the build or workflow failed. */
  readonly state: "live" | "propagating" | "failed";
  readonly detail: string;
  readonly polls: number;
  /** The Pages workflow's run of this commit, when the site is built by workflow. */
  readonly workflowRun?: {
    readonly id: number;
    readonly conclusion: string | null;
    readonly htmlUrl: string;
    readonly logsUrl: string;
  };
}

/** The report body exactly as PROTOCOL §3 spells it. */
export interface ReportBody {
  readonly email: string;
  readonly task: string;
  readonly round: number;
  readonly nonce: string;
  readonly repo_url: string;
  readonly commit_sha: string;
  readonly pages_url: string;
}

export function reportBody(request: TaskRequest, result: DeployResult): ReportBody {
  return {
    email: request.email,
    task: request.task,
    round: request.round,
    nonce: request.nonce,
    repo_url: result.repoUrl,
    commit_sha: result.commitSha,
    pages_url: result.pagesUrl,
  };
}
