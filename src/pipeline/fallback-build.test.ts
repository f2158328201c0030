import { describe, expect, it } from "vitest";
import { AllProvidersFailedError, DeadlineExceededError, GenerationParseError, LanguageModelError, StoreError } from "../domain/errors.ts";
import { loadFileTree } from "../domain/files.ts";
import type { TaskRequest } from "../domain/task.ts";
import type { Build, BuildAttempt } from "./build-stage.ts";
import { GateRejectedError } from "./build-stage.ts";
import { fallbackBuild, outcomeOf, publicReason, worthAnotherBuild, type FallbackInput } from "./fallback-build.ts";
import { RoundBudget } from "./round-budget.ts";
import type { Clock } from "../ports/clock.ts";

const studentSecret = "student-secret-value-123";

function request(overrides: Partial<TaskRequest> = {}): TaskRequest {
  return {
    email: "s@example.com",
    task: "shares-<b>&co",
    round: 1,
    nonce: "n1",
    brief: "Show the share count from data.json in #shares.\nUse <strong> for the number.",
    checks: [],
    evaluationUrl: "https://evaluator.example/notify",
    attachments: [],
    ...overrides,
  };
}

const csv = Buffer.from("a,b\n1,2\n");
const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]);

function input(overrides: Partial<FallbackInput> = {}): FallbackInput {
  return {
    request: request(),
    attachments: [
      { name: "data.csv", mimeType: "text/csv", bytes: csv.length, base64: csv.toString("base64") },
      { name: "logo.png", mimeType: "image/png", bytes: png.length, base64: png.toString("base64") },
    ],
    rounds: [{ round: 1, brief: request().brief }],
    repoUrl: "http://127.0.0.1:1/git/shares",
    pagesUrl: "http://127.0.0.1:1/pages/shares/",
    licenseHolder: "Student",
    acceptedAt: Date.UTC(2025, 9, 1),
    knownSecrets: [studentSecret],
    why: { code: "generation-unparseable", reason: "the model's answers could not be read as an app: no JSON object" },
    ...overrides,
  };
}

