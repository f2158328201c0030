import { describe, expect, it } from "vitest";
import { assertUrlIsPublic, assertUrlLooksPublic, isPrivateAddress } from "./outbound-url-guard.ts";

describe("outbound URL guard", () => {
  it.each(["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "::1", "fd00::1", "::ffff:127.0.0.1", "0.0.0.0"])(
    "%s is private",
    (address) => expect(isPrivateAddress(address)).toBe(true),
  );
  it.each(["8.8.8.8", "140.82.112.3", "2606:4700::1111"])("%s is public", (address) => expect(isPrivateAddress(address)).toBe(false));

  it("refuses loopback URLs unless allowed", async () => {
    expect(() => assertUrlLooksPublic("http://127.0.0.1:9999/notify", false)).toThrow(/ALLOW_PRIVATE_URLS/);
    expect(() => assertUrlLooksPublic("http://localhost/x", false)).toThrow(/loopback/);
    await expect(assertUrlIsPublic("http://[::1]:80/", false)).rejects.toThrow(/private/);
    expect(assertUrlLooksPublic("http://127.0.0.1:9999/notify", true).port).toBe("9999");
  });

  it("refuses other schemes and credentials", () => {
    expect(() => assertUrlLooksPublic("ftp://example.com/", true)).toThrow(/scheme/);
    expect(() => assertUrlLooksPublic("https://user:pw@example.com/", true)).toThrow(/credentials/);
    expect(() => assertUrlLooksPublic("not a url", true)).toThrow(/not a URL/);
  });
});
