import { spawn, type ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeLlm, type FakeLlm } from "../../src/fake-llm/start-fake-llm.ts";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.ts";
import { freePort } from "../support/free-port.ts";
import { cloneAt, git, loadTaskRequest, repoRoot, serviceEnv, studentSecret, apiKeyHeaders } from "../support/service-harness.ts";
import { storeDialects, type TestDatabase } from "../support/store-dialects.ts";

// Done-when 4 of the foundation issue: SIGKILL while the model is thinking; the restarted
// service finishes the round with exactly one commit and one report.
const page = '<!doctype html><html><head><title>Crash test</title></head><body><p id="ok">ok</p></body></html>\n';

function startServiceProcess(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/briefwright.mjs", "serve"], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env, LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("briefwright listening")) resolve({ child, url: `http://127.0.0.1:${env.PORT}` });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => reject(new Error(`service exited with ${code} before listening:\n${output}`)));
  });
}

/** Posts a round 1 of `task` whose brief carries `<task>-brief`, the fixtures' match string. */
async function postRound(serviceUrl: string, task: string, evaluationUrl: string) {
  const request = {
    ...(await loadTaskRequest("github-user-created-r1")),
    task,
    brief: `${task}-brief: a page with #ok`,
    checks: ["js: !!document.querySelector('#ok')"],
    secret: studentSecret,
    evaluation_url: evaluationUrl,
  } as Record<string, unknown>;
  const ack = await fetch(`${serviceUrl}/api/v1/tasks/ready`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request) });
  expect(ack.status).toBe(200);
  return { request, taskId: ((await ack.json()) as { task_id: string }).task_id };
}

describe.each(storeDialects)("crash and restart on $name", (dialect) => {
  let llm: FakeLlm | undefined;
  let receiver: CallbackReceiver | undefined;
  let database: TestDatabase | undefined;
  const children: ChildProcess[] = [];

  afterEach(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await llm?.close();
    await receiver?.close();
    await database?.cleanup();
  });

  it("a round killed during a slow model call finishes after restart, once", async () => {
    database = await dialect.databaseUrl();
    llm = await startFakeLlm({
      fixtures: [{ fixtures: [{ match: ["crash-restart-brief"], responses: [{ delay_ms: 60_000, files: { "index.html": page } }, { files: { "index.html": page } }] }] }],
    });
    receiver = await startCallbackReceiver();
    const env = serviceEnv(database, llm.url, await freePort(), { JOB_LEASE_SECONDS: "2", ROUND_DEADLINE_SECONDS: "120", PAGES_PORT: String(await freePort()) });

    const first = await startServiceProcess(env);
    children.push(first.child);
    const { request } = await postRound(first.url, "crash-restart", receiver.url);
    // Wait until the model call is in flight, then kill the process without any chance to clean up.
    const deadline = Date.now() + 20_000;
    while (!llm.requests.some((r) => r.fileProducing) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(llm.requests.filter((r) => r.fileProducing)).toHaveLength(1);
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));

    const second = await startServiceProcess(env);
    children.push(second.child);
    const report = await receiver.waitFor((r) => r.body.nonce === request.nonce, 60_000);
    // A late duplicate would show up in this window.
    await new Promise((r) => setTimeout(r, 3000));
    expect(receiver.received.filter((r) => r.body.nonce === request.nonce)).toHaveLength(1);
    expect(llm.requests.filter((r) => r.fileProducing)).toHaveLength(2);

    const clone = await cloneAt(String(report.body.repo_url), String(report.body.commit_sha));
    try {
      expect(await git(clone.dir, "rev-list", "--count", "HEAD")).toBe("1");
      expect(await git(clone.dir, "rev-parse", "HEAD")).toBe(report.body.commit_sha);
    } finally {
      await clone.cleanup();
    }
    const tasks = await fetch(`${second.url}/api/v1/tasks?task=crash-restart`, { headers: apiKeyHeaders }).then((r) => r.json());
    const detail = await fetch(`${second.url}/api/v1/tasks/${tasks.items[0].id}`, { headers: apiKeyHeaders }).then((r) => r.json());
    const round = detail.rounds[0];
    expect(round.status).toBe("succeeded");
    expect(round.stages.find((s: { name: string }) => s.name === "analyze").attempt).toBe(1);
    expect(round.stages.find((s: { name: string }) => s.name === "build").attempt).toBe(2);
    second.child.kill("SIGTERM");
    await new Promise((r) => second.child.once("exit", r));
  });

  it("a live check cut off by a crash right after the report runs after restart", async () => {
    database = await dialect.databaseUrl();
    llm = await startFakeLlm({ fixtures: [{ fixtures: [{ match: ["live-resume-brief"], responses: [{ files: { "index.html": page } }] }] }] });
    receiver = await startCallbackReceiver();
    const env = serviceEnv(database, llm.url, await freePort(), { JOB_LEASE_SECONDS: "2", PAGES_PORT: String(await freePort()) });

    const first = await startServiceProcess(env);
    children.push(first.child);
    const { request, taskId } = await postRound(first.url, "live-resume", receiver.url);
    // Once the round has recorded its delivered report, the live check still waits out a grace
    // second: killed now, it never ran here. (Killed before the 200 was recorded, the round
    // would report again after restart: a report counts as delivered once acknowledged.)
    await receiver.waitFor((r) => r.body.nonce === request.nonce, 60_000);
    for (let i = 0; i < 500; i++) {
      const detail = await fetch(`${first.url}/api/v1/tasks/${taskId}`, { headers: apiKeyHeaders }).then((r) => r.json());
      if (detail.rounds[0].status === "succeeded") break;
      await new Promise((r) => setTimeout(r, 10));
    }
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));

    const restartedAt = Date.now();
    const second = await startServiceProcess(env);
    children.push(second.child);
    let round: { live_check: { passed: boolean } | null; stages: { name: string; status: string; started_at: string }[] } | undefined;
    for (let i = 0; i < 300 && !round?.live_check; i++) {
      await new Promise((r) => setTimeout(r, 100));
      round = (await fetch(`${second.url}/api/v1/tasks/${taskId}`, { headers: apiKeyHeaders }).then((r) => r.json())).rounds[0];
    }
    expect(round?.live_check).toMatchObject({ passed: true });
    const stage = round!.stages.find((s) => s.name === "live-check")!;
    expect(stage.status).toBe("succeeded");
    expect(Date.parse(stage.started_at)).toBeGreaterThanOrEqual(restartedAt);
    // Still one report: resuming the live check does not touch the delivered round.
    expect(receiver.received.filter((r) => r.body.nonce === request.nonce)).toHaveLength(1);
    second.child.kill("SIGTERM");
    await new Promise((r) => second.child.once("exit", r));
  });
});
