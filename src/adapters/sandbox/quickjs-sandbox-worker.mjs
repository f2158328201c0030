// The QuickJS side of the code sandbox (quickjs-code-sandbox.ts), in a worker thread so the host
// can kill a run that a native built-in keeps busy past the deadline (QuickJS checks its interrupt
// handler between bytecodes, not inside e.g. Array.prototype.fill). Plain JavaScript so it loads
// in a worker with no TypeScript loader.
import { parentPort, workerData } from "node:worker_threads";
import variant from "@jitl/quickjs-wasmfile-release-sync";
import { newQuickJSWASMModuleFromVariant, newVariant } from "quickjs-emscripten-core";

// The input crosses as one JSON string and is parsed inside, so no host object (and no host
// function) is ever reachable from the code. Strings come back as they are, anything else as JSON.
const harnessLines = 4;
const harness = (code) => `(() => {
  "use strict";
  const input = JSON.parse(globalThis.__input);
  delete globalThis.__input;
  const fn = (${code}
);
  if (typeof fn !== "function") throw new TypeError("the code must be a function expression such as (files) => { … return result; }");
  return Promise.resolve(fn(input)).then((out) => {
    if (typeof out === "string") return "t" + out;
    if (out === undefined) throw new TypeError("the function returned undefined; return the value to save");
    const json = JSON.stringify(out, null, 2);
    if (json === undefined) throw new TypeError("the function's result cannot be written as JSON");
    return "j" + json;
  });
})()`;

const { code, inputJson, limits, wasmModule } = workerData;
let stoppedBy;

function failure(kind, error) {
  return { ok: false, kind, error };
}

function describeThrown(error) {
  if (error && typeof error === "object" && "message" in error) {
    const where = typeof error.stack === "string" ? /function\.js:(\d+)/.exec(error.stack) : null;
    return `${typeof error.name === "string" ? error.name : "Error"}: ${String(error.message)}${where ? ` (line ${Math.max(1, Number(where[1]) - harnessLines)} of the function)` : ""}`;
  }
  return `thrown: ${typeof error === "string" ? error : JSON.stringify(error)}`;
}

function thrown(vm, errorHandle) {
  let detail;
  let error;
  try {
    error = vm.dump(errorHandle);
    detail = describeThrown(error);
  } catch {
    detail = "an error that could not be read";
  }
  if (stoppedBy === "timeout") return failure("timeout", "the function ran past its time limit and was stopped (an endless loop?)");
  // Out of memory so completely that QuickJS could not build an error object: it throws null.
  if (error === null) return failure("memory", "the function allocated more than its memory limit and was stopped (no memory was left even for an error)");
  if (/out of memory/i.test(detail)) return failure("memory", `the function allocated more than its memory limit and was stopped (${detail})`);
  if (/stack overflow/i.test(detail)) return failure("thrown", `${detail}: the function recursed too deeply`);
  return failure("thrown", detail);
}

function settle(vm) {
  const inputHandle = vm.newString(inputJson);
  vm.setProp(vm.global, "__input", inputHandle);
  inputHandle.dispose();
  const evaluated = vm.evalCode(harness(code), "function.js");
  if (evaluated.error) return thrown(vm, evaluated.error);
  const promise = evaluated.value;
  const jobs = vm.runtime.executePendingJobs();
  if (jobs.error) return thrown(vm, jobs.error);
  const state = vm.getPromiseState(promise);
  if (state.type === "pending") return failure("thrown", "the function's promise never settled (no timers, network or files are available to wait on)");
  if (state.type === "rejected") return thrown(vm, state.error);
  const tagged = vm.getString(state.value);
  const output = tagged.slice(1);
  const bytes = Buffer.byteLength(output);
  if (bytes > limits.maxOutputBytes) return failure("output-too-large", `the result is ${bytes} bytes, over the ${limits.maxOutputBytes}-byte cap; return less (a summary, not the data)`);
  return { ok: true, kind: tagged.startsWith("t") ? "text" : "json", output };
}

let result;
try {
  // QuickJS's own memory limit does not count every allocation (typed arrays' buffers escape it),
  // so the WebAssembly memory itself is capped too: the cap plus 16 MiB for the engine, after
  // which malloc fails and QuickJS throws "out of memory".
  const pageBytes = 64 * 1024;
  const wasmMemory = new WebAssembly.Memory({ initial: 256, maximum: 256 + Math.ceil(limits.memoryBytes / pageBytes) });
  const quickJs = await newQuickJSWASMModuleFromVariant(newVariant(variant, { wasmModule, wasmMemory }));
  // The host starts its kill timer now, so thread and engine start-up never eat the function's time.
  parentPort.postMessage({ started: true });
  const deadline = Date.now() + limits.timeoutMs;
  const runtime = quickJs.newRuntime();
  runtime.setMemoryLimit(limits.memoryBytes);
  runtime.setMaxStackSize(256 * 1024);
  runtime.setInterruptHandler(() => {
    if (Date.now() > deadline) stoppedBy = "timeout";
    return stoppedBy !== undefined;
  });
  // Nothing is disposed: QuickJS can assert on leaked objects after a capped run, and the whole
  // instance ends with this thread anyway.
  result = settle(runtime.newContext());
} catch (error) {
  // The host engine gave up (its own stack, say) before QuickJS could turn it into a JS error.
  result = failure("thrown", `the sandbox stopped the function: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
}
parentPort.postMessage(result);
