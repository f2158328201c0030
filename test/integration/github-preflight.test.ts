import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitHubForge, type GitHubForgeSettings } from "../../src/adapters/forge/github/github-forge.ts";
import { startGitHubDouble, type GitHubDouble } from "../support/github-double/start-github-double.ts";

/** The preflight's answers for the credentials students get wrong, against the GitHub double. */
describe("GitHub forge preflight", () => {
  let double: GitHubDouble;
  let mirrors: string;
  let privateKey: string;

  beforeAll(async () => {
    const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    privateKey = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    double = await startGitHubDouble({
      accounts: [{ login: "course-org", type: "Organization" }, { login: "student" }, { login: "someone-else" }],
      app: {
        id: 5,
        slug: "briefwright-app",
        publicKey: pair.publicKey.export({ type: "spki", format: "pem" }).toString(),
        installations: [
          { id: 50, account: "course-org", permissions: { administration: "write", contents: "write", pages: "write", metadata: "read" } },
          { id: 51, account: "student" },
        ],
      },
    });
    mirrors = await mkdtemp(join(tmpdir(), "briefwright-preflight-"));
  });
  afterAll(async () => {
    await double?.close();
    if (mirrors) await rm(mirrors, { recursive: true, force: true });
  });

  const forge = (owner: string, auth: GitHubForgeSettings["auth"]) => createGitHubForge({ apiUrl: double.apiUrl, owner, auth, mirrorsDir: mirrors, retries: 0 });

  it("names an App installation's missing workflows permission in one line", async () => {
    const result = await forge("course-org", { kind: "app", appId: "5", privateKey, installationId: undefined }).preflight();
    expect(result).toMatchObject({ ok: false, owner: "course-org", may: { createRepositories: "yes", writeContents: "yes", managePages: "yes", writeWorkflows: "no" } });
    expect(result.identity).toBe("GitHub App briefwright-app (installation 50 on course-org)");
    expect(result.problems).toEqual([expect.stringMatching(/^GitHub App briefwright-app lacks the "Workflows: read and write" permission/)]);
  });

  it("flags an App installed on a personal account: GitHub lets Apps create repositories only in organisations", async () => {
    const result = await forge("student", { kind: "app", appId: "5", privateKey, installationId: undefined }).preflight();
    expect(result.may.createRepositories).toBe("no");
    expect(result.problems[0]).toMatch(/installed on the personal account student: .* only in an organisation/);
  });

  it("says a fine-grained token's permissions are unknown, and a token for another user cannot create the owner's repositories", async () => {
    const fineGrained = double.control.issuePersonalToken({ login: "student", permissions: { contents: "write", administration: "write" } });
    const own = await forge("student", { kind: "token", token: fineGrained }).preflight();
    expect(own).toMatchObject({ ok: true, may: { createRepositories: "unknown", writeWorkflows: "unknown" }, problems: [] });
    expect(own.identity).toMatch(/^user student \(fine-grained/);

    const classic = double.control.issuePersonalToken({ login: "student", scopes: ["repo", "workflow"] });
    const elsewhere = await forge("someone-else", { kind: "token", token: classic }).preflight();
    expect(elsewhere.may.createRepositories).toBe("no");
    expect(elsewhere.problems).toEqual([expect.stringMatching(/^GITHUB_USERNAME \(someone-else\) is neither the token's user \(student\) nor an organisation/)]);
  });

  it("reports refused credentials as a problem, never as a throw", async () => {
    const result = await forge("student", { kind: "token", token: "ghp_not_a_real_token_0000000000000000" }).preflight();
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(["GITHUB_TOKEN: GitHub refused the credentials (401 Bad credentials)"]);
  });
});
