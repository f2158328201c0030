import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitHubForge } from "../../src/adapters/forge/github/github-forge.ts";
import { storeFileTree } from "../../src/domain/files.ts";
import type { TaskRequest } from "../../src/domain/task.ts";
import type { BriefwrightEvent } from "../../src/events/event-map.ts";
import { createInProcessEventBus } from "../../src/events/in-process-event-bus.ts";
import { deploy } from "../../src/pipeline/deploy-stage.ts";
import { RoundBudget } from "../../src/pipeline/round-budget.ts";
import { systemClock } from "../../src/ports/clock.ts";
import type { Forge } from "../../src/ports/forge.ts";
import { startGitHubDouble, type GitHubDouble } from "../support/github-double/start-github-double.ts";

/**
 * Done-when 4 of issue 10: a commit whose workflow deploys Pages switches the site to workflow
 * builds before the push, and the deploy stage waits for that workflow's run of the commit —
 * reporting its success once the host serves the site, or its failure (conclusion and log URL
 * recorded) without waiting out the budget.
 */
const ORG = "course-org";

const workflow = `name: Publish
on: [push]
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/upload-pages-artifact@v3
        with:
          path: site
      - uses: actions/deploy-pages@v4
`;

describe("deploy stage with the GitHub forge: Pages built by a workflow", () => {
  let double: GitHubDouble;
  let forge: Forge;
  let mirrors: string;
  const events: BriefwrightEvent[] = [];
  const bus = createInProcessEventBus(systemClock);
  bus.subscribe((event) => events.push(event));

  beforeAll(async () => {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    double = await startGitHubDouble({
      accounts: [{ login: ORG, type: "Organization" }],
      app: { id: 7, publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(), installations: [{ id: 70, account: ORG }] },
      actionsDelayMs: 1500,
    });
    mirrors = await mkdtemp(join(tmpdir(), "briefwright-workflow-mirrors-"));
    forge = createGitHubForge({
      apiUrl: double.apiUrl,
      pagesBase: double.pagesBaseFor(ORG),
      owner: ORG,
      auth: { kind: "app", appId: "7", privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), installationId: 70 },
      mirrorsDir: mirrors,
    });
  });
  afterAll(async () => {
    await double?.close();
    if (mirrors) await rm(mirrors, { recursive: true, force: true });
  });

  const request = (task: string): TaskRequest => ({
    email: "student@example.com",
    task,
    round: 1,
    nonce: `${task}-nonce`,
    brief: "Publish the report the workflow builds.",
    checks: [],
    evaluationUrl: "http://127.0.0.1:9/notify",
    attachments: [],
  });

  const files = (page: string) =>
    storeFileTree(
      new Map([
        [".github/workflows/pages.yml", Buffer.from(workflow)],
        ["site/index.html", Buffer.from(page)],
        ["index.html", Buffer.from("<p>repository root, not the published site</p>\n")],
      ]),
    );

  const run = (name: string, page: string, budgetMs: number) =>
    deploy(
      { roundId: `round-${name}`, repoName: name, request: request(name), files: files(page), budget: new RoundBudget(Date.now() + budgetMs, systemClock), reportReserveMs: 1000 },
      { forge, events: bus, clock: systemClock, fetch: globalThis.fetch, settings: { gitAuthor: { name: "briefwright", email: "briefwright@example.com" } } },
    );

  it("switches the site to workflow builds and waits for the run's success and the published site", async () => {
    const result = await run("workflow-ok", "<p>published by the workflow</p>\n", 120_000);
    expect(double.control.repository(ORG, "workflow-ok")?.pages?.buildType).toBe("workflow");
    const runs = double.state.workflowRuns.filter((r) => r.headSha === result.commitSha);
    expect(runs).toHaveLength(1);
    expect(result.pages).toMatchObject({
      buildType: "workflow",
      state: "live",
      workflowRun: { id: runs[0]!.id, conclusion: "success", htmlUrl: expect.stringMatching(/^https:\/\/github\.com\/course-org\/workflow-ok\/actions\/runs\/\d+$/) },
    });
    // It waited: the run had completed before the stage returned, and the host serves the artifact.
    expect(runs[0]!.status).toBe("completed");
    const page = await fetch(`${result.pagesUrl}?after=1`).then((response) => response.text());
    expect(page).toBe("<p>published by the workflow</p>\n");
    // No legacy build was ever requested for a workflow site.
    expect(double.control.requestsTo(`/repos/${ORG}/workflow-ok/pages/builds`, "POST")).toHaveLength(0);
  }, 120_000);

  it("records a failed run's conclusion and log URL and returns at once instead of waiting out the budget", async () => {
    double.control.queueActionsOutcome({ conclusion: "failure", log: "ruff: 3 errors\n" });
    const result = await run("workflow-fails", "<p>never published</p>\n", 600_000);
    const runs = double.state.workflowRuns.filter((r) => r.headSha === result.commitSha);
    expect(runs.map((r) => r.conclusion)).toEqual(["failure"]);
    expect(result.pages?.state).toBe("failed");
    expect(result.pages?.workflowRun).toMatchObject({ id: runs[0]!.id, conclusion: "failure", logsUrl: expect.stringMatching(/\/actions\/runs\/\d+\/logs$/) });
    expect(result.pages?.detail).toMatch(/concluded failure/);
    // The log URL leads to the run's log.
    const log = await fetch(String(result.pages?.workflowRun?.logsUrl).replace("https://api.github.com", double.apiUrl), {
      headers: { authorization: `token ${double.state.installationTokensIssued.at(-1)!.token}` },
    }).then((response) => response.text());
    expect(log).toContain("ruff: 3 errors");
    const waited = events.find((event) => event.name === "pages-wait" && event.roundId === "round-workflow-fails");
    expect(waited?.payload).toMatchObject({ state: "failed", live: false, buildType: "workflow", workflowRun: { conclusion: "failure" } });
  }, 120_000);
});
