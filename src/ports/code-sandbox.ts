/**
 * Runs a small piece of untrusted JavaScript (a model's function over build data) with no way
 * out: no network, no file system, no host objects, and caps on time, memory and output.
 * Version 1.
 */

export interface SandboxLimits {
  /** Wall time for the whole run, promise jobs included. */
  readonly timeoutMs: number;
  /** Heap the code may allocate, its input included. */
  readonly memoryBytes: number;
  /** Largest result, in UTF-8 bytes once serialized. */
  readonly maxOutputBytes: number;
}

export interface SandboxRun {
  /**
   * A function expression, e.g. `(files) => files["raw.json"].items.length`; it is called once
   * with `input` and may return a value or a promise of one.
   */
  readonly code: string;
  /** JSON-compatible data handed to the function as its one argument (a copy, not a reference). */
  readonly input: unknown;
  readonly limits: SandboxLimits;
  /** Stops the run early; it then fails as `aborted`. */
  readonly signal?: AbortSignal;
}

/** Why a run failed: the code threw (or did not parse), or a cap stopped it. */
export type SandboxFailureKind = "thrown" | "timeout" | "memory" | "output-too-large" | "aborted";

export type SandboxResult =
  | {
      readonly ok: true;
      /** `text` when the function returned a string (kept as is), `json` otherwise. */
      readonly kind: "text" | "json";
      /** The string returned, or the value as indented JSON. */
      readonly output: string;
    }
  | { readonly ok: false; readonly kind: SandboxFailureKind; readonly error: string };

export interface CodeSandbox {
  readonly version: 1;
  readonly capabilities: {
    /** Whether a run that exceeds `memoryBytes` is stopped (rather than only the host's limit). */
    readonly memoryLimit: boolean;
    /** Whether an endless loop is interrupted at `timeoutMs`. */
    readonly interruptsLoops: boolean;
    /** Whether the run happens off the caller's thread (otherwise it blocks it up to `timeoutMs`). */
    readonly offThread: boolean;
  };
  /** Never throws for anything the code does; a failure is a result. */
  run(run: SandboxRun): Promise<SandboxResult>;
}
