/**
 * Request-to-report latency of whole rounds: scripted LLM with no delay, the service in its own
 * process on SQLite, 20 rounds one after another. Last line:
 *   pipeline: rounds=<n> p50_ms=<n> p95_ms=<n>
 */
import { createServer } from "node:http";
import { startFakeLlm } from "../src/fake-llm/start-fake-llm.ts";
import { freePort, percentile, startServiceProcess, tempDir } from "./bench-support.ts";

const rounds = Number(process.env.BENCH_ROUNDS ?? 20);
const page = (i: number) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bench ${i}</title></head><body><p id="value">${i}</p><script src="app.js"></script></body></html>\n`;

const llm = await startFakeLlm({
  fixtures: [{ fixtures: [{ match: ["bench-pipeline"], responses: [{ files: { "index.html": page(1), "app.js": "document.title += '!';\n" } }] }] }],
});
const arrivals = new Map<string, number>();
const receiver = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    arrivals.set(JSON.parse(body).nonce, performance.now());
    res.writeHead(200).end("ok");
  });
});
await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/notify`;

const data = await tempDir("briefwright-bench-pipeline-");
const service = await startServiceProcess({
  PORT: String(await freePort()),
  DATA_DIR: data.path,
  STUDENT_SECRET: "bench-secret-0001",
  VLLM_ENDPOINT: `${llm.url}/v1`,
  VLLM_MODEL: "scripted",
  ALLOW_PRIVATE_URLS: "true",
  LOG_LEVEL: "warn",
  // Extra settings for experiments, e.g. BENCH_SERVICE_ENV='{"VERIFY":"false"}'.
  ...JSON.parse(process.env.BENCH_SERVICE_ENV ?? "{}"),
});

const durations: number[] = [];
try {
  const runId = Date.now().toString(36);
  for (let i = 0; i < rounds; i++) {
    const nonce = `bench-${runId}-${i}`;
    const started = performance.now();
    const response = await fetch(`${service.url}/api/v1/tasks/ready`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        email: "bench@example.com",
        secret: "bench-secret-0001",
        task: `bench-pipeline-${runId}-${i}`,
        round: 1,
        nonce,
        brief: "bench-pipeline: a page that shows #value",
        checks: ["js: !!document.querySelector('#value')"],
        evaluation_url: receiverUrl,
        attachments: [{ name: "data.csv", url: "data:text/csv;base64,YSxiCjEsMgo=" }],
      }),
    });
    if (response.status !== 200) throw new Error(`round ${i}: HTTP ${response.status} ${await response.text()}`);
    while (!arrivals.has(nonce)) {
      if (performance.now() - started > 60_000) throw new Error(`round ${i} not reported within 60 s`);
      await new Promise((r) => setTimeout(r, 5));
    }
    durations.push(arrivals.get(nonce)! - started);
  }
} finally {
  await service.stop();
  await llm.close();
  receiver.close();
  await data.cleanup();
}
const sorted = [...durations].sort((a, b) => a - b);
console.log(`durations_ms=${durations.map((d) => Math.round(d)).join(",")}`);
console.log(`pipeline: rounds=${durations.length} p50_ms=${Math.round(percentile(sorted, 50))} p95_ms=${Math.round(percentile(sorted, 95))}`);
