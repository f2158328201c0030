import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitClient, type GitClient } from "./git-client.ts";
import { startGitHubDouble, type GitHubDouble } from "./start-github-double.ts";

const APP_ID = 4242;
const ORG = "course-org";
const INSTALLATION = 99;

/** An App JWT as @octokit/auth-app makes one: RS256, iat back-dated 30 s, exp 10 min after iat. */
function appJwt(privateKey: KeyObject, claims: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${encode({ alg: "RS256", typ: "JWT" })}.${encode({ iat: now - 30, exp: now - 30 + 600, iss: APP_ID, ...claims })}`;
  return `${unsigned}.${sign("RSA-SHA256", Buffer.from(unsigned), privateKey).toString("base64url")}`;
}

describe("GitHub double: App JWT, installations and installation tokens", () => {
  let double: GitHubDouble;
  let privateKey: KeyObject;
  let otherKey: KeyObject;
  let client: GitClient;

  beforeAll(async () => {
    const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    privateKey = pair.privateKey;
    otherKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    double = await startGitHubDouble({
      accounts: [{ login: ORG, type: "Organization" }, { login: "student" }],
      app: {
        id: APP_ID,
        slug: "briefwright-test",
        publicKey: pair.publicKey.export({ type: "spki", format: "pem" }).toString(),
        installations: [
          { id: INSTALLATION, account: ORG },
          { id: 100, account: "student", permissions: { contents: "write", metadata: "read" } },
        ],
      },
    });
    client = await createGitClient();
  });
  afterAll(async () => {
    await client?.remove();
    await double?.close();
  });

  async function api(method: string, path: string, auth?: string, body?: unknown) {
    const response = await fetch(`${double.apiUrl}${path}`, {
      method,
      headers: {
        ...(auth ? { authorization: auth } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }

  async function installationToken(id = INSTALLATION, body?: unknown): Promise<string> {
    const issued = await api("POST", `/app/installations/${id}/access_tokens`, `Bearer ${appJwt(privateKey)}`, body);
    expect(issued.status).toBe(201);
    return issued.body.token;
  }

  it("accepts a JWT signed with the App's key and refuses forged, expired, long-lived or foreign ones", async () => {
    const app = await api("GET", "/app", `Bearer ${appJwt(privateKey)}`);
    expect(app.status).toBe(200);
    expect(app.body).toMatchObject({ id: APP_ID, slug: "briefwright-test" });

    const forged = await api("GET", "/app", `Bearer ${appJwt(otherKey)}`);
    expect(forged.status).toBe(401);
    expect(forged.body.message).toBe("A JSON web token could not be decoded");
    const now = Math.floor(Date.now() / 1000);
    const expired = await api("GET", "/app", `Bearer ${appJwt(privateKey, { iat: now - 700, exp: now - 100 })}`);
    expect(expired.status).toBe(401);
    expect(expired.body.message).toMatch(/'Expiration time' claim/);
    const tooLong = await api("GET", "/app", `Bearer ${appJwt(privateKey, { iat: now, exp: now + 3600 })}`);
    expect(tooLong.status).toBe(401);
    expect(tooLong.body.message).toBe("'Expiration time' claim ('exp') is too far in the future");
    expect((await api("GET", "/app", `Bearer ${appJwt(privateKey, { iss: 1 })}`)).status).toBe(401);
    expect(double.state.jwts.filter((jwt) => !jwt.accepted).map((jwt) => jwt.reason)).toEqual([
      "bad signature",
      "expired",
      "lives longer than ten minutes",
      "iss is not the app id",
    ]);
    // A JWT is for /app routes only; an installation token does not open them.
    expect((await api("GET", "/user", `Bearer ${appJwt(privateKey)}`)).status).toBe(403);
    expect((await api("GET", "/app", `token ${await installationToken()}`)).status).toBe(401);
  });

  it("finds installations by account and issues expiring tokens with their permissions", async () => {
    const jwt = `Bearer ${appJwt(privateKey)}`;
    expect((await api("GET", `/orgs/${ORG}/installation`, jwt)).body).toMatchObject({ id: INSTALLATION, account: { login: ORG } });
    expect((await api("GET", "/users/student/installation", jwt)).body.id).toBe(100);
    expect((await api("GET", "/orgs/student/installation", jwt)).status).toBe(404);
    expect((await api("GET", "/app/installations/12345", jwt)).status).toBe(404);
    expect((await api("GET", `/orgs/${ORG}/installation`)).status).toBe(401);

    double.control.setInstallationTokenLifetime(10 * 60_000);
    const before = Date.now();
    const issued = await api("POST", `/app/installations/${INSTALLATION}/access_tokens`, jwt);
    expect(issued.status).toBe(201);
    expect(issued.body.token).toMatch(/^ghs_[A-Za-z0-9]{36}$/);
    expect(issued.body.permissions).toMatchObject({ contents: "write", pages: "write", workflows: "write", administration: "write" });
    const after = Date.now();
    // expires_at is in whole seconds, like GitHub's.
    const expiresAt = Date.parse(issued.body.expires_at);
    expect(expiresAt).toBeGreaterThan(before + 10 * 60_000 - 1000);
    expect(expiresAt).toBeLessThanOrEqual(after + 10 * 60_000);

    const narrowed = await api("POST", `/app/installations/${INSTALLATION}/access_tokens`, jwt, { permissions: { contents: "read" } });
    expect(narrowed.body.permissions).toEqual({ contents: "read" });
    const greedy = await api("POST", "/app/installations/100/access_tokens", jwt, { permissions: { pages: "write" } });
    expect(greedy.status).toBe(422);
  });

  it("lets an installation token create org repositories, not user ones, and refuses it once expired", async () => {
    const token = `token ${await installationToken()}`;
    expect((await api("GET", "/user", token)).body.message).toBe("Resource not accessible by integration");
    expect((await api("POST", "/user/repos", token, { name: "nope" })).status).toBe(403);
    const created = await api("POST", `/orgs/${ORG}/repos`, token, { name: "task-one" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ full_name: `${ORG}/task-one`, private: false, owner: { login: ORG, type: "Organization" } });
    expect((await api("GET", `/repos/${ORG}/task-one`, token)).status).toBe(200);
    const listed = await api("GET", "/installation/repositories", token);
    expect(listed.body.repositories.map((repo: { name: string }) => repo.name)).toContain("task-one");

    // The student's installation cannot create in the org.
    expect((await api("POST", `/orgs/${ORG}/repos`, `token ${await installationToken(100)}`, { name: "x" })).status).toBe(403);

    double.control.expireInstallationTokens();
    const expired = await api("GET", `/repos/${ORG}/task-one`, token);
    expect(expired.status).toBe(401);
    expect(expired.body.message).toBe("Bad credentials");
  });

  it("checks permissions per token: a token without pages may not enable Pages", async () => {
    const token = `token ${await installationToken(INSTALLATION, { permissions: { contents: "write", administration: "write" } })}`;
    const refused = await api("POST", `/repos/${ORG}/task-one/pages`, token, { build_type: "workflow" });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe("Resource not accessible by integration");
    expect(refused.headers.get("x-accepted-github-permissions")).toBe("pages=write; administration=write");
    const full = `token ${await installationToken()}`;
    expect((await api("POST", `/repos/${ORG}/task-one/pages`, full, { build_type: "workflow" })).status).toBe(201);
  });

  it("pushes with an installation token; workflows need the workflows permission", async () => {
    const url = `${double.apiUrl}/${ORG}/task-one.git`;
    const noWorkflows = await installationToken(INSTALLATION, { permissions: { contents: "write" } });
    await client.commit({ "index.html": "app\n" });
    await client.push(url, noWorkflows);
    await client.commit({ ".github/workflows/pages.yml": "name: pages\non: push\n" });
    await expect(client.push(url, noWorkflows)).rejects.toThrow(
      /refusing to allow a GitHub App to create or update workflow `\.github\/workflows\/pages\.yml` without `workflows` permission/,
    );
    await client.push(url, await installationToken());
    expect(double.state.pushes.map((push) => push.pusher)).toEqual(["briefwright-test[bot]", "briefwright-test[bot]"]);
    expect(double.state.pushes.every((push) => push.tokenKind === "installation")).toBe(true);

    // Another account's installation may read the public repository but not push to it.
    await client.commit({ "more.txt": "x\n" });
    await expect(client.push(url, await installationToken(100))).rejects.toThrow(/403|denied/);
  });
});
