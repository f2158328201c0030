/**
 * What a gate rule decided about one aspect of a candidate tree. Every decision is recorded
 * (the round keeps them), the clean passes too, so a report shows what was checked and not only
 * what went wrong.
 *
 * - `passed: true,  severity: "block"` — a blocking rule found nothing wrong;
 * - `passed: false, severity: "block"` — the candidate must not be committed;
 * - `passed: false, severity: "warn"`  — a problem that is tolerated (e.g. shrinkage the brief asked for);
 * - `passed: true,  severity: "fixed"` — the gate repaired the problem itself (the report's `files` carry the fix).
 */
export interface GateDecision {
  /** Rule name: `shrinkage`, `path-safety`, `size-caps`, `secret-scan`, `html`, `root-absolute-paths`. */
  readonly rule: string;
  readonly passed: boolean;
  readonly severity: GateSeverity;
  /** One sentence a person or the model can act on. Never contains a secret. */
  readonly detail: string;
  /** The file the decision is about, when it is about one. */
  readonly path?: string;
}

export type GateSeverity = "block" | "warn" | "fixed";

/** A tree as the gate sees it: repository-relative POSIX path → bytes. */
export type GateFiles = ReadonlyMap<string, Buffer>;

/** True when a decision stops the candidate from being committed. */
export function isBlocking(decision: GateDecision): boolean {
  return !decision.passed && decision.severity === "block";
}
