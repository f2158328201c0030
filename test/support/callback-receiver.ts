import { createServer, type Server } from "node:http";

export interface ReceivedReport {
  readonly at: number;
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Record<string, unknown>;
}

export interface CallbackReceiver {
  readonly url: string;
  /** Every request, answered or not, in arrival order. */
  readonly received: ReceivedReport[];
  /** Resolves with the first report answered 200 that matches. */
  waitFor(match: (report: ReceivedReport) => boolean, timeoutMs?: number): Promise<ReceivedReport>;
  close(): Promise<void>;
}

/**
 * A stand-in for the evaluator's `evaluation_url`. `answer(n)` gives the status for the n-th
 * request (1-based); default always 200.
 */
export async function startCallbackReceiver(answer: (n: number) => number = () => 200): Promise<CallbackReceiver> {
  const received: ReceivedReport[] = [];
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const status = answer(received.length + 1);
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        body = { unparseable: Buffer.concat(chunks).toString("utf8") };
      }
      received.push({ at: Date.now(), status, contentType: req.headers["content-type"], body });
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ ok: status === 200 }));
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/notify`,
    received,
    waitFor(match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find((r) => r.status === 200 && match(r));
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching report within ${timeoutMs} ms; received ${JSON.stringify(received.map((r) => [r.status, r.body]))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
