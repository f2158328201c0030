import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitClient, type GitClient } from "./git-client.ts";
import { manualClock } from "./manual-clock.ts";
import { startGitHubDouble, type GitHubDouble } from "./start-github-double.ts";

describe("GitHub double on a fake clock", () => {
  const time = manualClock();
  let double: GitHubDouble;
  let client: GitClient;
  let token: string;

  beforeAll(async () => {
    double = await startGitHubDouble({ clock: time.clock, pagesBuildDelayMs: 3000, actionsDelayMs: 60_000 });
    token = double.control.issuePersonalToken({
      login: "octo-student",
      scopes: ["repo", "workflow"],
      expiresAt: time.clock.now() + 3_600_000,
    });
    client = await createGitClient();
  });
  afterAll(async () => {
    await client?.remove();
    await double?.close();
  });

  it("finishes a 3 s Pages build and a one-minute run only when the clock says so", async () => {
    const auth = { authorization: `token ${token}`, "content-type": "application/json" };
    await fetch(`${double.apiUrl}/user/repos`, { method: "POST", headers: auth, body: JSON.stringify({ name: "clocked" }) });
    await client.commit({ "index.html": "tick\n", ".github/workflows/ci.yml": "name: ci\non: push\n" });
    await client.push(`${double.apiUrl}/octo-student/clocked.git`, token);
    const enabled = await fetch(`${double.apiUrl}/repos/octo-student/clocked/pages`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ source: { branch: "main", path: "/" } }),
    });
    expect(enabled.status).toBe(201);
    const [build] = double.state.pagesBuilds;
    const [run] = double.state.workflowRuns;
    expect(build?.status).toBe("queued");
    expect(run?.status).toBe("queued");

    await time.advance(2999);
    expect(build?.status).toBe("building");
    expect(run?.status).toBe("in_progress");
    expect((await fetch(`${double.pagesBase}/clocked/`)).status).toBe(404);

    await time.advance(1);
    expect(build?.status).toBe("built");
    expect(build?.createdAt).toBe("2026-01-01T00:00:00Z");
    expect(await (await fetch(`${double.pagesBase}/clocked/`)).text()).toBe("tick\n");
    expect(run?.status).toBe("in_progress");

    await time.advance(57_000);
    await double.control.waitFor(() => run?.status === "completed");
    expect(run?.conclusion).toBe("success");
  });

  it("lets a token expire when the clock passes its expiry", async () => {
    const user = () => fetch(`${double.apiUrl}/user`, { headers: { authorization: `token ${token}` } });
    expect((await user()).status).toBe(200);
    await time.advance(3_600_000);
    expect((await user()).status).toBe(401);
  });
});
