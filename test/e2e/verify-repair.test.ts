import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { storeDialects } from "../support/store-dialects.ts";
import { sharedFixtures, startHarness, type Harness } from "../support/service-harness.ts";

// Done-when 2–5 of the verify-before-deploy issue: real Chromium, scripted model, real deploys.
// A failing check polls until its timeout, as the evaluator's would; 3 s keeps these tests short.
const fastChecks = { CHECK_TIMEOUT_SECONDS: "3" };
const dialect = storeDialects[0]!;
const reference = JSON.parse(await readFile(join(sharedFixtures, "llm", "sum-of-sales.json"), "utf8"));
const round2Html: string = reference.fixtures[0].responses[0].files["index.html"];

const page = (body: string, script = "") =>
  `<!doctype html>\n<html lang="en">\n<head>\n  <meta charset="utf-8">\n  <title>Counter</title>\n</head>\n<body>\n${body}\n  <script>\n${script}\n  </script>\n</body>\n</html>\n`;
const counterOk = page('  <p>Count: <span id="count">0</span></p>', '    document.querySelector("#count").textContent = String(6 * 7);');
const counterWrong = page('  <p>Count: <span id="count">0</span></p>', '    document.querySelector("#count").textContent = String(6 * 7 - 1);');
const counterThrows = page('  <p>Count: <span id="count">0</span></p>', '    document.querySelector("#count").textContent = String(6 * 7);\n    throw new Error("boom-on-load 7c1");');

const counterRequest = {
  task: "counter-check",
  brief: "counter-brief: show the answer 42 inside #count.",
  checks: ["js: document.querySelector('#count').textContent === '42'"],
  attachments: [],
};

async function runRound(harness: Harness, name: string, overrides: Record<string, unknown>) {
  const request = await harness.request(name, overrides);
  const started = Date.now();
  const ack = await harness.post(request);
  expect(ack.status).toBe(200);
  const report = await harness.receiver.waitFor((r) => r.body.nonce === request.nonce, 60_000);
  const round = (await harness.get(`/api/v1/tasks/${ack.body.task_id}`)).body.rounds.find((r: { nonce: string }) => r.nonce === request.nonce);
  return { report: report.body as Record<string, string>, round, elapsedMs: report.at - started };
}

const fileRequests = (harness: Harness) => harness.llm.requests.filter((r) => r.fileProducing);

