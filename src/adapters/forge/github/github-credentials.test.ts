import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Clock } from "../../../ports/clock.ts";
import { createGitHubCredentials, type CredentialsDeps } from "./github-credentials.ts";

const privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();

/** Time that moves only when the test says so. */
function manualClock(start = 1_800_000_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, sleep: async (ms) => void (now += ms), advance: (ms) => void (now += ms) };
}

/** The one call @octokit/auth-app makes to mint an installation token, answered with a numbered token. */
function tokenEndpoint(clock: Clock, lifetimeMs: number) {
  const calls: { route: string; installationId: unknown }[] = [];
  const request = (async (route: string, parameters: { installation_id: unknown }) => {
    calls.push({ route, installationId: parameters.installation_id });
    return { data: { token: `ghs_token_${calls.length}`, expires_at: new Date(clock.now() + lifetimeMs).toISOString(), permissions: { contents: "write" } } };
  }) as unknown as CredentialsDeps["request"];
  return { request, calls };
}

describe("GitHub App credentials", () => {
  it("caches the installation token and replaces it a quarter of its lifetime before expiry", async () => {
    const clock = manualClock();
    const endpoint = tokenEndpoint(clock, 40_000);
    const credentials = createGitHubCredentials({ kind: "app", appId: "1", privateKey, installationId: 9 }, { clock, request: endpoint.request, findInstallation: async () => 0 });
    expect(await credentials.token()).toBe("ghs_token_1");
    clock.advance(29_000);
    expect(await credentials.token()).toBe("ghs_token_1");
    clock.advance(2_000); // 31 s of 40: inside the last quarter
    expect(await credentials.token()).toBe("ghs_token_2");
    expect(endpoint.calls).toEqual([
      { route: "POST /app/installations/{installation_id}/access_tokens", installationId: 9 },
      { route: "POST /app/installations/{installation_id}/access_tokens", installationId: 9 },
    ]);
  });

  it("refreshes an hour-long token five minutes early, and at once after invalidate (a 401)", async () => {
    const clock = manualClock();
    const endpoint = tokenEndpoint(clock, 60 * 60_000);
    const credentials = createGitHubCredentials({ kind: "app", appId: "1", privateKey, installationId: 9 }, { clock, request: endpoint.request, findInstallation: async () => 0 });
    await credentials.token();
    clock.advance(54 * 60_000);
    expect(await credentials.token()).toBe("ghs_token_1");
    clock.advance(2 * 60_000);
    expect(await credentials.token()).toBe("ghs_token_2");
    expect(credentials.invalidate()).toBe(true);
    expect(await credentials.token()).toBe("ghs_token_3");
  });

  it("finds the installation once when none is configured, and shares one request between concurrent callers", async () => {
    const clock = manualClock();
    const endpoint = tokenEndpoint(clock, 60 * 60_000);
    const jwts: string[] = [];
    const credentials = createGitHubCredentials(
      { kind: "app", appId: "1", privateKey, installationId: undefined },
      { clock, request: endpoint.request, findInstallation: async (jwt) => (jwts.push(jwt), 55) },
    );
    const tokens = await Promise.all([credentials.token(), credentials.token(), credentials.token()]);
    expect(new Set(tokens)).toEqual(new Set(["ghs_token_1"]));
    expect(await credentials.installationId()).toBe(55);
    expect(jwts).toHaveLength(1);
    expect(jwts[0]!.split(".")).toHaveLength(3);
    expect(endpoint.calls).toHaveLength(1);
  });

  it("hands out a personal token as it is and cannot renew it", async () => {
    const clock = manualClock();
    const credentials = createGitHubCredentials({ kind: "token", token: "ghp_personal" }, { clock, request: tokenEndpoint(clock, 1).request, findInstallation: async () => 0 });
    expect(await credentials.token()).toBe("ghp_personal");
    expect(credentials.invalidate()).toBe(false);
    await expect(credentials.appJwt()).rejects.toThrow(/App JSON Web Token/);
  });
});
