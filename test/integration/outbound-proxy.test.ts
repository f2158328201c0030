import { createServer, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { fetchPublicUrl } from "../../src/net/fetch-public-url.ts";

// Build-time fetches through HTTPS_PROXY / HTTP_PROXY, and around them for NO_PROXY: a real
// forward proxy on 127.0.0.1 (CONNECT tunnels, as undici's proxy agent opens them).

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
}

async function startOrigin(): Promise<{ port: number; agents: string[] }> {
  const agents: string[] = [];
  const port = await listen(
    createServer((req, res) => {
      agents.push(req.headers["user-agent"] ?? "");
      res.writeHead(200, { "content-type": "application/json" }).end('{"via":"origin"}');
    }),
  );
  return { port, agents };
}

async function startProxy(): Promise<{ url: string; tunnels: string[] }> {
  const tunnels: string[] = [];
  const proxy = createServer((_req, res) => res.writeHead(405).end());
  proxy.on("connect", (req, client: Socket) => {
    tunnels.push(req.url ?? "");
    const [host, port] = (req.url ?? "").split(":");
    const upstream = connect(Number(port), host!, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.push(upstream, client);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  return { url: `http://127.0.0.1:${await listen(proxy)}`, tunnels };
}

const limits = { allowPrivateUrls: true, maxBytes: 1024, timeoutMs: 10_000, userAgent: "briefwright/0.1 (+mailto:student@example.com)" };

describe("build-time fetches and proxies", () => {
  it("goes through HTTP_PROXY for an http URL, with its User-Agent", async () => {
    const origin = await startOrigin();
    const proxy = await startProxy();
    const resource = await fetchPublicUrl(`http://127.0.0.1:${origin.port}/facts.json`, { ...limits, proxy: { httpProxy: proxy.url } });
    expect(resource.body.toString()).toBe('{"via":"origin"}');
    expect(proxy.tunnels).toEqual([`127.0.0.1:${origin.port}`]);
    expect(origin.agents).toEqual([limits.userAgent]);
  });

  it("goes direct for a host NO_PROXY names, and with no proxy configured", async () => {
    const origin = await startOrigin();
    const proxy = await startProxy();
    await fetchPublicUrl(`http://127.0.0.1:${origin.port}/a.json`, { ...limits, proxy: { httpProxy: proxy.url, noProxy: "example.org,127.0.0.1" } });
    await fetchPublicUrl(`http://127.0.0.1:${origin.port}/b.json`, limits);
    expect(proxy.tunnels).toEqual([]);
    expect(origin.agents).toEqual([limits.userAgent, limits.userAgent]);
  });

  it("uses HTTPS_PROXY only for https URLs", async () => {
    const origin = await startOrigin();
    const proxy = await startProxy();
    await fetchPublicUrl(`http://127.0.0.1:${origin.port}/c.json`, { ...limits, proxy: { httpsProxy: proxy.url } });
    expect(proxy.tunnels).toEqual([]);
    expect(origin.agents).toHaveLength(1);
  });
});
