/**
 * Intake throughput and latency: POST /api/v1/tasks/ready on SQLite, against the service in its
 * own process (RUN_WORKERS=false: the API only), and the same unthrottled load against a bare
 * Node HTTP server answering 200 (the baseline), in one run. Afterwards every acknowledged
 * request must have its round stored. Last line:
 *   intake: rps=<n> p50_ms=<n> p99_ms=<n> lost=<n> baseline_rps=<n>
 *
 * - rps and baseline_rps: autocannon, unthrottled, BENCH_SECONDS (10) each after a 3 s warm-up,
 *   BENCH_CONNECTIONS (100) connections, no pipelining — the same settings for both servers.
 *   100 rather than autocannon's usual 10–20: with 20 closed-loop clients at most 20 requests
 *   are ever in flight, which measures 20 clients' round trips more than the server's capacity
 *   (the baseline answers at once and barely notices; a server that commits in groups is held
 *   to groups of at most 20). `BENCH_CONNECTIONS=20` gives the earlier setting.
 * - p50_ms and p99_ms: 500 requests/s for BENCH_SECONDS, open loop (bench-support.ts
 *   `pacedLoad`): each request is sent when due, whatever happened to earlier ones, and its
 *   latency counts from when it was due. This replaced autocannon's `overallRate`, which sends
 *   each connection's per-second quota back to back at the top of every second (a 500-request
 *   burst, then idle) and "corrects" for coordinated omission with a 1 ms expected interval, so
 *   that one 100 ms answer counts as 100 samples.
 * - lost: acknowledged answers (their task, round and nonce) with no stored round. Every request
 *   carries a new task and nonce, so each acknowledgement must be one stored round.
 * - The machine's load average is printed before and after: on a shared 2-core machine the
 *   figures move with it; compare runs made back to back.
 */
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import autocannon from "autocannon";
import { createStore } from "../src/adapters/store/create-store.ts";
import { freePort, pacedLoad, percentile, startServiceProcess, tempDir } from "./bench-support.ts";

const durationSeconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 100);
const pacedRate = 500;
const warmupSeconds = 3;
const path = "/api/v1/tasks/ready";

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

async function unthrottled(url: string, runId: string, seconds: number) {
  let counter = 0;
  const acknowledged: string[] = [];
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      {
        method: "POST",
        path,
        headers: { "content-type": "application/json" },
        setupRequest: (request) => ({ ...request, body: bodyFor(counter++, runId) }),
        onResponse: (status, body) => {
          if (status === 200) acknowledged.push(String(body));
        },
      },
    ],
  });
  return { result, acknowledged };
}

function startBaseline(port: number) {
  const source = `require("node:http").createServer((q, s) => { q.resume(); q.on("end", () => s.writeHead(200, {"content-type": "application/json"}).end('{"status":"accepted"}')); }).listen(${port}, "127.0.0.1", () => console.log("up"));`;
  return new Promise<{ stop(): void }>((resolve) => {
    const child = spawn(process.execPath, ["-e", source], { stdio: ["ignore", "pipe", "inherit"] });
    child.stdout.once("data", () => resolve({ stop: () => child.kill("SIGKILL") }));
  });
}

const load = () => loadavg().map((n) => n.toFixed(2)).join(" ");
console.log(`load average before: ${load()} (connections=${connections}, ${durationSeconds} s per run)`);

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
  const warmup = await unthrottled(service.url, `${runId}w`, warmupSeconds);
  const paced = await pacedLoad({
    url: service.url,
    path,
    rate: pacedRate,
    durationSeconds,
    maxSockets: 64,
    body: (i) => bodyFor(i, `${runId}p`),
  });
  const measured = await unthrottled(service.url, `${runId}u`, durationSeconds);

  const baselinePort = await freePort();
  const baseline = await startBaseline(baselinePort);
  await unthrottled(`http://127.0.0.1:${baselinePort}`, `${runId}bw`, warmupSeconds);
  const bare = await unthrottled(`http://127.0.0.1:${baselinePort}`, `${runId}b`, durationSeconds);
  baseline.stop();

  await service.stop();
  const store = await createStore({ databaseUrl: undefined, dataDir: data.path });
  const storedRows = await store.db
    .selectFrom("rounds")
    .innerJoin("tasks", "tasks.id", "rounds.task_id")
    .select(["tasks.name", "rounds.round", "rounds.nonce"])
    .execute();
  await store.close();
  const stored = new Set(storedRows.map((r) => `${r.name}\n${r.round}\n${r.nonce}`));
  const acknowledged = [...warmup.acknowledged, ...paced.acknowledged, ...measured.acknowledged].map(
    (body) => JSON.parse(body) as { task: string; round: number; nonce: string },
  );
  const lost = acknowledged.filter((a) => !stored.has(`${a.task}\n${a.round}\n${a.nonce}`)).length;

  const p = (sorted: number[], q: number) => percentile(sorted, q).toFixed(2);
  console.log(
    `paced-${pacedRate}: requests=${paced.sent} p50_ms=${p(paced.latenciesMs, 50)} p90_ms=${p(paced.latenciesMs, 90)} p99_ms=${p(paced.latenciesMs, 99)} p999_ms=${p(paced.latenciesMs, 99.9)} max_ms=${p(paced.latenciesMs, 100)} non2xx=${paced.non2xx} errors=${paced.errors} client_send_lag_p99_ms=${p(paced.sendLagMs, 99)}`,
  );
  const report = (label: string, r: autocannon.Result) =>
    console.log(
      `${label}: requests=${r.requests.total} rps=${Math.round(r.requests.average)} p50_ms=${r.latency.p50} p99_ms=${r.latency.p99} errors=${r.errors} non2xx=${r.non2xx}`,
    );
  report("unthrottled", measured.result);
  report("baseline", bare.result);
  console.log(`stored rounds=${stored.size} acknowledged=${acknowledged.length} lost=${lost}`);
  console.log(`load average after: ${load()}`);
  console.log(
    `intake: rps=${Math.round(measured.result.requests.average)} p50_ms=${Math.round(percentile(paced.latenciesMs, 50) * 100) / 100} p99_ms=${Math.round(percentile(paced.latenciesMs, 99) * 100) / 100} lost=${lost} baseline_rps=${Math.round(bare.result.requests.average)}`,
  );
} finally {
  await service.stop();
  await data.cleanup();
}
