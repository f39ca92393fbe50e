/**
 * @module The HTTP app factory: a Fastify instance with JSON logs (request ids, secrets redacted),
 * TypeBox-validated routes, access control and rate limits, Prometheus metrics, the OpenAPI document
 * at /docs, and an active-version watcher over the given store. The caller owns the store (opens and
 * closes it); closing the app stops the watcher. Plain user-recommendation reads are answered by the
 * fast lane in front of Fastify (fast-lane.ts).
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { pino } from 'pino';
import { createServer, type Server } from 'node:http';
import { loadEventConfig } from '../events/event-config.js';
import { threadedFoldRanker, type FoldRanker } from '../events/fold-ranker.js';
import { LivePopularity } from '../events/live-popularity.js';
import { modelDirSource, type ModelSource } from '../events/model-source.js';
import { OnlineUpdater } from '../events/online-updater.js';
import { catchUpOnSwitch, NO_MODELS, type EventIngest } from './ingest/event-ingest.js';
import { startIngestThread, type IngestThread } from './ingest/ingest-thread.js';
import type { OnlineStore } from '../store/online-store.js';
import { ActiveVersionWatcher } from './active-version.js';
import type { RtrecApp } from './app-types.js';
import type { ServeConfig } from './config.js';
import { answerClosing } from './closing-answer.js';
import { createAccessCheck } from './plugins/access-control.js';
import { registerErrorHandling, toErrorReply } from './plugins/error-handling.js';
import { registerMetrics } from './plugins/metrics.js';
import { RecService } from './rec-service.js';
import { createRequestIds } from './request-ids.js';
import { parseTrustProxy } from './trust-proxy.js';
import { createFastLane, fastLaneApplies, type FastLane, type RequestHandler } from './fast-lane.js';
import { registerAdminRoutes } from './routes/admin-routes.js';
import { registerEventRoutes } from './routes/event-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerReadRoutes } from './routes/read-routes.js';

export const API_TITLE = 'rtrec recommendation API';

export const REDACTED_PATHS = ['req.headers.authorization', 'req.headers["x-api-key"]', 'headers.authorization', 'headers["x-api-key"]'];

/**
 * One access line per request ('request completed', with method, url, status and time) instead of
 * Fastify's two, at a level that follows the outcome: successful answers at debug, client errors
 * (4xx) at info, server errors at error. Formatting and writing a line per request cost about a
 * fifth of a cheap request's CPU time, so the default level (info) keeps the lines that need
 * attention, and `debug` turns on the full access log. Request counts and latencies by route and
 * status are always in /metrics.
 */
class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const status = reply.statusCode;
    const line = { method: request.method, url: request.url, statusCode: status, responseTime: reply.elapsedTime };
    if (error || status >= 500) reply.log.error(error ? { ...line, err: error } : line, 'request errored');
    else if (status >= 400) reply.log.info(line, 'request completed');
    else reply.log.debug(line, 'request completed');
  }
}

/** pino JSON on stdout, secrets redacted, written in batches off the request path. */
export function createServeLogger(level: string): ReturnType<typeof pino> {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, pino.destination({ dest: 1, sync: false }));
}

export interface BuildAppOptions {
  readonly store: OnlineStore;
  readonly config: Readonly<ServeConfig>;
  /** Fastify logger setting; default: pino JSON on stdout at config.logLevel with secrets redacted. */
  readonly logger?: FastifyServerOptions['logger'];
  /** Where the served version's model comes from for real-time updates; default: config.modelDir. */
  readonly models?: ModelSource;
  /** Clock of the live popularity decay, ms since the epoch (tests inject one); default Date.now. */
  readonly now?: () => number;
  /**
   * With config.eventIngest 'thread': the store's URL, for the event-ingest thread to open its own
   * connection (ingest/ingest-thread.ts), and its compiled entry (default: beside the module; null:
   * none). Without it, without a model folder (config.modelDir), or when the thread cannot start,
   * events are ingested on the event loop. The thread loads its model from config.modelDir: `models`
   * applies on the event loop only.
   */
  readonly ingestThread?: { readonly storeUrl: string; readonly entry?: URL | null };
}

