import { describe, expect, it } from "vitest";
import { assertUrlIsPublic, assertUrlLooksPublic, isPrivateAddress } from "./outbound-url-guard.ts";

describe("outbound URL guard", () => {
  it.each(["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "::1", "fd00::1", "::ffff:127.0.0.1", "0.0.0.0"])(
    "%s is private",
    (address) => expect(isPrivateAddress(address)).toBe(true),
  );
  it.each(["8.8.8.8", "140.82.112.3", "2606:4700::1111"])("%s is public", (address) => expect(isPrivateAddress(address)).toBe(false));

  // The forms issue 11 found passing, and their relatives.
  it.each([
    ["::127.0.0.1", "IPv4-compatible loopback"],
    ["::7f00:1", "IPv4-compatible loopback in hex"],
    ["::ffff:7f00:1", "IPv4-mapped loopback in hex (how URL() writes [::ffff:127.0.0.1])"],
    ["::ffff:a9fe:a9fe", "IPv4-mapped metadata address"],
    ["0:0:0:0:0:ffff:10.0.0.1", "IPv4-mapped, written out"],
    ["2002:7f00:1::", "6to4 of 127.0.0.1"],
    ["2002:a9fe:a9fe::1", "6to4 of 169.254.169.254"],
    ["64:ff9b::7f00:1", "NAT64 of 127.0.0.1"],
    ["64:ff9b:1::1", "local-use NAT64"],
    ["fec0::1", "site-local"],
    ["fe80::1%eth0", "link-local with a zone"],
    ["2001::1", "Teredo"],
    ["100::1", "discard-only"],
    ["::", "unspecified"],
  ])("%s (%s) is private", (address) => expect(isPrivateAddress(address)).toBe(true));
  it.each(["::ffff:8.8.8.8", "2002:808:808::", "64:ff9b::808:808"])("%s embeds a public address and is public", (address) =>
    expect(isPrivateAddress(address)).toBe(false),
  );

  it.each([
    "http://[::127.0.0.1]/",
    "http://[2002:7f00:1::]/",
    "http://[fec0::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://localhost./",
    "http://LOCALHOST../x",
    "http://app.localhost./",
    "http://intranet/",
    "http://127.0.0.1.nip.io/",
    "http://app.10.0.0.1.nip.io/",
    "http://app-192-168-1-5.sslip.io/",
    "http://169.254.169.254./latest/meta-data/",
    "http://2130706433/",
    "http://0x7f.1/",
  ])("refuses %s at intake without DNS", (url) => {
    expect(() => assertUrlLooksPublic(url, false)).toThrow(/ALLOW_PRIVATE_URLS/);
  });
  it.each(["https://example.com/notify", "https://8.8.8.8.nip.io/", "https://eval.example.org./hook"])("lets %s through intake", (url) => {
    expect(() => assertUrlLooksPublic(url, false)).not.toThrow();
  });

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
