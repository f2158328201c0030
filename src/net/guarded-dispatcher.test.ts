import { createServer, type Server } from "node:http";
import type { LookupAddress } from "node:dns";
import { fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutboundUrlError } from "../domain/errors.ts";
import { createGuardedDispatcher, type AddressResolver } from "./guarded-dispatcher.ts";

let server: Server;
let port: number;
let hits = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    hits++;
    res.end("reached");
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise((done) => server.close(done)));

/** A resolver answering from a table; each name's answers are used in turn, the last one repeated. */
function resolverFrom(table: Record<string, LookupAddress[][]>): AddressResolver & { calls: string[] } {
  const calls: string[] = [];
  const used = new Map<string, number>();
  const resolve = ((hostname, _options, callback) => {
    calls.push(hostname);
    const answers = table[hostname];
    if (!answers) return callback(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: "ENOTFOUND" }), []);
    const n = used.get(hostname) ?? 0;
    used.set(hostname, n + 1);
    callback(null, answers[Math.min(n, answers.length - 1)]!);
  }) as AddressResolver & { calls: string[] };
  resolve.calls = calls;
  return resolve;
}

const v4 = (address: string): LookupAddress => ({ address, family: 4 });

async function attempt(url: string, dispatcher: ReturnType<typeof createGuardedDispatcher>): Promise<{ reached: boolean; cause?: unknown }> {
  const before = hits;
  try {
    const response = await undiciFetch(url, { dispatcher });
    await response.text();
    return { reached: hits > before };
  } catch (error) {
    return { reached: hits > before, cause: (error as Error).cause };
  }
}

describe("guarded dispatcher", () => {
  it("refuses at connect a name that rebinds to loopback after a check saw a public address", async () => {
    const resolve = resolverFrom({ "rebind.test": [[v4("93.184.216.34")], [v4("127.0.0.1")]] });
    // The check a caller makes first (what assertUrlIsPublic did) sees the public answer…
    const first = await new Promise<LookupAddress[]>((done) => resolve("rebind.test", { all: true }, (_e, a) => done(a)));
    expect(first).toEqual([v4("93.184.216.34")]);
    // …and the connection's own lookup gets the private one, and is refused.
    const result = await attempt(`http://rebind.test:${port}/`, createGuardedDispatcher({ allowPrivateUrls: false, resolve }));
    expect(result.reached).toBe(false);
    expect(result.cause).toBeInstanceOf(OutboundUrlError);
    expect(String((result.cause as Error).message)).toMatch(/127\.0\.0\.1/);
    expect(resolve.calls).toEqual(["rebind.test", "rebind.test"]);
  });

  it.each([
    ["a name with one private answer among public ones", "mixed.test", [v4("93.184.216.34"), v4("127.0.0.1")]],
    ["a nip.io-style name", "127.0.0.1.nip.io", [v4("127.0.0.1")]],
    ["a hosts-file name", "intranet", [v4("127.0.0.1")]],
    ["a name answering with an IPv4-mapped loopback", "mapped.test", [{ address: "::ffff:127.0.0.1", family: 6 }]],
  ])("refuses %s", async (_label, name, answer) => {
    const resolve = resolverFrom({ [name]: [answer] });
    const result = await attempt(`http://${name}:${port}/`, createGuardedDispatcher({ allowPrivateUrls: false, resolve }));
    expect(result).toMatchObject({ reached: false, cause: expect.any(OutboundUrlError) });
  });

  it.each(["127.0.0.1", "127.1.2.3", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::127.0.0.1]", "[::1]"])(
    "refuses the literal %s before connecting",
    async (host) => {
      const result = await attempt(`http://${host}:${port}/`, createGuardedDispatcher({ allowPrivateUrls: false }));
      expect(result).toMatchObject({ reached: false, cause: expect.any(OutboundUrlError) });
    },
  );

  it("refuses `localhost.` with the system resolver", async () => {
    const result = await attempt(`http://localhost.:${port}/`, createGuardedDispatcher({ allowPrivateUrls: false }));
    expect(result).toMatchObject({ reached: false, cause: expect.any(OutboundUrlError) });
  });

  it("connects when private addresses are allowed, and to briefwright's own trusted origins", async () => {
    const resolve = resolverFrom({ "rebind.test": [[v4("127.0.0.1")]] });
    expect((await attempt(`http://rebind.test:${port}/`, createGuardedDispatcher({ allowPrivateUrls: true, resolve }))).reached).toBe(true);
    const trusted = createGuardedDispatcher({ allowPrivateUrls: false, trustedOrigins: [`http://127.0.0.1:${port}`] });
    expect((await attempt(`http://127.0.0.1:${port}/`, trusted)).reached).toBe(true);
    // Trust is per origin: the same address on another port is still refused.
    expect((await attempt(`http://127.0.0.1:${port + 1}/`, trusted)).cause).toBeInstanceOf(OutboundUrlError);
  });
});
