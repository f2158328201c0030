import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { createStore } from "./adapters/store/create-store.ts";
import { createEmbeddedJobQueue } from "./adapters/queue/embedded-job-queue.ts";
import { createForge } from "./adapters/forge/create-forge.ts";
import { createGitHttpHandler } from "./adapters/forge/git-http-handler.ts";
import { startPagesServer } from "./adapters/forge/pages-server.ts";
import { createLanguageModel } from "./adapters/llm/create-language-model.ts";
import { withOutputTokenCap } from "./adapters/llm/output-token-cap.ts";
import { buildApi } from "./api/build-api.ts";
import type { Config } from "./config.ts";
import { describeError } from "./domain/errors.ts";
import { ephemeralEvents } from "./events/event-map.ts";
import { createInProcessEventBus } from "./events/in-process-event-bus.ts";
import { createAcceptTask, eventsStoredWithTheRound } from "./intake/accept-task.ts";
import { createLogger } from "./observability/logger.ts";
import { recordRoundEvents } from "./observability/round-event-recorder.ts";
import { runRound, shouldRetryRound } from "./pipeline/run-round.ts";
import type { PipelineDeps } from "./pipeline/pipeline-deps.ts";
import { systemClock, type Clock } from "./ports/clock.ts";
import { resolveKeptSecret } from "./kept-secret.ts";
import { fetch as undiciFetch } from "undici";
import { createGuardedDispatcher } from "./net/guarded-dispatcher.ts";
import { createWorkerPool, type WorkerPool } from "./worker/worker-pool.ts";
import { createChromiumBrowser } from "./adapters/browser/chromium-browser.ts";
import { createCdnMirror } from "./verify/cdn-mirror.ts";
import { createCheckRunner } from "./verify/check-runner.ts";
import { createLocalScriptRunner } from "./adapters/script/local-script-runner.ts";
import { createIdleLane } from "./pipeline/idle-lane.ts";
import { createPreflightCache, forgeSecrets } from "./adapters/forge/create-forge.ts";
import { resumeLiveChecks } from "./pipeline/live-check-stage.ts";
import { createQuickJsCodeSandbox } from "./adapters/sandbox/quickjs-code-sandbox.ts";
import { createSheetJsSpreadsheetReader } from "./adapters/spreadsheet/sheetjs-spreadsheet-reader.ts";

/** How far back a start looks for live checks that never finished: older pages have moved on. */
const liveCheckResumeWindowMs = 60 * 60 * 1000;

export interface Service {
  readonly app: FastifyInstance;
  /** Where the API listens, e.g. http://127.0.0.1:8000. */
  readonly url: string;
  /** Where the Pages host listens (its own origin). */
  readonly pagesUrl: string;
  readonly logger: Logger;
  readonly workers: WorkerPool | undefined;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  readonly clock?: Clock;
  /** Run the worker pool in this process (default true). */
  readonly workers?: boolean;
  readonly logger?: Logger;
}

