import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { OutboundUrlError } from "../domain/errors.ts";

// Loopback, private, link-local, CGNAT, multicast, reserved and documentation ranges: nothing a
// report or a build-time fetch should reach unless the operator allows it (tests, demos).
const privateRanges = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16],
  ["172.16.0.0", 12], ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.88.99.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15],
  ["198.51.100.0", 24], ["203.0.113.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) privateRanges.addSubnet(network, prefix, "ipv4");
for (const [network, prefix] of [
  // ::/96 holds ::, ::1 and the deprecated IPv4-compatible form (::127.0.0.1).
  ["::", 96], ["100::", 64], ["64:ff9b:1::", 48], ["2001::", 23], ["2001:db8::", 32],
  ["fc00::", 7], ["fe80::", 10], ["fec0::", 10], ["ff00::", 8],
] as const) privateRanges.addSubnet(network, prefix, "ipv6");

/** The eight 16-bit groups of an IPv6 address (any textual form, embedded dotted quad included). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase().replace(/%.*$/, "");
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const parse = (part: string) => (part ? part.split(":").map((group) => parseInt(group, 16)) : []);
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  return [...front, ...new Array(8 - front.length - back.length).fill(0), ...back];
}

const ipv4From = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;

/**
 * IPv4 addresses carried inside an IPv6 one, which a host reaching it may end up talking to:
 * IPv4-mapped (::ffff:a.b.c.d, in whatever notation), NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
 */
function embeddedIpv4(groups: readonly number[]): string | undefined {
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return ipv4From(groups[6]!, groups[7]!);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) return ipv4From(groups[6]!, groups[7]!);
  if (groups[0] === 0x2002) return ipv4From(groups[1]!, groups[2]!);
  return undefined;
}

/** Whether an IP literal (v4 or v6, any notation) is loopback, private, link-local, reserved or embeds one. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 4) return privateRanges.check(address, "ipv4");
  const groups = ipv6Groups(address);
  const inner = embeddedIpv4(groups);
  if (inner !== undefined) return privateRanges.check(inner, "ipv4");
  return privateRanges.check(groups.map((g) => g.toString(16)).join(":"), "ipv6");
}

/**
 * A private IPv4 address spelt inside a DNS name, as wildcard-DNS services answer for them
 * (`10.0.0.1.nip.io`, `127-0-0-1.sslip.io`, `app.192.168.1.5.nip.io`). Caught without DNS at intake;
 * the connect-time check (guarded-dispatcher.ts) catches every other name that resolves privately.
 */
function embedsPrivateIpv4(host: string): boolean {
  const labels = host.split(".");
  for (let i = 0; i < labels.length; i++) {
    const dashed = /^(?:.*-)?(\d{1,3}-\d{1,3}-\d{1,3}-\d{1,3})$/.exec(labels[i]!)?.[1]?.replaceAll("-", ".");
    const dotted = labels.slice(i, i + 4).join(".");
    for (const candidate of [dashed, dotted]) {
      if (candidate && isIP(candidate) === 4 && privateRanges.check(candidate, "ipv4")) return true;
    }
  }
  return false;
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

/** The host without IPv6 brackets or the trailing dots DNS ignores (`localhost.` is `localhost`). */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "").replace(/\.+$/, "");
}

/**
 * A cheap check with no DNS, for the intake hot path: refuses literal private addresses,
 * `localhost` names, single-label names (hosts-file or search-domain names, never public DNS) and
 * names that spell a private address. The full check (with DNS) runs again before each request,
 * and the guarded dispatcher checks the address actually connected to.
 */
export function assertUrlLooksPublic(raw: string, allowPrivate: boolean): URL {
  const url = parseHttpUrl(raw);
  if (allowPrivate) return url;
  const host = hostOf(url).toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost") || isPrivateAddress(host)) {
    throw new OutboundUrlError(`${host} is a loopback or private address (set ALLOW_PRIVATE_URLS=true to allow)`);
  }
  if (isIP(host) === 0 && (!host.includes(".") || embedsPrivateIpv4(host))) {
    throw new OutboundUrlError(`${host} is not a public DNS name or names a private address (set ALLOW_PRIVATE_URLS=true to allow)`);
  }
  return url;
}

/**
 * The full check before an outbound request: every address the host resolves to must be public.
 * It gives an early, readable refusal; a resolver may answer differently a moment later (DNS
 * rebinding), so requests go through createGuardedDispatcher, which checks at connect time.
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
