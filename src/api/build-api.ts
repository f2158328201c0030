import type { IncomingMessage, ServerResponse } from "node:http";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import helmet from "@fastify/helmet";
import rateLimit from "@fastify/rate-limit";
import { z } from "zod";
import { ApiKeyError, NotFoundError, ValidationError } from "../domain/errors.ts";
import { createSecretMatcher } from "../domain/secret-matcher.ts";
import type { AcceptedTask } from "../intake/accept-task.ts";
import type { Store } from "../ports/store.ts";
import { errorResponse } from "./error-response.ts";
import { presentTask, presentTaskSummary } from "./present-task.ts";
import { apiSecurityHeaders } from "./security-headers.ts";

/** A handler that takes over the raw request (git smart HTTP, the Pages host). */
export type RawHandler = (req: IncomingMessage, res: ServerResponse, rest: string) => void;

export interface ApiDeps {
  readonly store: Store;
  readonly acceptTask: (body: unknown) => Promise<AcceptedTask>;
  readonly health: () => Promise<Record<string, unknown> & { ok: boolean }>;
  /** Every route needs it unless it is marked `config: { public: true }` (intake, git, bare health). */
  readonly apiKey: string;
  readonly maxBodyBytes: number;
  /** Mounted at `/<prefix>/*`, e.g. `git` and `pages` for the local forge. */
  readonly rawRoutes?: Readonly<Record<string, RawHandler>>;
  /** Where server errors go (5xx, client errors of the HTTP server); request lines are not logged. */
  readonly logger?: FastifyBaseLogger;
  /** Requests per client address per window; `max: 0` turns the limit off. */
  readonly rateLimit?: { readonly max: number; readonly windowMs: number };
}

const listQuery = z.object({
  status: z.enum(["queued", "running", "succeeded", "failed"]).optional(),
  task: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(500).optional(),
});

declare module "fastify" {
  interface FastifyRequest {
    /** Whether the request carried the right API key (set before any handler runs). */
    hasApiKey: boolean;
  }
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: deps.maxBodyBytes,
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    // Errors only: a line per request would drown the log at intake rates.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });

  // Limit first, so guessing the API key or the secret is throttled like anything else.
  if (deps.rateLimit && deps.rateLimit.max > 0) {
    await app.register(rateLimit, { global: true, max: deps.rateLimit.max, timeWindow: deps.rateLimit.windowMs });
  }
  await app.register(helmet, apiSecurityHeaders);

  // JSON only: a `text/plain` or form POST is what a cross-site page can send without a CORS
  // preflight, so anything else answers 415 before it is read.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string", bodyLimit: deps.maxBodyBytes }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (cause) {
      done(Object.assign(new SyntaxError(`body is not valid JSON: ${(cause as Error).message}`), { statusCode: 400 }), undefined);
    }
  });

  // Deny by default: a route added later is protected unless it says it is public.
  const apiKeyMatches = createSecretMatcher(deps.apiKey);
  const hasApiKey = (headers: Record<string, string | string[] | undefined>) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(String(headers.authorization ?? ""))?.[1];
    const presented = typeof headers["x-api-key"] === "string" ? headers["x-api-key"] : bearer;
    return presented !== undefined && apiKeyMatches(presented.trim());
  };
  app.decorateRequest("hasApiKey", false);
  app.addHook("onRequest", async (request) => {
    request.hasApiKey = hasApiKey(request.headers);
    const isPublic = (request.routeOptions.config as { public?: boolean } | undefined)?.public === true;
    if (!isPublic && !request.hasApiKey) throw new ApiKeyError();
  });

  app.setErrorHandler((error, request, reply) => {
    const { status, body } = errorResponse(error);
    if (status >= 500) request.log.error({ err: error }, "request failed");
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    // Without the key, an unknown path answers 401 like a known one: no map of the routes for free.
    reply.status(404).send({ error: "not-found", message: `no route for ${request.method} ${request.url.split("?")[0]}` }),
  );

  const ready = async (request: { body: unknown }) => {
    const accepted = await deps.acceptTask(request.body);
    return {
      status: "accepted",
      task_id: accepted.taskId,
      round_id: accepted.roundId,
      task: accepted.task,
      round: accepted.round,
      nonce: accepted.nonce,
      duplicate: !accepted.created,
    };
  };
  // The intake keeps its own secret (in the body), checked by acceptTask.
  app.post("/api/v1/tasks/ready", { config: { public: true } }, ready);
  // The course and peer implementations used the short path.
  app.post("/ready", { config: { public: true } }, ready);

  app.get("/api/v1/tasks", async (request) => {
    const parsed = listQuery.safeParse(request.query);
    if (!parsed.success) {
      throw new ValidationError(parsed.error.issues.map((i) => ({ path: i.path.join(".") || "(query)", message: i.message })));
    }
    const page = await deps.store.listTasks(parsed.data);
    return { items: page.items.map(presentTaskSummary), next_cursor: page.nextCursor };
  });

  app.get<{ Params: { id: string } }>("/api/v1/tasks/:id", async (request) => {
    const task = await deps.store.getTask(request.params.id);
    if (!task) throw new NotFoundError(`task ${request.params.id}`);
    return presentTask(task, deps.store);
  });

  // Up or down for anyone (load balancers, bench scripts); the details only with the key.
  app.get("/health", { config: { public: true } }, async (request, reply) => {
    const health = await deps.health();
    return reply.status(health.ok ? 200 : 503).send(request.hasApiKey ? health : { ok: health.ok });
  });

  const rawRoutes = Object.entries(deps.rawRoutes ?? {});
  if (rawRoutes.length > 0) {
    await app.register(async (scope) => {
      // Raw handlers read the request stream themselves (git sends gzipped pack negotiation):
      // leave the body unread instead of parsing it as JSON.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser("*", (_request, _payload, done) => done(null, undefined));
      for (const [prefix, handler] of rawRoutes) {
        scope.route({
          method: ["GET", "HEAD", "POST"],
          url: `/${prefix}/*`,
          exposeHeadRoute: false,
          // Clones of the reported repository must work for the evaluator, as on GitHub.
          config: { public: true },
          handler: (request, reply) => {
            reply.hijack();
            // The handlers want the raw, still percent-encoded path so encoded traversal is seen.
            handler(request.raw, reply.raw, (request.raw.url ?? "/").slice(prefix.length + 1));
          },
        });
      }
    });
  }

  return app;
}