describe("publicReason", () => {
  it.each([
    [new GenerationParseError("the model's answer could not be used twice in a row: no JSON"), "generation-unparseable", /^the model's answers could not be read as an app: the model's answer could not be used/],
    [new GateRejectedError("the safety gate blocked every answer; last: secret-scan (app.js): …", []), "gate-rejected", /^the safety gate blocked every answer the model gave: /],
    [new LanguageModelError("none", "no language model is configured (set LLM_BACKEND and VLLM_ENDPOINT)"), "llm-not-configured", /^no language model is configured: /],
    [new AllProvidersFailedError("vllm", [new LanguageModelError("vllm", "HTTP 503", { isRetryable: true })]), "llm-all-failed", /^no language model provider answered: /],
    [new DeadlineExceededError("no time left: 0 ms remain"), "deadline-exceeded", /^the round's time ran out before an app was built: no time left/],
    [new StoreError("insert failed"), "store-failed", /^the build failed: insert failed$/],
    [new TypeError("x is not a function"), "internal", /^the build failed: x is not a function$/],
  ])("names %s by its code and a sentence", (error, code, reason) => {
    const why = publicReason(error, []);
    expect(why.code).toBe(code);
    expect(why.reason).toMatch(reason);
  });

  it("keeps only the first line, masks configured secrets and shortens long messages", () => {
    const error = new Error(`provider said: bad key ${studentSecret} rejected\n    at callModel (/app/src/pipeline/call-model.ts:10:5)`);
    const why = publicReason(error, [studentSecret]);
    expect(why.reason).toBe("the build failed: provider said: bad key [redacted] rejected");
    expect(why.reason).not.toContain("call-model.ts");
    const long = publicReason(new Error("x".repeat(2000)), []);
    expect(long.reason.length).toBeLessThan(400);
    expect(long.reason.endsWith("…")).toBe(true);
  });
});

describe("fallbackBuild", () => {
  it("round 1: attachments byte for byte, LICENSE, a README saying what was asked and why, and a notice page", async () => {
    const built = await fallbackBuild(input());
    const files = loadFileTree(built.files);
    expect([...files.keys()].sort()).toEqual([".nojekyll", "LICENSE", "README.md", "data.csv", "index.html", "logo.png"]);
    expect(files.get("data.csv")!.equals(csv)).toBe(true);
    expect(files.get("logo.png")!.equals(png)).toBe(true);
    expect(files.get("LICENSE")!.toString()).toMatch(/^MIT License\n\nCopyright \(c\) 2025 Student\n[\s\S]*is hereby granted/);
    const readme = files.get("README.md")!.toString();
    expect(readme).toContain("**No app was built.** Why: the model's answers could not be read as an app: no JSON object.");
    expect(readme).toContain("> Show the share count from data.json in #shares.\n> Use <strong> for the number.");
    expect(readme).toContain("(generation-unparseable)");
    const html = files.get("index.html")!.toString();
    // The brief and the task name are shown as text, never as markup.
    expect(html).toContain("<title>shares-&#60;b&#62;&#38;co</title>");
    expect(html).toContain("Use &#60;strong&#62; for the number.");
    expect(html).toContain('<a href="data.csv">data.csv</a>');
    expect(built).toMatchObject({ attempts: [], chosenAttempt: 0, fallback: { code: "generation-unparseable", withheld: [] } });
  });

  it("round N: keeps the repository as it stands and changes only the README", async () => {
    const current = new Map([
      ["index.html", Buffer.from("<!doctype html><title>App</title><p id=shares>1</p>")],
      ["app.js", Buffer.from("console.log(1)")],
      ["LICENSE", Buffer.from("old licence")],
      ["README.md", Buffer.from("# old")],
    ]);
    const built = await fallbackBuild(
      input({
        request: request({ round: 2, brief: "Add a chart." }),
        attachments: [],
        current,
        rounds: [
          { round: 1, brief: "Show the shares." },
          { round: 2, brief: "Add a chart." },
        ],
      }),
    );
    const files = loadFileTree(built.files);
    expect([...files.keys()].sort()).toEqual([".nojekyll", "LICENSE", "README.md", "app.js", "index.html"]);
    expect(files.get("index.html")).toEqual(current.get("index.html"));
    expect(files.get("app.js")).toEqual(current.get("app.js"));
    expect(files.get("LICENSE")!.toString()).toContain("is hereby granted");
    const readme = files.get("README.md")!.toString();
    expect(readme).toContain("**Round 2's changes were not made; the app is as round 1 left it.**");
    expect(readme).toContain("### Round 1\n\nShow the shares.");
  });

  it("leaves out a file the secret scan flags instead of committing it", async () => {
    const leaky = Buffer.from(`token=${studentSecret}\n`);
    const built = await fallbackBuild(
      input({ attachments: [{ name: "config.txt", mimeType: "text/plain", bytes: leaky.length, base64: leaky.toString("base64") }] }),
    );
    expect(Object.keys(built.files).sort()).toEqual([".nojekyll", "LICENSE", "README.md", "index.html"]);
    expect(built.fallback?.withheld).toEqual(["config.txt"]);
    const readme = Buffer.from(built.files["README.md"]!, "base64").toString();
    expect(readme).toContain("Left out because they look like they hold a secret: config.txt.");
    expect(readme).not.toContain("`config.txt`");
    expect(Buffer.from(built.files["index.html"]!, "base64").toString()).not.toContain("config.txt");
  });
});

describe("outcomeOf", () => {
  const attempt = (n: number, verdict: BuildAttempt["verdict"]): BuildAttempt => ({
    attempt: n,
    purpose: "generate",
    outcome: verdict && !verdict.passed ? "checks-failed" : "accepted",
    reason: null,
    gate: [],
    changed: [],
    verdict,
  });
  const check = (id: string, passed: boolean, blocking = true) => ({ id, kind: "js" as const, origin: "current" as const, passed, blocking, label: `check ${id}`, detail: null });
  const build = (attempts: BuildAttempt[], chosenAttempt: number, fallback?: Build["fallback"]): Build => ({
    files: {},
    editableAttachments: [],
    attempts,
    chosenAttempt,
    derived: [],
    fetched: [],
    ...(fallback ? { fallback } : {}),
  });

  it("a passing or unverified candidate is a full build", () => {
    const passing = { passed: true, score: 2, total: 2, durationMs: 1, checks: [check("a", true), check("b", true), check("d", false, false)], pageErrors: [] };
    expect(outcomeOf(build([attempt(1, passing)], 1))).toEqual({ kind: "built", reason: null });
    expect(outcomeOf(build([attempt(1, null)], 1))).toEqual({ kind: "built", reason: null });
  });

  it("the chosen candidate failing blocking checks is best-effort, naming them", () => {
    const failing = { passed: false, score: 1, total: 3, durationMs: 1, checks: [check("a", true), check("b", false), check("c", false), check("d", false, false)], pageErrors: [] };
    const passing = { ...failing, passed: true, score: 3 };
    const outcome = outcomeOf(build([attempt(1, passing), attempt(2, failing)], 2));
    expect(outcome).toEqual({ kind: "best-effort", reason: "no candidate passed every check; the best passes 1 of 3 (failing: check b; check c)" });
    expect(outcomeOf(build([attempt(1, failing), attempt(2, passing)], 2)).kind).toBe("built");
  });

  it("a fallback is a fallback, with its reason", () => {
    expect(outcomeOf(build([], 0, { code: "gate-rejected", reason: "the safety gate blocked every answer the model gave", withheld: [] }))).toEqual({
      kind: "fallback",
      reason: "the safety gate blocked every answer the model gave",
    });
  });
});

describe("worthAnotherBuild", () => {
  // A fixed clock: the budget is whatever the deadline says, no time passes.
  const clock: Clock = { now: () => 1_000_000, sleep: async () => undefined };
  const budget = (leftMs: number) => new RoundBudget(1_000_000 + leftMs, clock);
  const outage = new AllProvidersFailedError("vllm", [new LanguageModelError("vllm", "HTTP 503", { isRetryable: true })]);
  const base = { spentMs: 30_000, budget: budget(300_000), reserveMs: 60_000, attempt: 1, maxAttempts: 5 };

  it("retries a model outage while another try of the same length fits before the reserve", () => {
    expect(worthAnotherBuild(outage, base)).toBe(true);
    // 60 s reserve + 30 s try + 2 s pause + 5 s slack = 97 s: just over and just under.
    expect(worthAnotherBuild(outage, { ...base, budget: budget(97_001) })).toBe(true);
    expect(worthAnotherBuild(outage, { ...base, budget: budget(97_000) })).toBe(false);
  });

  it("does not retry on the job's last attempt", () => {
    expect(worthAnotherBuild(outage, { ...base, attempt: 5 })).toBe(false);
    expect(worthAnotherBuild(outage, { ...base, attempt: 2, maxAttempts: undefined })).toBe(false);
    expect(worthAnotherBuild(outage, { ...base, attempt: 1, maxAttempts: undefined })).toBe(true);
  });

  it.each([
    ["unreadable answers", new GenerationParseError("twice")],
    ["a gate that blocked everything", new GateRejectedError("blocked", [])],
    ["no model configured", new LanguageModelError("none", "no language model is configured")],
    ["a refused request", new LanguageModelError("vllm", "HTTP 400", { isRetryable: false })],
    ["no time left", new DeadlineExceededError("no time left")],
  ])("never retries %s: it ships the fallback", (_, error) => {
    expect(worthAnotherBuild(error, base)).toBe(false);
  });
});
