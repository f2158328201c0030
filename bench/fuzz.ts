/**
 * Hostile intake load: FUZZ_REQUESTS (10,000) hostile and random bodies (test/support/
 * hostile-requests.ts, the generator the fuzz test uses, seeded by FUZZ_SEED) sent to the service
 * running in its own process (SQLite, RUN_WORKERS=false: the API only), FUZZ_CONCURRENCY (4) at
 * a time over keep-alive connections. Last line:
 *   fuzz: requests=<n> status_5xx=<n> rows_from_rejected=<n> p99_ms=<n> rss_growth_mb=<n>
 *
 * - status_5xx: answers of 500 or more (target 0); transport errors are printed separately.
 * - rows_from_rejected: rounds in the database beyond those the 200 answers created (target 0).
 * - p99_ms: per-request latency, send to last byte, closed loop (target ≤ 50 ms).
 * - rss_growth_mb: the service's resident memory after the run minus after a 200-request warm-up
 *   (target ≤ 100 MB), read from /proc/<pid>/status.
 * The rate limit is off (the bench is one client address); the load average is printed before
 * and after, since on a shared machine the latency moves with it.
 */
import { readFile } from "node:fs/promises";
import { Agent, request as httpRequest } from "node:http";
import { loadavg } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { createStore } from "../src/adapters/store/create-store.ts";
import { hostileRequests, type HostileRequest } from "../test/support/hostile-requests.ts";
import { sharedFixtures } from "../test/support/shared-dir.ts";
import { freePort, percentile, startServiceProcess, tempDir } from "./bench-support.ts";

const total = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const concurrency = Number(process.env.FUZZ_CONCURRENCY ?? 4);
const seed = Number(process.env.FUZZ_SEED ?? 11);
const secret = "bench-secret-0001";
const path = "/api/v1/tasks/ready";

const load = () => loadavg().map((n) => n.toFixed(2)).join(" ");
console.log(`load average before: ${load()} (requests=${total}, concurrency=${concurrency}, seed=${seed})`);

const valid = {
  ...JSON.parse(await readFile(join(sharedFixtures, "tasks", "markdown-to-html-r1.json"), "utf8")),
  secret,
  // Public, so it passes intake without DNS; no worker runs, so nothing is ever sent there.
  evaluation_url: "https://example.com/notify",
};
const runId = Date.now().toString(36);
let counter = 0;
const generator = hostileRequests(valid, () => `${runId}-${counter++}`);
const samples = (count: number, offset: number) => fc.sample(generator, { numRuns: count, seed: seed + offset });

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

interface Outcome {
  status: number;
  ms: number;
  created: boolean;
}

function send(url: URL, agent: Agent, hostile: HostileRequest): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const payload = Buffer.from(hostile.payload, "utf8");
    const headers: Record<string, string | number> = { "content-length": payload.length };
    if (hostile.contentType !== undefined) headers["content-type"] = hostile.contentType;
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: "POST", agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        let created = false;
        if (res.statusCode === 200) created = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { duplicate?: boolean }).duplicate === false;
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, created });
      });
    });
    req.on("error", () => resolve({ status: 0, ms: performance.now() - started, created: false }));
    req.end(payload);
  });
}

async function run(url: URL, requests: readonly HostileRequest[]): Promise<Outcome[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const outcomes: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests.length) outcomes.push(await send(url, agent, requests[next++]!));
    }),
  );
  agent.destroy();
  return outcomes;
}

const data = await tempDir("briefwright-bench-fuzz-");
const service = await startServiceProcess({
  PORT: String(await freePort()),
  DATA_DIR: data.path,
  STUDENT_SECRET: secret,
  RUN_WORKERS: "false",
  VERIFY: "false",
  LOG_LEVEL: "warn",
});
try {
  const url = new URL(service.url);
  const warmup = await run(url, samples(200, 1));
  const rssBefore = await rssMb(service.child.pid!);
  const outcomes = await run(url, samples(total, 0));
  const rssAfter = await rssMb(service.child.pid!);
  await service.stop();

  const store = await createStore({ databaseUrl: undefined, dataDir: data.path });
  const { rounds } = await store.counts();
  await store.close();
  const created = [...warmup, ...outcomes].filter((o) => o.created).length;
  const byStatus = new Map<number, number>();
  for (const o of outcomes) byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1);
  const latencies = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  const status5xx = outcomes.filter((o) => o.status >= 500).length;
  const transportErrors = byStatus.get(0) ?? 0;
  const p = (q: number) => Math.round(percentile(latencies, q) * 100) / 100;
  console.log(`statuses: ${[...byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}=${n}`).join(" ")} transport_errors=${transportErrors}`);
  console.log(`latency: p50_ms=${p(50)} p90_ms=${p(90)} p99_ms=${p(99)} max_ms=${p(100)}; rss_mb: after_warmup=${rssBefore.toFixed(1)} after=${rssAfter.toFixed(1)}; rounds_stored=${rounds} created_by_200=${created}`);
  console.log(`load average after: ${load()}`);
  console.log(
    `fuzz: requests=${outcomes.length} status_5xx=${status5xx} rows_from_rejected=${rounds - created} p99_ms=${p(99)} rss_growth_mb=${Math.round((rssAfter - rssBefore) * 10) / 10}`,
  );
} finally {
  await service.stop();
  await data.cleanup();
}