/**
 * The HTTP server: once shutting down it refuses each new request itself (closing-answer.ts);
 * otherwise a request goes through the fast lane when there is one (see fast-lane.ts), else
 * straight to Fastify. Its timeouts are set from Fastify's resolved options as Fastify sets them on
 * servers it creates itself (which it skips for a serverFactory's).
 */
function createLaneServer(fastify: RequestHandler, lane: () => FastLane | undefined, refusal: () => RequestHandler | undefined, options: FastifyServerOptions): Server {
  const server = createServer((req, res) => {
    const refuse = refusal();
    if (refuse) {
      refuse(req, res);
      return;
    }
    const fast = lane();
    if (fast) fast(req, res, fastify);
    else fastify(req, res);
  });
  if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
  if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
  if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
  if (options.maxRequestsPerSocket !== undefined && options.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
  return server;
}

/** Builds the app and loads the active version (when the store answers); call `listen` or `inject` next. */
export async function buildApp(options: BuildAppOptions): Promise<RtrecApp> {
  const { store, config } = options;
  const logging: { logger?: FastifyServerOptions['logger']; loggerInstance?: FastifyBaseLogger } =
    options.logger === undefined ? { loggerInstance: createServeLogger(config.logLevel) } : { logger: options.logger };
  const requestIdOf = createRequestIds();
  let closing = false;
  // Set once the services exist; until then (and when it does not apply) Fastify answers everything.
  let fastLane: FastLane | undefined;
  // Set once closing: answers the requests that still arrive (see closing-answer.ts).
  let refuseWhileClosing: RequestHandler | undefined;
  const app = Fastify({
    serverFactory: (fastify, resolved) => createLaneServer(fastify, () => fastLane, () => refuseWhileClosing, resolved),
    ...logging,
    logController: new AccessLog(),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: parseTrustProxy(config.trustProxy),
    // Ids may be 256 bytes, i.e. up to 768 characters percent-encoded; longer ones reach validation.
    routerOptions: { maxParamLength: 4096 },
    requestIdHeader: false,
    genReqId: requestIdOf,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    // A backstop only: refuseWhileClosing answers these first, with a code in the body.
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Malformed URLs (bad percent-encoding) are rejected before routing; answer them like any other 4xx.
    frameworkErrors: (err, _req, reply) => {
      const { statusCode, body } = toErrorReply(err);
      void (reply as unknown as FastifyReply).code(statusCode).send(body);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // The API speaks JSON only: a text/plain body gets 415, not a confusing validation error.
  app.removeContentTypeParser('text/plain');
  registerErrorHandling(app);
  // One onRequest hook for all of them: echo the request id, then who may call what, how often.
  const accessCheck = createAccessCheck(config);
  app.addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', req.id);
    done(accessCheck(req, reply));
  });
  const metrics = registerMetrics(app);

  app.addHook('onRoute', (route) => {
    // The documentation routes are public whatever the read policy.
    if (route.url.startsWith('/docs')) route.config = { ...(route.config ?? {}), access: 'public' };
  });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: API_TITLE, version: '1', description: 'Precomputed recommendations served from a versioned online store. Every error is JSON { code, message }.' },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });

  const models: ModelSource = options.models ?? (config.modelDir === '' ? NO_MODELS : modelDirSource(config.modelDir));
  const livePopularity = new LivePopularity(store, { halfLifeHours: config.popularityHalfLifeHours, ...(options.now ? { now: options.now } : {}) });
  const eventConfig = loadEventConfig(config.eventWeights);
  /** Aborted on close: stops catch-ups still retrying. */
  const closed = new AbortController();
  // Events are ingested by the thread while it runs, else on the event loop by an updater made when first needed.
  let thread: IngestThread | undefined;
  let local: { updater: OnlineUpdater; ranker: FoldRanker } | undefined;
  const localUpdater = (): OnlineUpdater => {
    if (!local) {
      const ranker = threadedFoldRanker({ threads: config.foldThreads, onFallback: (reason) => app.log.warn(reason) });
      local = { ranker, updater: new OnlineUpdater(store, eventConfig, models, livePopularity, { sync: config.eventSync, ranker }) };
    }
    return local.updater;
  };
  const watcher = new ActiveVersionWatcher(store, { refreshMs: config.refreshMs }, {
    onSwitch(snapshot, previous) {
      metrics.activeVersion.set(snapshot.version);
      metrics.versionSwitches.inc();
      app.log.info({ modelVersion: snapshot.version, previous, items: snapshot.catalog.ids.length }, 'serving version');
      // The thread watches the versions itself and catches up there.
      if (!thread) catchUpOnSwitch(localUpdater(), snapshot, app.log, closed.signal);
    },
    onHealth(healthy, err) {
      metrics.storeUp.set(healthy ? 1 : 0);
      if (healthy) app.log.info('online store reachable');
      else app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'online store unreachable: answering from fallbacks');
    },
  });
  // Without a model folder an event is only logged and counted (no fold-in, no list to rewrite):
  // too little work to be worth an isolate and a store connection of its own in every process.
  if (config.eventIngest === 'thread' && options.ingestThread && config.modelDir !== '') {
    try {
      thread = await startIngestThread({
        storeUrl: options.ingestThread.storeUrl,
        ...(options.ingestThread.entry !== undefined ? { entry: options.ingestThread.entry } : {}),
        config,
        eventConfig,
        store,
        watcher,
        log: app.log,
        onStopped(reason) {
          thread = undefined;
          app.log.error({ reason }, 'the event-ingest thread stopped: events are ingested on the event loop from now on');
          // Its catch-up of the served version may not have finished: redo it here.
          const served = watcher.current();
          if (served && !closed.signal.aborted) catchUpOnSwitch(localUpdater(), served, app.log, closed.signal);
        },
      });
    } catch (err) {
      app.log.warn({ reason: (err as Error).message }, 'the event-ingest thread did not start: events are ingested on the event loop');
    }
  }
  const ingest: EventIngest = {
    config: eventConfig,
    ingest: (events) => (thread ? thread.ingest(events) : localUpdater().ingest(watcher.current(), events)),
  };
  const service = new RecService(store, watcher, {
    answerCacheSize: config.answerCacheSize,
    observeStore: (op, s, ok) => metrics.observeStore(op, s, ok),
    livePopularity,
    refreshMs: config.refreshMs,
  });
  const deps = { store, watcher, service, metrics };
  if (fastLaneApplies(config)) fastLane = createFastLane({ watcher, service, metrics, log: app.log, requestIdOf, closing: () => closing });

  registerHealthRoutes(app, deps);
  registerReadRoutes(app, deps);
  registerAdminRoutes(app, deps);
  registerEventRoutes(app, { ...deps, ingest, maxEventsInFlight: config.maxEventsInFlight });

  // Graceful shutdown: once closing, answers to in-flight requests close their connection, so
  // keep-alive clients cannot hold the server open after their last response.
  app.addHook('preClose', (done) => {
    closing = true;
    refuseWhileClosing = (req, res) => {
      const requestId = requestIdOf(req);
      app.log.info({ reqId: requestId, method: req.method, url: req.url, statusCode: 503 }, 'request refused: the server is shutting down');
      answerClosing(res, requestId);
    };
    done();
  });
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onClose', async () => {
    closed.abort();
    watcher.stop();
    await thread?.close();
    await local?.ranker.close();
  });
  await watcher.start();
  return app;
}