/** The composition root: builds every adapter from the config and starts API and workers. */
export async function startService(config: Config, options: ServiceOptions = {}): Promise<Service> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.logLevel);
  const events = createInProcessEventBus(clock, (error) => logger.warn({ error: describeError(error) }, "event observer failed"));
  const secret = resolveKeptSecret(config.studentSecret, config.dataDir, "student-secret");
  const apiKey = resolveKeptSecret(config.security.apiKey, config.dataDir, "api-key");
  // Shown once, on the terminal only (not through the logger), so the operator can configure the evaluator.
  for (const [variable, kept] of [["STUDENT_SECRET", secret], ["API_KEY", apiKey]] as const) {
    if (kept.generated) process.stderr.write(`\n${variable} was not set; generated one and kept it in ${kept.path}:\n  ${kept.secret}\n\n`);
  }

  const store = await createStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await store.migrate();
  const queue = createEmbeddedJobQueue(store);
  const reposDir = join(config.dataDir, "repos");
  // Pages first: the local forge reports their address, which is known once the listener is bound.
  const pages = await startPagesServer({ reposDir, host: config.host, port: config.security.pagesPort, logger });
  const pagesPublicUrl = config.security.pagesPublicUrl ?? pages.url;
  const forge = createForge(config, {
    reposDir,
    pagesPublicUrl,
    clock,
    onRetry: (retry) => logger.warn(retry, "forge call retried as GitHub asked"),
  });
  const preflight = createPreflightCache(forge, clock);
  const chain = createLanguageModel(config.llm);
  const model = chain && withOutputTokenCap(chain, config.security.maxOutputTokens);
  const recorder = recordRoundEvents(events, store, (error) => logger.warn({ error: describeError(error) }, "event not stored"), {
    storedElsewhere: eventsStoredWithTheRound,
  });
  const unsubscribeLog = events.subscribe((event) => {
    // Streaming progress is for live views; at info it would drown the log.
    const level = ephemeralEvents.has(event.name) ? "debug" : "info";
    logger[level]({ event: event.name, roundId: event.roundId, ...event.payload }, event.name);
  });

  // One warm Chromium per process, started on first use; CDN libraries come from npm packages.
  const browser = config.verify.enabled
    ? createChromiumBrowser({
        executablePath: config.verify.chromiumPath,
        maxContexts: config.verify.browserContexts,
        blockOutsideRequests: config.verify.blockOutsideRequests,
        allowPrivateUrls: config.allowPrivateUrls,
        cdnMirror: createCdnMirror({ cacheDir: config.verify.cdnCacheDir, maxCacheBytes: config.security.cdnCacheMaxBytes }),
      })
    : undefined;
  // Reports, build-time fetches and the deploy's look at its own pages: each connection checks
  // the address it is about to use (DNS rebinding); our own Pages origin is always reachable.
  const outbound = createGuardedDispatcher({ allowPrivateUrls: config.allowPrivateUrls, trustedOrigins: [pagesPublicUrl] });
  const outboundFetch = ((input: string | URL, init?: RequestInit) =>
    // A dispatcher the caller chose (a configured proxy, see outbound-dispatcher.ts) wins: behind a
    // proxy the proxy resolves names, and only the pre-request check (assertUrlIsPublic) applies.
    undiciFetch(input, { ...(init as object), dispatcher: (init as { dispatcher?: typeof outbound } | undefined)?.dispatcher ?? outbound })) as unknown as typeof globalThis.fetch;
  const activity = { roundsInFlight: 0 };
  const afterRound = createIdleLane({ isBusy: () => activity.roundsInFlight > 0, maxDelayMs: 30_000, graceMs: 1000 });
  const deps: PipelineDeps = {
    store,
    forge,
    model,
    events,
    clock,
    fetch: outboundFetch,
    checkRunner: browser && createCheckRunner(browser),
    scriptRunner: config.verify.enabled ? createLocalScriptRunner({ pythonCommand: config.verify.pythonCommand }) : undefined,
    activity,
    afterRound,
    buildTools: { sandbox: createQuickJsCodeSandbox(), spreadsheets: createSheetJsSpreadsheetReader() },
    settings: {
      maxAttachmentBytes: config.maxAttachmentBytes,
      allowPrivateUrls: config.allowPrivateUrls,
      fetchUserAgent: config.outbound.userAgent,
      outboundProxy: config.outbound.proxy,
      gitAuthor: config.gitAuthor,
      licenseHolder: config.licenseHolder,
      llmTimeoutMs: config.llm.timeoutMs,
      llmPrices: config.llm.prices,
      deployReserveMs: Math.min(60_000, config.roundDeadlineMs / 5),
      reportInitialBackoffMs: 1000,
      reportMaxBackoffMs: 60_000,
      buildMaxAttempts: config.buildMaxAttempts,
      readmeProse: config.readmeProse,
      repairMaxAttempts: config.verify.repairMaxAttempts,
      checkTimeoutMs: config.verify.checkTimeoutMs,
      scriptTimeoutMs: config.verify.scriptTimeoutMs,
      knownSecrets: [secret.secret, apiKey.secret, ...config.llm.apiKeys, ...forgeSecrets(config)].filter((value): value is string => Boolean(value)),
    },
  };

  const workers =
    options.workers === false || !config.runWorkers
      ? undefined
      : createWorkerPool({
          queue,
          events,
          clock,
          concurrency: config.workerConcurrency,
          leaseMs: config.jobLeaseMs,
          idlePollMs: Math.min(1000, config.jobLeaseMs / 2),
          handle: (job, helpers) => runRound(job.payload.roundId, deps, { ...helpers, maxAttempts: job.maxAttempts }),
          onFailure: (_job, error) => (shouldRetryRound(error) ? { retryAt: clock.now() + 2000 } : {}),
          log: (message, fields) => logger.warn(fields ?? {}, message),
        });

  const acceptTask = createAcceptTask({
    store,
    events,
    clock,
    studentSecret: secret.secret,
    roundDeadlineMs: config.roundDeadlineMs,
    maxAttachmentBytes: config.maxAttachmentBytes,
    allowPrivateUrls: config.allowPrivateUrls,
    onAccepted: () => workers?.wake(),
  });

  const app = await buildApi({
    store,
    acceptTask,
    maxBodyBytes: config.maxBodyBytes,
    apiKey: apiKey.secret,
    logger,
    rateLimit: { max: config.security.rateLimitMax, windowMs: config.security.rateLimitWindowMs },
    rawRoutes: { git: createGitHttpHandler({ reposDir }) },
    health: async () => {
      const storeOk = await store.ping().then(
        () => true,
        () => false,
      );
      const jobs = storeOk ? await queue.stats().catch(() => undefined) : undefined;
      return {
        ok: storeOk,
        store: { ok: storeOk, dialect: store.dialect },
        queue: { ok: jobs !== undefined, kind: "embedded", jobs },
        llm: {
          configured: model !== undefined,
          backend: config.llm.backend,
          model: model?.modelId ?? null,
          stream: config.llm.stream,
          // In chain order, each with its circuit breaker's state.
          providers: model?.status() ?? [],
        },
        forge: { kind: forge.kind, version: forge.version, capabilities: forge.capabilities, preflight: await preflight.get() },
        workers: { running: workers !== undefined, concurrency: config.workerConcurrency },
      };
    },
  });

  // Students' commonest failure is a missing permission: say so at start, one line each, not mid-round.
  const checked = await preflight.get();
  if (checked.problems.length === 0) logger.info({ forge: forge.kind, identity: checked.identity, may: checked.may }, "forge preflight passed");
  for (const problem of checked.problems) logger.warn({ forge: forge.kind }, `forge preflight: ${problem}`);

  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  workers?.start();
  if (workers) {
    // Live checks wait in memory after the report; those a stop or crash cut off run again.
    resumeLiveChecks(deps, clock.now() - liveCheckResumeWindowMs).then(
      (count) => count > 0 && logger.info({ count }, "live checks resumed"),
      (error) => logger.warn({ error: describeError(error) }, "live checks not resumed"),
    );
  }
  logger.info({ url, publicUrl: config.publicUrl, pagesUrl: pagesPublicUrl, store: store.dialect, llm: model ? `${model.provider} (${model.modelId})` : "none" }, "briefwright listening");

  return {
    app,
    url,
    pagesUrl: pages.url,
    logger,
    workers,
    async stop() {
      await workers?.stop();
      await afterRound.stop();
      await app.close();
      await pages.close();
      await browser?.close();
      await outbound.close();
      await recorder.flush();
      recorder.stop();
      unsubscribeLog();
      await store.close();
    },
  };
}
