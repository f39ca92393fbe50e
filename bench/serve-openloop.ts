/**
 * @module An open-loop load generator for the serving benchmark: requests start at a steady total
 * rate (spread over every millisecond, not in bursts) on a pool of keep-alive connections, whether
 * or not earlier answers have arrived, so the measured latency is what a client sees at that load.
 * (autocannon's `overallRate` sends each second's requests in a burst, which measures queueing.)
 * Requests go through http-pool.ts, whose client takes less CPU from the server than node:http's.
 */
import { performance } from 'node:perf_hooks';
import { HttpPool } from './http-pool.js';

export interface OpenLoopResult {
  readonly p50: number;
  readonly p99: number;
  /** Completed requests per second. */
  readonly rps: number;
  /** Completed requests. */
  readonly completed: number;
  /** Failed requests, timeouts and non-2xx answers. */
  readonly errors: number;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Sends `rate` requests per second for `seconds` to 127.0.0.1:`port`, paths from `nextPath`. */
export async function openLoop(o: { port: number; rate: number; seconds: number; connections: number; nextPath: () => string }): Promise<OpenLoopResult> {
  const pool = new HttpPool(o.port, o.connections);
  const latencies: number[] = [];
  let errors = 0;
  let pending = 0;
  const started = performance.now();
  const total = Math.round(o.rate * o.seconds);
  let sent = 0;
  await new Promise<void>((resolve) => {
    const finish = () => {
      if (sent === total && pending === 0) resolve();
    };
    const fire = () => {
      const t0 = performance.now();
      pending++;
      void pool.send({ method: 'GET', path: o.nextPath() }).then(({ status }) => {
        pending--;
        if (status >= 200 && status < 300) latencies.push(performance.now() - t0);
        else errors++;
        finish();
      });
    };
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * o.rate));
      while (sent < due) {
        sent++;
        fire();
      }
      if (sent < total) setTimeout(tick, 1);
      else finish();
    };
    tick();
  });
  const elapsed = (performance.now() - started) / 1000;
  pool.close();
  const sorted = Float64Array.from(latencies).sort();
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), rps: latencies.length / elapsed, completed: latencies.length, errors };
}
