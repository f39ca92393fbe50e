/**
 * @module Liveness (/healthz: the process answers) and readiness (/readyz: the store answers and its
 * active version is loaded; 503 with the reason otherwise, so load balancers route around it).
 */
import type { RouteDeps, RtrecApp } from '../app-types.js';
import { ErrorSchema, HealthSchema, ReadySchema } from '../schemas.js';

export function registerHealthRoutes(app: RtrecApp, deps: RouteDeps): void {
  app.get('/healthz', { config: { access: 'public' }, schema: { summary: 'Process is alive', tags: ['health'], response: { 200: HealthSchema } } }, (_req, reply) => {
    void reply.send({ status: 'ok' });
  });

  app.get('/readyz', {
    config: { access: 'public' },
    schema: { summary: 'Store reachable and active version loaded', tags: ['health'], response: { 200: ReadySchema, 503: ErrorSchema } },
  }, (_req, reply) => {
    const why = deps.watcher.notReadyReason();
    if (why) void reply.code(503).send(why);
    else void reply.send({ status: 'ready', modelVersion: deps.watcher.current()?.version, loadingVersion: deps.watcher.loading });
  });
}
