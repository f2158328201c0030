import type { FileTree } from "../domain/files.ts";

/**
 * The script-runner port, version 1: runs an interpreter (Python today) over a throw-away copy
 * of a candidate tree, confined and time-capped, and says what happened. Verification asks
 * through this interface only; deciding what to run and what the outcome means is pure code
 * (domain/python-verification.ts). Adapters: a local process runner (adapters/script/).
 *
 * A runner never touches the candidate itself: every call gets its own temporary copy, removed
 * afterwards, so a script that writes `result.json` or deletes files changes nothing committed.
 */
export interface ScriptRunner {
  /** Port version, bumped on incompatible change. */
  readonly version: 1;

  /** Adapter name for records, e.g. `local-process`. */
  readonly kind: string;

  /** What this adapter can guarantee; callers check these instead of `kind`. */
  readonly capabilities: ScriptRunnerCapabilities;

  /**
   * Runs `interpreter` with `args` in a fresh copy of `files` (the copy's root is the working
   * directory). Resolves with how it ended — a non-zero exit is an outcome, not an error — or
   * with `unavailable` when the interpreter cannot be found. Rejects only on a fault of the
   * runner itself (the temporary directory cannot be written), or with `signal.reason`.
   */
  run(request: ScriptRunRequest): Promise<ScriptRunResult>;
}

export interface ScriptRunnerCapabilities {
  /**
   * How network access is taken away: `namespace` (a fresh network namespace with only a
   * loopback device, `unshare -n`), or `none` when this host offers no way — callers must then
   * not run untrusted code, only compile it.
   */
  readonly networkIsolation: "namespace" | "none";
}

/** Interpreters the port knows; an adapter maps each to a command. */
export type ScriptInterpreter = "python";

export interface ScriptRunRequest {
  readonly interpreter: ScriptInterpreter;
  readonly args: readonly string[];
  /** The tree copied into the working directory. */
  readonly files: FileTree;
  /** The process (and everything it started) is killed after this long. */
  readonly timeoutMs: number;
  /**
   * Run with no network. A runner whose `networkIsolation` is `none` refuses such a request with
   * `unavailable` instead of running it unconfined.
   */
  readonly isolateNetwork: boolean;
  readonly signal?: AbortSignal;
}

export type ScriptRunResult =
  | {
      readonly outcome: "exited";
      /** Exit code; `null` when a signal ended the process (see `timedOut`). */
      readonly exitCode: number | null;
      readonly timedOut: boolean;
      /** Captured output, each capped by the adapter (the end is kept: tracebacks end there). */
      readonly stdout: string;
      readonly stderr: string;
    }
  | {
      readonly outcome: "unavailable";
      /** Why nothing ran, e.g. "python3 is not installed on this host". */
      readonly reason: string;
    };
