import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from "node:dns";
import { isIP } from "node:net";
import { Agent, buildConnector, type Dispatcher } from "undici";
import { OutboundUrlError } from "../domain/errors.ts";
import { isPrivateAddress } from "./outbound-url-guard.ts";

/** The resolver's shape: `dns.lookup` with `all: true` (tests pass one that rebinds). */
export type AddressResolver = (hostname: string, options: LookupAllOptions, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

export interface GuardedDispatcherOptions {
  /** Let requests reach loopback and private addresses (ALLOW_PRIVATE_URLS: tests, demos). */
  readonly allowPrivateUrls: boolean;
  /**
   * Origins of briefwright's own listeners (e.g. the local Pages host) that stay reachable
   * whatever their address, so deploy can see its own pages.
   */
  readonly trustedOrigins?: readonly string[];
  /** Default `dns.lookup`. */
  readonly resolve?: AddressResolver;
  /** Passed to undici's Agent. */
  readonly connectTimeoutMs?: number;
}

/**
 * The one undici dispatcher for requests to URLs from outside (reports, build-time fetches, and
 * later the GitHub API): every address a name resolves to is checked in the connection's own
 * lookup, so the address checked is the address connected to. A check before `fetch` (see
 * assertUrlIsPublic) resolves once and the socket resolves again, which a rebinding DNS server
 * answers differently. IP literals skip the lookup, so they are checked before connecting.
 */
export function createGuardedDispatcher(options: GuardedDispatcherOptions): Dispatcher {
  const resolve = options.resolve ?? (dnsLookup as unknown as AddressResolver);
  const trusted = new Set((options.trustedOrigins ?? []).map((origin) => new URL(origin).host.toLowerCase()));
  const refuse = (host: string, address: string) =>
    new OutboundUrlError(`${host} is or resolves to private address ${address} (set ALLOW_PRIVATE_URLS=true to allow)`);

  const guardedLookup = (hostname: string, lookupOptions: LookupOptions, callback: (...args: unknown[]) => void) => {
    resolve(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error) return callback(error);
      const blocked = options.allowPrivateUrls ? undefined : addresses.find((entry) => isPrivateAddress(entry.address));
      if (blocked) return callback(refuse(hostname, blocked.address));
      if (addresses.length === 0) return callback(new OutboundUrlError(`${hostname} has no address`));
      if (lookupOptions.all) return callback(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };

  const plainConnector = buildConnector({ ...(options.connectTimeoutMs ? { timeout: options.connectTimeoutMs } : {}) });
  const guardedConnector = buildConnector({
    ...(options.connectTimeoutMs ? { timeout: options.connectTimeoutMs } : {}),
    // Passed through to net.connect / tls.connect.
    lookup: guardedLookup,
  } as buildConnector.BuildOptions);

  const connect: buildConnector.connector = (connectOptions, callback) => {
    const host = connectOptions.hostname.replace(/^\[|\]$/g, "").replace(/\.+$/, "");
    const hostWithPort = `${connectOptions.hostname}${connectOptions.port ? `:${connectOptions.port}` : ""}`.toLowerCase();
    if (trusted.has(hostWithPort) || trusted.has(connectOptions.hostname.toLowerCase())) return plainConnector(connectOptions, callback);
    if (!options.allowPrivateUrls && isIP(host) !== 0 && isPrivateAddress(host)) {
      callback(refuse(host, host), null);
      return;
    }
    return guardedConnector({ ...connectOptions, hostname: host }, callback);
  };
  return new Agent({ connect });
}
