import { describe, expect, it } from "vitest";
import { storeFileTree } from "../domain/files.ts";
import type { TaskRequest } from "../domain/task.ts";
import type { BriefwrightEvent } from "../events/event-map.ts";
import { createInProcessEventBus } from "../events/in-process-event-bus.ts";
import type { Clock } from "../ports/clock.ts";
import type { Forge, PagesStatus } from "../ports/forge.ts";
import { deploy } from "./deploy-stage.ts";
import { RoundBudget } from "./round-budget.ts";

/** Time that moves only by the stage's own sleeps. */
function manualClock(start = 1_800_000_000_000): Clock & { sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return { now: () => now, sleep: async (ms) => void (sleeps.push(ms), (now += ms)), sleeps };
}

/** A forge whose Pages build answers from a script; everything else succeeds at once. */
function scriptedForge(statuses: () => PagesStatus): Forge & { enabled: string[] } {
  const enabled: string[] = [];
  return {
    kind: "scripted",
    version: 2,
    capabilities: { pagesBuildTypes: ["legacy"], mayRenameRepositories: false, pagesPropagates: true, runsWorkflows: false },
    enabled,
    preflight: async () => ({ ok: true, identity: "scripted", owner: "o", may: { createRepositories: "yes", writeContents: "yes", managePages: "yes", writeWorkflows: "yes" }, problems: [] }),
    ensureRepository: async (name) => ({ name, repoUrl: `https://github.com/o/${name}`, pagesUrl: `https://o.github.io/${name}/`, defaultBranch: "main" }),
    readFiles: async () => undefined,
    commitFiles: async () => ({ commitSha: "a".repeat(40), created: true }),
    enablePages: async (_name, options) => void enabled.push(options?.buildType ?? "legacy"),
    pagesStatus: async () => statuses(),
  };
}

const request: TaskRequest = { email: "e@example.com", task: "t", round: 1, nonce: "n", brief: "A page.", checks: [], evaluationUrl: "http://127.0.0.1:9/", attachments: [] };
const index = Buffer.from("<p>this commit</p>\n");
const files = storeFileTree(new Map([["index.html", index]]));

function run(forge: Forge, clock: ReturnType<typeof manualClock>, host: () => Response, budgetMs: number) {
  const events: BriefwrightEvent[] = [];
  const bus = createInProcessEventBus(clock);
  bus.subscribe((event) => events.push(event));
  const fetched: string[] = [];
  const fetchStub = (async (url: URL | string) => (fetched.push(String(url)), host())) as typeof fetch;
  const result = deploy(
    { roundId: "r", repoName: "site", request, files, budget: new RoundBudget(clock.now() + budgetMs, clock), reportReserveMs: 5_000 },
    { forge, events: bus, clock, fetch: fetchStub, settings: { gitAuthor: { name: "b", email: "b@example.com" } } },
  );
  return { result, events, fetched };
}

describe("deploy stage: the Pages wait as poll steps", () => {
  it("reports anyway when the budget runs out while Pages is still building, and records it as propagating", async () => {
    const clock = manualClock();
    const forge = scriptedForge(() => ({ state: "building", detail: "the Pages build is building", retryAfterMs: 2000 }));
    const { result, events, fetched } = run(forge, clock, () => new Response("old"), 20_000);
    const deployed = await result;
    expect(deployed.pages).toMatchObject({ buildType: "legacy", state: "propagating", detail: "the Pages build is building" });
    // It stopped while the report reserve (5 s) still fitted, never sleeping past the budget.
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(15_000);
    expect(deployed.pages!.polls).toBeGreaterThan(1);
    expect(fetched).toEqual([]);
    expect(events.find((event) => event.name === "pages-wait")?.payload).toMatchObject({ live: false, state: "propagating" });
  });

  it("once built, polls the host with a fresh cache-busting query until it serves this commit's index.html", async () => {
    const clock = manualClock();
    const forge = scriptedForge(() => ({ state: "built" }));
    let hostPolls = 0;
    const { result, fetched } = run(forge, clock, () => (++hostPolls < 3 ? new Response("<p>last round</p>\n") : new Response(index)), 600_000);
    const deployed = await result;
    expect(deployed.pages).toMatchObject({ state: "live", polls: 3 });
    expect(new Set(fetched).size).toBe(3);
    for (const url of fetched) expect(new URL(url).searchParams.get("briefwright-poll")).toMatch(/^a{12}-\d$/);
    expect(forge.enabled).toEqual(["legacy"]);
  });

  it("stops at a failed build without spending the budget", async () => {
    const clock = manualClock();
    const forge = scriptedForge(() => ({ state: "failed", reason: "the Pages build errored (x) after 3 requests" }));
    const deployed = await run(forge, clock, () => new Response(index), 600_000).result;
    expect(deployed.pages).toMatchObject({ state: "failed", detail: "the Pages build errored (x) after 3 requests", polls: 1 });
    expect(clock.sleeps).toEqual([]);
  });
});
