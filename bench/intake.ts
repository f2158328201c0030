/**
 * Intake throughput and latency: autocannon against POST /api/v1/tasks/ready on SQLite, and the
 * same load against a bare Node HTTP server answering 200 (the baseline), in one run. Afterwards
 * every acknowledged request must have its round stored. Last line:
 *   intake: rps=<n> p50_ms=<n> p99_ms=<n> lost=<n> baseline_rps=<n>
 * rps and baseline_rps: unthrottled, 10 s each. p50/p99: paced at 500 req/s for 10 s.
 */
import { spawn } from "node:child_process";
import autocannon from "autocannon";
import { createStore } from "../src/adapters/store/create-store.ts";
import { freePort, startServiceProcess, tempDir } from "./bench-support.ts";

const durationSeconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = 20;

function bodyFor(i: number, runId: string): string {
  return JSON.stringify({
    email: "bench@example.com",
    secret: "bench-secret-0001",
    task: `bench-${runId}-${i}`,
    round: 1,
    nonce: `nonce-${runId}-${i}`,
    brief: "Publish a page with #total that sums data.csv.",
    checks: ["js: !!document.querySelector('#total')", "Repo has MIT license"],
    evaluation_url: "https://example.com/notify",
    attachments: [{ name: "data.csv", url: "data:text/csv;base64,YSxiCjEsMgo=" }],
  });
}

async function load(url: string, runId: string, rate?: number) {
  let counter = 0;
  let acknowledged = 0;
  const result = await autocannon({
    url,
    connections,
    duration: durationSeconds,
    ...(rate ? { overallRate: rate } : {}),
    requests: [
      {
        method: "POST",
        path: "/api/v1/tasks/ready",
        headers: { "content-type": "application/json" },
        setupRequest: (request) => ({ ...request, body: bodyFor(counter++, runId) }),
        onResponse: (status) => {
          if (status === 200) acknowledged++;
        },
      },
    ],
  });
  return { result, acknowledged, sent: counter };
}

function startBaseline(port: number) {
  const source = `require("node:http").createServer((q, s) => { q.resume(); q.on("end", () => s.writeHead(200, {"content-type": "application/json"}).end('{"status":"accepted"}')); }).listen(${port}, "127.0.0.1", () => console.log("up"));`;
  return new Promise<{ stop(): void }>((resolve) => {
    const child = spawn(process.execPath, ["-e", source], { stdio: ["ignore", "pipe", "inherit"] });
    child.stdout.once("data", () => resolve({ stop: () => child.kill("SIGKILL") }));
  });
}

const data = await tempDir("briefwright-bench-intake-");
const port = await freePort();
const service = await startServiceProcess({
  PORT: String(port),
  DATA_DIR: data.path,
  STUDENT_SECRET: "bench-secret-0001",
  RUN_WORKERS: "false",
  LOG_LEVEL: "warn",
});
try {
  const runId = Date.now().toString(36);
  // Warm up the JIT and the SQLite page cache before measuring.
  const warmup = await load(service.url, `${runId}w`, 200);
  const paced = await load(service.url, `${runId}p`, 500);
  const unthrottled = await load(service.url, `${runId}u`);

  const baselinePort = await freePort();
  const baseline = await startBaseline(baselinePort);
  const bare = await load(`http://127.0.0.1:${baselinePort}`, `${runId}b`);
  baseline.stop();

  await service.stop();
  const store = await createStore({ databaseUrl: undefined, dataDir: data.path });
  const { rounds } = await store.counts();
  await store.close();
  // Every request carried a new task and nonce, so each acknowledgement must be one stored round.
  const acknowledged = warmup.acknowledged + paced.acknowledged + unthrottled.acknowledged;
  const lost = Math.max(0, acknowledged - rounds);

  const report = (label: string, r: autocannon.Result) =>
    console.log(
      `${label}: requests=${r.requests.total} rps=${Math.round(r.requests.average)} p50_ms=${r.latency.p50} p99_ms=${r.latency.p99} errors=${r.errors} non2xx=${r.non2xx}`,
    );
  report("paced-500", paced.result);
  report("unthrottled", unthrottled.result);
  report("baseline", bare.result);
  console.log(`stored rounds=${rounds} acknowledged=${acknowledged}`);
  console.log(
    `intake: rps=${Math.round(unthrottled.result.requests.average)} p50_ms=${paced.result.latency.p50} p99_ms=${paced.result.latency.p99} lost=${lost} baseline_rps=${Math.round(bare.result.requests.average)}`,
  );
} finally {
  await service.stop();
  await data.cleanup();
}
