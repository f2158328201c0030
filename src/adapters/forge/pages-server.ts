import helmet from "@fastify/helmet";
import Fastify, { LogController, type FastifyBaseLogger } from "fastify";
import { pagesSecurityHeaders } from "../../api/security-headers.ts";
import { createPagesHandler } from "./pages-handler.ts";

export interface PagesServerSettings {
  /** Directory holding `<name>.git` bare repositories (the local forge's `reposDir`). */
  readonly reposDir: string;
  readonly host: string;
  /** 0: any free port (see `url`). */
  readonly port: number;
  readonly logger?: FastifyBaseLogger;
}

export interface PagesServer {
  /** Where it listens, e.g. http://127.0.0.1:8010 (no trailing slash). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The local forge's Pages host on its own listener. A page is code someone else's brief asked
 * for: on the API's origin it could read the API with the operator's browser (same-origin fetch)
 * or post to the intake. On another port it is another origin, which the browser keeps apart.
 * Paths stay `/pages/<repo>/…`, as on the API before, so the handler and links keep their shape.
 */
export async function startPagesServer(settings: PagesServerSettings): Promise<PagesServer> {
  const handler = createPagesHandler({ reposDir: settings.reposDir });
  const app = Fastify({
    ...(settings.logger ? { loggerInstance: settings.logger } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  await app.register(helmet, pagesSecurityHeaders);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, done) => done(null, undefined));
  app.route({
    method: ["GET", "HEAD"],
    url: "/pages/*",
    exposeHeadRoute: false,
    handler: (request, reply) => {
      reply.hijack();
      // The handler wants the raw, still percent-encoded path so encoded traversal is seen.
      handler(request.raw, reply.raw, (request.raw.url ?? "/").slice("/pages".length));
    },
  });
  app.setNotFoundHandler((_request, reply) => reply.status(404).type("text/plain").send("not found"));
  await app.listen({ port: settings.port, host: settings.host });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : settings.port;
  // A wildcard listener is reached through loopback, as config.ts does for PUBLIC_URL.
  const host = settings.host === "0.0.0.0" || settings.host === "::" ? "127.0.0.1" : settings.host;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    close: () => app.close(),
  };
}
