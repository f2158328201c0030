/**
 * What every part of the double shares: its state, the settings a test may change while it runs,
 * its clock and its timers (cleared on close so no build or run outlives the double).
 */
import type { DoubleState } from "./double-state.ts";

export interface ActionsOutcome {
  readonly conclusion: "success" | "failure";
  /** The run's log text (served by the logs URL); a default is written when omitted. */
  readonly log?: string;
}

export interface FaultRule {
  /** Matches this method only (any when omitted). */
  readonly method?: string;
  /** Exact request path (no query) or a pattern tested against it. */
  readonly path: string | RegExp;
  /** How many matching requests get the fault; afterwards they pass. */
  remaining: number;
  readonly status: number;
  /** Computed when answering, so a reset time is relative to that moment. */
  readonly headers: (nowMs: number) => Readonly<Record<string, string>>;
  readonly body: unknown;
  hits: number;
}

export interface DoubleSettings {
  /** How long a legacy Pages build takes before the Pages host serves its commit. */
  pagesBuildDelayMs: number;
  /** The next this-many Pages builds end `errored` with `pagesBuildErrorMessage`. */
  pagesBuildsToFail: number;
  pagesBuildErrorMessage: string;
  /** How long a workflow run takes from push to completed. */
  actionsDelayMs: number;
  /** Outcomes for the next runs, in order; when empty, `actionsDefaultOutcome`. */
  readonly actionsOutcomes: ActionsOutcome[];
  actionsDefaultOutcome: ActionsOutcome;
  installationTokenLifetimeMs: number;
  readonly faults: FaultRule[];
}

export interface DoubleContext {
  readonly state: DoubleState;
  readonly settings: DoubleSettings;
  readonly now: () => number;
  /** HOME for git children, and where the repositories live. */
  readonly dataDir: string;
  /** The API's own origin, e.g. `http://127.0.0.1:4321` (also the git host). */
  apiUrl: string;
  /** The Pages host's origin; sites live at `/{owner}/{repo}/`. */
  pagesHost: string;
  nextId(): number;
  /** setTimeout that close() cancels. */
  later(delayMs: number, action: () => void): void;
  /** Wakes anyone waiting in `control.waitFor`. */
  changed(): void;
}

export function isoTime(ms: number): string {
  // GitHub writes timestamps without milliseconds.
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
