/**
 * @module The Fastify instance type the routes are written against (TypeBox type provider), and the
 * services every route module receives.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { OnlineStore } from '../store/online-store.js';
import type { ActiveVersionWatcher } from './active-version.js';
import type { ServeMetrics } from './plugins/metrics.js';
import type { RecService } from './rec-service.js';

export type RtrecApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface RouteDeps {
  readonly store: OnlineStore;
  readonly watcher: ActiveVersionWatcher;
  readonly service: RecService;
  readonly metrics: ServeMetrics;
}
