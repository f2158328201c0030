import { describe, expect, it } from "vitest";
import { createQuickJsCodeSandbox } from "../../src/adapters/sandbox/quickjs-code-sandbox.ts";
import type { CodeSandbox, SandboxLimits } from "../../src/ports/code-sandbox.ts";

/**
 * The CodeSandbox port's contract, run against every adapter in `sandboxAdapters`. Each run is
 * real: the adapter's engine executes the code, and the caps are hit by code that really loops
 * or allocates, not by a stub.
 */
const sandboxAdapters: ReadonlyArray<{ readonly name: string; readonly create: () => CodeSandbox }> = [{ name: "quickjs", create: () => createQuickJsCodeSandbox() }];

// Generous time: the machine running the suite may be busy, and only the loop test should ever hit it.
const limits: SandboxLimits = { timeoutMs: 3000, memoryBytes: 16 * 1024 * 1024, maxOutputBytes: 4096 };

describe.each(sandboxAdapters)("CodeSandbox contract: $name", ({ create }) => {
  const sandbox = create();

  it("calls the function with a copy of the input and returns its value as JSON", async () => {
    const input = { "facts.json": { units: [{ val: 7, fy: "2021" }, { val: 42, fy: "2023" }, { val: 3, fy: "2022" }] } };
    const code = `(files) => {
      const units = files["facts.json"].units;
      const max = units.reduce((a, b) => (b.val > a.val ? b : a));
      const min = units.reduce((a, b) => (b.val < a.val ? b : a));
      return { max, min, count: units.length };
    }`;
    const result = await sandbox.run({ code, input, limits });
    expect(result).toEqual({ ok: true, kind: "json", output: JSON.stringify({ max: { val: 42, fy: "2023" }, min: { val: 3, fy: "2022" }, count: 3 }, null, 2) });
  });

  it("keeps a returned string as text, and waits for an async function", async () => {
    expect(await sandbox.run({ code: `(rows) => rows.map((r) => r.join(",")).join("\\n")`, input: [["a", 1], ["b", 2]], limits })).toEqual({ ok: true, kind: "text", output: "a,1\nb,2" });
    expect(await sandbox.run({ code: `async (n) => { await null; return n * 2; }`, input: 21, limits })).toEqual({ ok: true, kind: "json", output: "42" });
  });

  it("reports a thrown error with its message and line", async () => {
    const result = await sandbox.run({ code: `(x) => {\n  if (!x.items) throw new RangeError("no items in the data");\n}`, input: {}, limits });
    expect(result).toEqual({ ok: false, kind: "thrown", error: expect.stringMatching(/^RangeError: no items in the data \(line 2 of the function\)/) });
  });

  it.each([
    ["a syntax error", "(x) => {", /SyntaxError/],
    ["code that is not a function", "42", /must be a function expression/],
    ["a function that returns nothing", "(x) => { void x; }", /returned undefined/],
    ["a promise that never settles", "() => new Promise(() => {})", /never settled/],
    ["recursion without end", "function down(n) { return down(n + 1) + 1; }", /stack overflow|recursed|call stack/i],
  ])("reports %s as a thrown error", async (_, code, message) => {
    const result = await sandbox.run({ code, input: 1, limits });
    expect(result.ok).toBe(false);
    expect(result).toMatchObject({ kind: "thrown", error: expect.stringMatching(message) });
  });

  it("stops a function that loops forever", async () => {
    const result = await sandbox.run({ code: "() => { let n = 0; for (;;) n++; }", input: null, limits });
    expect(result).toEqual({ ok: false, kind: "timeout", error: expect.stringMatching(/time limit/) });
  });

  it("stops a function that allocates without bound", async () => {
    const result = await sandbox.run({ code: "() => { let a = [1]; for (;;) a = a.concat(a, [a.length]); }", input: null, limits });
    expect(result).toEqual({ ok: false, kind: "memory", error: expect.stringMatching(/memory limit/) });
  });

  it("stops allocation the engine's own accounting misses: typed arrays' buffers", async () => {
    const result = await sandbox.run({ code: "() => { const blocks = []; for (;;) blocks.push(new Float64Array(1 << 19)); }", input: null, limits });
    expect(result).toEqual({ ok: false, kind: "memory", error: expect.stringMatching(/memory limit/) });
  });

  it("refuses one allocation larger than the memory cap", async () => {
    const result = await sandbox.run({ code: "() => new ArrayBuffer(64 * 1024 * 1024).byteLength", input: null, limits });
    expect(result).toMatchObject({ ok: false, kind: "memory" });
  });

  it("offers no network, modules, host process or timers", async () => {
    const probe = `() => [
      typeof fetch, typeof require, typeof process, typeof module, typeof setTimeout, typeof XMLHttpRequest,
      typeof WebSocket, typeof Deno, typeof Bun, typeof std, typeof os, typeof __input,
    ]`;
    const result = await sandbox.run({ code: probe, input: null, limits });
    expect(result.ok && JSON.parse(result.output)).toEqual(Array(12).fill("undefined"));
    const escape = await sandbox.run({ code: `() => Function("return typeof process")() + "," + globalThis.constructor.constructor("return typeof require")()`, input: null, limits });
    expect(escape).toEqual({ ok: true, kind: "text", output: "undefined,undefined" });
    const moduleLoad = await sandbox.run({ code: `async () => (await import("node:fs")).readFileSync("/etc/hostname", "utf8")`, input: null, limits });
    expect(moduleLoad).toMatchObject({ ok: false, kind: "thrown" });
  });

  it("caps the size of the result", async () => {
    const result = await sandbox.run({ code: `() => "x".repeat(5000)`, input: null, limits });
    expect(result).toEqual({ ok: false, kind: "output-too-large", error: expect.stringMatching(/5000 bytes, over the 4096-byte cap/) });
    const justUnder = await sandbox.run({ code: `() => "x".repeat(4096)`, input: null, limits });
    expect(justUnder).toMatchObject({ ok: true, kind: "text" });
  });

  it("stops when the caller aborts, and keeps nothing from one run to the next", async () => {
    const controller = new AbortController();
    const running = sandbox.run({ code: "() => { for (;;) {} }", input: null, limits: { ...limits, timeoutMs: 60_000 }, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect(await running).toMatchObject({ ok: false, kind: "aborted" });
    await sandbox.run({ code: "() => { globalThis.leaked = 1; return 1; }", input: null, limits });
    expect(await sandbox.run({ code: "() => typeof globalThis.leaked", input: null, limits })).toEqual({ ok: true, kind: "text", output: "undefined" });
  });
});
