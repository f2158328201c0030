import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createServer } from "node:net";

export const repoRoot = resolve(import.meta.dirname, "..");

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => ok(port));
    });
  });
}

export async function tempDir(prefix: string): Promise<{ path: string; cleanup(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** Starts `briefwright serve` in a child process and resolves once /health answers. */
export async function startServiceProcess(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["bin/briefwright.mjs", "serve"], {
    cwd: repoRoot,
    // Benchmarks are the heavy client the rate limit exists for: off unless a bench sets it. The
    // Pages listener takes any free port, so runs beside each other do not collide.
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", RATE_LIMIT_MAX: "0", PAGES_PORT: "0", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${env.PORT}`;
  const stop = () =>
    new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once("exit", () => done());
      child.kill("SIGTERM");
    });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}:\n${stderr}`);
    const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (ok) return { child, url, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`service did not answer /health within 30 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export interface PacedResult {
  /** Response latencies in ms, measured from each request's scheduled send time, sorted. */
  readonly latenciesMs: number[];
  /** Bodies of the 200 answers, in arrival order. */
  readonly acknowledged: string[];
  readonly sent: number;
  readonly non2xx: number;
  readonly errors: number;
  /** How late the client itself sent requests (ms, sorted): a check that the generator kept up. */
  readonly sendLagMs: number[];
}

/**
 * Open-loop constant-rate load: request i is due at start + i/rate and is sent then (on one of up
 * to `maxSockets` keep-alive connections), whether or not earlier ones were answered, and its
 * latency counts from when it was due — so a stall is charged to every request it delayed, as
 * wrk2 does. (autocannon's `overallRate` is not this: each connection fires its per-second quota
 * back to back at the start of every second and then idles, and its coordinated-omission
 * correction assumes an expected interval of ceil(1/rate) = 1 ms, turning one slow answer of N ms
 * into N samples.)
 */
export async function pacedLoad(options: {
  readonly url: string;
  readonly path: string;
  readonly rate: number;
  readonly durationSeconds: number;
  readonly maxSockets: number;
  readonly body: (i: number) => string;
}): Promise<PacedResult> {
  const { request: httpRequest, Agent } = await import("node:http");
  const target = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets });
  const total = Math.round(options.rate * options.durationSeconds);
  const intervalMs = 1000 / options.rate;
  const latenciesMs: number[] = [];
  const sendLagMs: number[] = [];
  const acknowledged: string[] = [];
  let non2xx = 0;
  let errors = 0;
  let finished = 0;
  let sent = 0;
  const start = performance.now() + 20;
  await new Promise<void>((allDone) => {
    const settle = () => {
      if (++finished === total) allDone();
    };
    const fire = (i: number) => {
      const due = start + i * intervalMs;
      sendLagMs.push(performance.now() - due);
      const payload = options.body(i);
      const req = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          path: options.path,
          method: "POST",
          agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (text += chunk));
          res.on("end", () => {
            latenciesMs.push(performance.now() - due);
            if (res.statusCode === 200) acknowledged.push(text);
            else non2xx++;
            settle();
          });
        },
      );
      req.on("error", () => {
        errors++;
        settle();
      });
      req.end(payload);
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * intervalMs <= now) fire(sent++);
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * intervalMs - performance.now()));
    };
    setTimeout(tick, 20);
  });
  agent.destroy();
  latenciesMs.sort((a, b) => a - b);
  sendLagMs.sort((a, b) => a - b);
  return { latenciesMs, acknowledged, sent, non2xx, errors, sendLagMs };
}
