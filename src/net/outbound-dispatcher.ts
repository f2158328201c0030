import { EnvHttpProxyAgent, type Dispatcher } from "undici";

/** The proxy settings of build-time fetches, parsed once in config.ts. */
export interface OutboundProxy {
  /** HTTPS_PROXY: for https URLs. */
  readonly httpsProxy?: string;
  /** HTTP_PROXY: for http URLs (and https ones when HTTPS_PROXY is unset). */
  readonly httpProxy?: string;
  /** NO_PROXY: hosts (and `.domain` suffixes, `host:port`, `*`) that go direct. */
  readonly noProxy?: string;
}

const agents = new Map<string, Dispatcher>();

/**
 * The undici dispatcher a build-time fetch goes through: undefined (Node's global one) with no
 * proxy configured, else one EnvHttpProxyAgent per proxy setting — it picks HTTPS_PROXY or
 * HTTP_PROXY by the URL's scheme and honours NO_PROXY, and is kept so connections are reused.
 * The one place the dispatcher is chosen.
 */
export function outboundDispatcher(proxy: OutboundProxy | undefined): Dispatcher | undefined {
  if (!proxy || (!proxy.httpsProxy && !proxy.httpProxy)) return undefined;
  const key = JSON.stringify([proxy.httpsProxy ?? null, proxy.httpProxy ?? null, proxy.noProxy ?? null]);
  let agent = agents.get(key);
  if (!agent) {
    // Empty strings, not undefined: undefined would make undici read process.env itself.
    agent = new EnvHttpProxyAgent({ httpProxy: proxy.httpProxy ?? "", httpsProxy: proxy.httpsProxy ?? proxy.httpProxy ?? "", noProxy: proxy.noProxy ?? "" });
    agents.set(key, agent);
  }
  return agent;
}