describe(`verify and repair on ${dialect.name}`, () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  it("a first answer that fails a JS check is repaired once and the second is deployed", async () => {
    harness = await startHarness({ dialect, fixtures: [{ fixtures: [{ match: ["counter-brief"], responses: [{ files: { "index.html": counterWrong } }, { files: { "index.html": counterOk } }] }] }], env: fastChecks });
    const { report, round } = await runRound(harness, "github-user-created-r1", counterRequest);
    const calls = fileRequests(harness);
    expect(calls.map((c) => (c.body as { messages: { content: string }[] }).messages.length > 0 && c.delivery)).toEqual(["files-json", "edit-blocks"]);
    expect(round.build.attempts.map((a: { purpose: string; outcome: string }) => `${a.purpose}:${a.outcome}`)).toEqual(["generate:checks-failed", "repair:accepted"]);
    const [first, second] = round.build.attempts;
    const failed = first.verdict.checks.find((c: { kind: string }) => c.kind === "js");
    expect(failed).toMatchObject({ passed: false });
    expect(failed.detail).toMatch(/falsy/);
    expect(second.verdict).toMatchObject({ passed: true });
    expect(round.build.chosen_attempt).toBe(2);
    // The repair request showed the model what failed.
    expect(JSON.stringify(calls[1]!.body)).toContain("document.querySelector('#count').textContent === '42'");
    expect(JSON.stringify(calls[1]!.body)).toContain(">41</span>");
    expect(await fetch(report.pages_url!).then((r) => r.text())).toBe(counterOk);
  });

  it("a page that throws on load is reported with the error text and repaired", async () => {
    harness = await startHarness({ dialect, fixtures: [{ fixtures: [{ match: ["counter-brief"], responses: [{ files: { "index.html": counterThrows } }, { files: { "index.html": counterOk } }] }] }] });
    const { report, round } = await runRound(harness, "github-user-created-r1", counterRequest);
    const pageCheck = round.build.attempts[0].verdict.checks.find((c: { id: string }) => c.id === "page");
    expect(pageCheck.passed).toBe(false);
    expect(pageCheck.detail).toContain("boom-on-load 7c1");
    expect(round.build.attempts[0].verdict.pageErrors.join()).toContain("boom-on-load 7c1");
    expect(JSON.stringify(fileRequests(harness)[1]!.body)).toContain("boom-on-load 7c1");
    expect(round.build.attempts[1].outcome).toBe("accepted");
    expect(await fetch(report.pages_url!).then((r) => r.text())).toBe(counterOk);
  });

  it("a round 2 that breaks a round-1 check is caught by the regression run and repaired", async () => {
    const broken = round2Html.replace('      document.querySelector("#total-sales").textContent = total.toFixed(2);\n', "");
    expect(broken).not.toBe(round2Html);
    harness = await startHarness({
      dialect,
      fixtures: [
        { fixtures: [{ match: ["#product-sales"], responses: [{ files: { "index.html": broken } }, { files: { "index.html": round2Html } }] }] },
        join(sharedFixtures, "llm", "sum-of-sales.json"),
      ],
      env: fastChecks,
    });
    await runRound(harness, "sum-of-sales-r1", {});
    const { report, round } = await runRound(harness, "sum-of-sales-r2", {});
    const [first, second] = round.build.attempts;
    expect(first.outcome).toBe("checks-failed");
    const regression = first.verdict.checks.filter((c: { origin: string; passed: boolean }) => c.origin === "earlier" && !c.passed);
    expect(regression.map((c: { label: string }) => c.label).join()).toContain("#total-sales");
    // This round's own checks passed on the broken answer: only the regression run caught it.
    expect(first.verdict.checks.filter((c: { origin: string; kind: string; passed: boolean }) => c.origin === "current" && c.kind === "js").every((c: { passed: boolean }) => c.passed)).toBe(true);
    expect(second).toMatchObject({ purpose: "repair", outcome: "accepted" });
    expect(await fetch(report.pages_url!).then((r) => r.text())).toBe(round2Html);
  });

  it("with a 45 s deadline and a model too slow to keep repairing, the best candidate is deployed and reported in time", async () => {
    harness = await startHarness({
      dialect,
      fixtures: [{ fixtures: [{ match: ["counter-brief"], responses: [{ delay_ms: 8000, files: { "index.html": counterWrong } }] }] }],
      env: { ROUND_DEADLINE_SECONDS: "45", CHECK_TIMEOUT_SECONDS: "3" },
    });
    const { report, round, elapsedMs } = await runRound(harness, "github-user-created-r1", counterRequest);
    expect(elapsedMs).toBeLessThan(45_000);
    expect(report.commit_sha).toMatch(/^[0-9a-f]{40}$/);
    const outcomes = round.build.attempts.map((a: { outcome: string }) => a.outcome);
    expect(outcomes.every((o: string) => o === "checks-failed")).toBe(true);
    expect(outcomes.length).toBeGreaterThanOrEqual(1);
    // Later wins ties: the last candidate is the one deployed.
    expect(round.build.chosen_attempt).toBe(round.build.attempts.at(-1).attempt);
    const stop = round.events.find((e: { name: string }) => e.name === "repair-stop");
    expect(stop.data.reason).toMatch(/budget|model call ended/);
    expect(round.budget.total_ms).toBe(45_000);
    expect(round.status).toBe("succeeded");
  }, 90_000);
});
