/**
 * @module Prometheus metrics at /metrics (prom-client, one registry per app): request counts and
 * latency histograms by route and status, store read latency by operation and outcome, the active
 * model version, store reachability and answers served degraded, plus Node process metrics.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { inClusterWorker, requestClusterMetrics, shareWorkerMetrics } from '../cluster-metrics.js';
import { FastCounter, FastHistogram, type CounterSeries, type HistogramSeries } from './fast-metrics.js';

export interface ServeMetrics {
  readonly registry: Registry;
  readonly activeVersion: Gauge;
  readonly storeUp: Gauge;
  readonly degraded: Counter<'route'>;
  readonly versionSwitches: Counter;
  observeStore(operation: string, seconds: number, ok: boolean): void;
  /**
   * For requests answered outside Fastify's hooks (the fast lane): counts one (method, status, route)
   * under the same series, the series looked up once.
   */
  requestObserver(method: string, status: number, route: string): (seconds: number) => void;
}

/** How long a worker waits for the primary's merged metrics before answering with its own. */
const CLUSTER_METRICS_TIMEOUT_MS = 3_000;

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function registerMetrics(app: FastifyInstance): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rtrec_' });
  // Updated on every request: the cheap metrics of fast-metrics.ts, not prom-client's own.
  const requests = new FastCounter({ name: 'rtrec_http_requests_total', help: 'HTTP requests by route, method and status code', registers: [registry] });
  const duration = new FastHistogram({ name: 'rtrec_http_request_duration_seconds', help: 'HTTP request latency by route, method and status code', buckets: LATENCY_BUCKETS, registers: [registry] });
  const store = new FastHistogram({ name: 'rtrec_store_read_duration_seconds', help: 'Online store read latency by operation and outcome', buckets: LATENCY_BUCKETS, registers: [registry] });
  // With several workers these merge by 'min': the oldest version any worker serves, and 0 when any
  // worker cannot reach the store.
  const activeVersion = new Gauge({ name: 'rtrec_active_model_version', help: 'Published version this process serves (0 before the first load; with workers, the lowest any serves)', aggregator: 'min', registers: [registry] });
  const storeUp = new Gauge({ name: 'rtrec_store_up', help: '1 when the online store answers, else 0 (with workers, 0 when any worker cannot reach it)', aggregator: 'min', registers: [registry] });
  const degraded = new Counter({ name: 'rtrec_degraded_answers_total', help: 'Answers served from fallbacks because the store was unreachable', labelNames: ['route'], registers: [registry] });
  const versionSwitches = new Counter({ name: 'rtrec_version_switches_total', help: 'Times this process switched to a newly active version', registers: [registry] });

  // Series are looked up once per (route, method, status), by a plain string key.
  const children = new Map<string, { count: CounterSeries; time: HistogramSeries }>();
  function requestSeries(method: string, status: number, route: string): { count: CounterSeries; time: HistogramSeries } {
    const key = `${method} ${status} ${route}`;
    let child = children.get(key);
    if (!child) {
      const labels = { route, method, status: String(status) };
      child = { count: requests.series(labels), time: duration.series(labels) };
      // Unmatched URLs all share the label 'unmatched', so this map stays small.
      children.set(key, child);
    }
    return child;
  }
  function observeRequest(method: string, status: number, route: string, seconds: number): void {
    const child = requestSeries(method, status, route);
    child.count.inc();
    child.time.observe(seconds);
  }
  app.addHook('onResponse', (req, reply, done) => {
    observeRequest(req.method, reply.statusCode, req.routeOptions.url ?? 'unmatched', reply.elapsedTime / 1000);
    done();
  });

  // The same for store reads (a handful of operations).
  const storeChildren = new Map<string, HistogramSeries>();

  const clustered = inClusterWorker();
  if (clustered) shareWorkerMetrics(registry);
  app.get('/metrics', { config: { access: 'public' }, schema: { hide: true } }, async (req, reply) => {
    void reply.header('content-type', registry.contentType);
    if (!clustered) return registry.metrics();
    try {
      return await requestClusterMetrics(CLUSTER_METRICS_TIMEOUT_MS);
    } catch (err) {
      // A scrape still gets this worker's own numbers, marked as such.
      req.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'serving this worker\'s metrics only');
      void reply.header('x-rtrec-metrics-scope', 'worker');
      return registry.metrics();
    }
  });

  return {
    registry,
    activeVersion,
    storeUp,
    degraded,
    versionSwitches,
    requestObserver(method, status, route) {
      const { count, time } = requestSeries(method, status, route);
      return (seconds) => {
        count.inc();
        time.observe(seconds);
      };
    },
    observeStore(operation, seconds, ok) {
      const key = ok ? operation : `${operation}\0error`;
      let child = storeChildren.get(key);
      if (!child) storeChildren.set(key, (child = store.series({ operation, outcome: ok ? 'ok' : 'error' })));
      child.observe(seconds);
    },
  };
}
