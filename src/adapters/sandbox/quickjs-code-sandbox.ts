import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { CodeSandbox, SandboxFailureKind, SandboxResult } from "../../ports/code-sandbox.ts";

let compiled: Promise<WebAssembly.Module> | undefined;

/** QuickJS's WebAssembly, compiled once per process and handed to each run's worker. */
function quickJsModule(): Promise<WebAssembly.Module> {
  compiled ??= readFile(createRequire(import.meta.url).resolve("@jitl/quickjs-wasmfile-release-sync/wasm")).then((bytes) => WebAssembly.compile(bytes));
  return compiled;
}

export interface QuickJsSandboxOptions {
  /** Time past `timeoutMs` before the worker is killed, for code stuck inside a native built-in. Default 1 s. */
  readonly killGraceMs?: number;
  /** Longest wait for a worker to start the engine (a loaded machine). Default 30 s. */
  readonly startTimeoutMs?: number;
}

/**
 * QuickJS compiled to WebAssembly (quickjs-emscripten) in a worker thread: a separate JavaScript
 * engine with only the ECMAScript built-ins — no fetch, require, process, timers or modules. An
 * interrupt handler stops endless loops at the deadline, the runtime's memory limit stops
 * unbounded allocation, the stack is capped, and a run still busy past the deadline plus a grace
 * period (a native built-in that never checks the interrupt) is ended by terminating its worker.
 * A fresh instance per run: nothing of one run can reach the next.
 */
export function createQuickJsCodeSandbox(options: QuickJsSandboxOptions = {}): CodeSandbox {
  const killGraceMs = options.killGraceMs ?? 1000;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  return {
    version: 1,
    capabilities: { memoryLimit: true, interruptsLoops: true, offThread: true },
    async run(run) {
      if (run.signal?.aborted) return failure("aborted", "the run was cancelled before it started");
      const inputJson = JSON.stringify(run.input ?? null);
      const inputBytes = Buffer.byteLength(inputJson);
      if (inputBytes > run.limits.memoryBytes) return failure("memory", `the input (${inputBytes} bytes as JSON) is larger than the ${run.limits.memoryBytes}-byte memory cap`);
      const wasmModule = await quickJsModule();
      return new Promise<SandboxResult>((resolve) => {
        const worker = new Worker(new URL("./quickjs-sandbox-worker.mjs", import.meta.url), {
          workerData: { code: run.code, inputJson, limits: run.limits, wasmModule },
          // The host side of the worker needs little; QuickJS's own heap lives in WebAssembly memory.
          resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 },
          stdout: true,
          stderr: true,
        });
        let settled = false;
        const finish = (result: SandboxResult) => {
          if (settled) return;
          settled = true;
          clearTimeout(killer);
          clearTimeout(startKiller);
          run.signal?.removeEventListener("abort", onAbort);
          void worker.terminate();
          resolve(result);
        };
        const onAbort = () => finish(failure("aborted", "the run was cancelled"));
        let killer: NodeJS.Timeout | undefined;
        const startKiller = setTimeout(() => finish(failure("timeout", `the sandbox did not start within ${startTimeoutMs} ms`)), startTimeoutMs);
        run.signal?.addEventListener("abort", onAbort, { once: true });
        worker.on("message", (message: SandboxResult | { started: true }) => {
          if (!("started" in message)) return finish(message);
          clearTimeout(startKiller);
          killer = setTimeout(() => finish(failure("timeout", "the function ran past its time limit and was stopped (busy inside a built-in that cannot be interrupted)")), run.limits.timeoutMs + killGraceMs);
        });
        worker.once("error", (error) => finish(failure(/memory/i.test(error.message) ? "memory" : "thrown", `the sandbox stopped the function: ${error.message}`)));
        worker.once("exit", (code) => finish(failure("thrown", `the sandbox ended without a result (exit code ${code})`)));
      });
    },
  };
}

function failure(kind: SandboxFailureKind, error: string): SandboxResult {
  return { ok: false, kind, error };
}
