/**
 * @module The fast lane: the request that makes up most of a recommendation API's traffic — GET
 * /v1/users/{id}/recommendations with a plain id and at most `?k=N` — answered by the node:http
 * server before Fastify's request pipeline (routing, schema validation, hooks, reply object),
 * which on this route cost about as much CPU as the work itself. Whatever the lane is not sure
 * about goes to Fastify untouched: other methods and routes, ids needing percent-encoding, any other
 * query parameter or an invalid k, no version loaded yet, shutdown under way, and any failure while
 * answering — so validation, every error answer, authentication and rate limits stay Fastify's alone,
 * and the lane only exists when reads need neither a key nor a rate limit (the default).
 *
 * What the lane answers is what the Fastify route answers for the same request: the same RecService
 * call and renderer (fast-lane.test.ts compares the two byte for byte), the same headers (request id,
 * degraded flag, `connection: close` while shutting down), counted in the same metrics series and
 * logged as the Fastify access log does.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger } from 'fastify';
import type { ActiveVersionWatcher } from './active-version.js';
import { userRecsAnswer } from './answer-json.js';
import type { ServeConfig } from './config.js';
import type { ServeMetrics } from './plugins/metrics.js';
import type { RecService } from './rec-service.js';
import { DEGRADED_HEADER, JSON_TYPE, USER_RECS_ROUTE } from './routes/read-routes.js';
import { DEFAULT_K } from './schemas.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;
/** Answers a request, or hands it to `fastify` (Fastify's own request handler). */
export type FastLane = (req: IncomingMessage, res: ServerResponse, fastify: RequestHandler) => void;

export interface FastLaneDeps {
  readonly watcher: ActiveVersionWatcher;
  readonly service: RecService;
  readonly metrics: ServeMetrics;
  readonly log: FastifyBaseLogger;
  readonly requestIdOf: (req: IncomingMessage) => string;
  /** True once the server is shutting down. */
  readonly closing: () => boolean;
}

/**
 * Ids of unreserved URL characters only (nothing to decode, no control characters, bytes = chars,
 * at most 256) and k as the schema allows it (1..100, no leading zero): exactly the requests whose
 * validation the lane can decide by this match alone.
 */
const PLAIN_USER_RECS = /^\/v1\/users\/([A-Za-z0-9._~-]{1,256})\/recommendations(?:\?k=(100|[1-9][0-9]?))?$/;

/** Log levels at which the access log has lines for successful answers. */
const DEBUG_LEVELS = new Set(['debug', 'trace']);

/** The lane applies when reads need no per-request access decision (no key, no rate limit). */
export function fastLaneApplies(config: Pick<ServeConfig, 'requireKeyForReads' | 'rateLimitRps'>): boolean {
  return !config.requireKeyForReads && config.rateLimitRps === 0;
}

export function createFastLane(deps: FastLaneDeps): FastLane {
  const { watcher, service, metrics, log } = deps;
  const observe = metrics.requestObserver('GET', 200, USER_RECS_ROUTE);
  return (req, res, fastify) => {
    const match = req.method === 'GET' && !deps.closing() ? PLAIN_USER_RECS.exec(req.url ?? '') : null;
    const snap = match ? watcher.current() : undefined;
    if (!match || !snap) {
      fastify(req, res);
      return;
    }
    const started = performance.now();
    const userId = match[1];
    const k = match[2] === undefined ? DEFAULT_K : Number(match[2]);
    service
      .userRecs(snap, userId, { k })
      .then((ans) => {
        const { text, bytes } = userRecsAnswer(snap, userId, ans.source, ans.selection);
        const requestId = deps.requestIdOf(req);
        const headers: OutgoingHttpHeaders = { 'content-type': JSON_TYPE, 'content-length': bytes, 'x-request-id': requestId };
        if (ans.degraded) {
          headers[DEGRADED_HEADER] = '1';
          metrics.degraded.inc({ route: 'user-recs' });
        }
        if (deps.closing()) headers.connection = 'close';
        res.writeHead(200, headers);
        res.end(text);
        const ms = performance.now() - started;
        observe(ms / 1000);
        // As app.ts's access log: successful answers at debug.
        if (DEBUG_LEVELS.has(log.level)) log.debug({ reqId: requestId, method: 'GET', url: req.url, statusCode: 200, responseTime: ms }, 'request completed');
      })
      .catch((err: unknown) => {
        // Unexpected (store trouble is answered degraded). Before anything was sent, Fastify answers
        // the request (a GET has no body to re-read), and its error if it fails again, as always.
        if (!res.headersSent) {
          fastify(req, res);
          return;
        }
        log.error({ err, url: req.url }, 'fast lane failed after answering');
        res.destroy();
      });
  };
}
