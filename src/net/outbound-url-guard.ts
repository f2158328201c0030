import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { OutboundUrlError } from "../domain/errors.ts";

// Loopback, private, link-local, CGNAT, multicast, reserved and documentation ranges: nothing a
// report or a build-time fetch should reach unless the operator allows it (tests, demos).
const privateRanges = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16],
  ["172.16.0.0", 12], ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15],
  ["198.51.100.0", 24], ["203.0.113.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) privateRanges.addSubnet(network, prefix, "ipv4");
for (const [network, prefix] of [
  ["::", 128], ["::1", 128], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8], ["64:ff9b::", 96], ["2001:db8::", 32],
] as const) privateRanges.addSubnet(network, prefix, "ipv6");

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return privateRanges.check(mapped[1]!, "ipv4");
    return privateRanges.check(address, "ipv6");
  }
  return privateRanges.check(address, "ipv4");
}

/** Parses an http(s) URL or throws OutboundUrlError. */
export function parseHttpUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw new OutboundUrlError(`${JSON.stringify(raw)} is not a URL`, { cause });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new OutboundUrlError(`URL scheme ${url.protocol} is not http or https`);
  if (url.username || url.password) throw new OutboundUrlError("URLs with credentials are refused");
  return url;
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "");
}

/**
 * A cheap check with no DNS, for the intake hot path: refuses literal private addresses and
 * `localhost` names. The full check (with DNS) runs again just before each request.
 */
export function assertUrlLooksPublic(raw: string, allowPrivate: boolean): URL {
  const url = parseHttpUrl(raw);
  if (allowPrivate) return url;
  const host = hostOf(url).toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost") || isPrivateAddress(host)) {
    throw new OutboundUrlError(`${host} is a loopback or private address (set ALLOW_PRIVATE_URLS=true to allow)`);
  }
  return url;
}

/**
 * The full check before an outbound request: every address the host resolves to must be public.
 * (A resolver could answer differently a moment later; the window is small and accepted.)
 */
export async function assertUrlIsPublic(raw: string, allowPrivate: boolean): Promise<URL> {
  const url = assertUrlLooksPublic(raw, allowPrivate);
  if (allowPrivate) return url;
  const host = hostOf(url);
  if (isIP(host)) return url;
  let addresses: { address: string }[];
  try {
    addresses = await lookup(host, { all: true });
  } catch (cause) {
    throw new OutboundUrlError(`cannot resolve ${host}`, { cause, isRetryable: true });
  }
  const blocked = addresses.find((a) => isPrivateAddress(a.address));
  if (blocked) throw new OutboundUrlError(`${host} resolves to private address ${blocked.address} (set ALLOW_PRIVATE_URLS=true to allow)`);
  return url;
}
