import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../config.ts";
import { startFakeLlm } from "../fake-llm/start-fake-llm.ts";
import { startService } from "../main.ts";
import { parseCommandArgs } from "./parse-command-args.ts";

const DEMO_USAGE = `usage: briefwright demo [--once] [--port <n>]
  --once      exit after both rounds are reported instead of serving on
  --port <n>  port of the demo service (default 8000)`;

const exampleDir = fileURLToPath(new URL("../../examples/demo/", import.meta.url));

/**
 * `briefwright demo`: the scripted LLM with the example fixtures, the service on them, a local
 * receiver standing in for the evaluator, then a round 1 and a round 2 — printing each Pages URL.
 * Keeps serving afterwards so the pages can be opened (Ctrl-C stops); `--once` exits instead.
 */
export async function runDemoCommand(argv: string[]): Promise<void> {
  const parsed = parseCommandArgs(argv, { once: { type: "boolean", default: false }, port: { type: "string", default: "8000" } }, DEMO_USAGE);
  if (parsed.help) {
    process.stdout.write(`${DEMO_USAGE}\n`);
    return;
  }
  const values = parsed.values as { once: boolean; port: string };
  const llm = await startFakeLlm({ fixtures: `${exampleDir}fixtures.json` });
  const reports: Array<Record<string, unknown>> = [];
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      reports.push(JSON.parse(body));
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const receiverPort = (receiver.address() as { port: number }).port;

  const config = loadConfig({
    ...process.env,
    PORT: values.port,
    DATA_DIR: process.env.DATA_DIR ?? "./data/demo",
    STUDENT_SECRET: "demo-secret-0001",
    LLM_BACKEND: "vllm",
    VLLM_ENDPOINT: `${llm.url}/v1`,
    VLLM_MODEL: "scripted-demo",
    ALLOW_PRIVATE_URLS: "true",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
  });
  const service = await startService(config);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`briefwright demo: service on ${service.url}, scripted LLM on ${llm.url}`);

  const stop = async () => {
    await service.stop();
    await llm.close();
    receiver.close();
  };
  try {
    // A fresh nonce per run: the demo can be repeated on the same data directory.
    const runId = Date.now().toString(36);
    for (const round of [1, 2]) {
      const request = JSON.parse(await readFile(`${exampleDir}round-${round}.json`, "utf8"));
      request.nonce = `${request.nonce}-${runId}`;
      request.evaluation_url = `http://127.0.0.1:${receiverPort}/notify`;
      const started = Date.now();
      const ack = await fetch(`${service.url}/api/v1/tasks/ready`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request) });
      say(`round ${round}: HTTP ${ack.status} ${await ack.text()}`);
      while (!reports.some((r) => r.nonce === request.nonce)) {
        if (Date.now() - started > 60_000) throw new Error(`round ${round} was not reported within 60 s; see ${service.url}/api/v1/tasks`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const report = reports.find((r) => r.nonce === request.nonce)!;
      say(`round ${round}: reported in ${Date.now() - started} ms`);
      say(`  repo_url:   ${report.repo_url}`);
      say(`  commit_sha: ${report.commit_sha}`);
      say(`  pages_url:  ${report.pages_url}`);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  if (values.once) return stop();
  say(`open the pages above; the task API is at ${service.url}/api/v1/tasks (send X-API-Key: the API_KEY, or the key in DATA_DIR/api-key) — Ctrl-C stops the demo`);
  process.once("SIGINT", () => void stop().then(() => process.exit(0)));
  process.once("SIGTERM", () => void stop().then(() => process.exit(0)));
}
