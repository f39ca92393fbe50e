/**
 * @module Load for the real-time benchmark: an open loop (requests start at a steady total rate
 * whether or not earlier answers arrived, as in serve-openloop.ts) mixing reads and event posts,
 * plus a probe that measures event-to-fresh-recommendations latency: POST a rating for a user no
 * one has seen, and as soon as the 202 arrives GET that user's list; the time from sending the POST
 * to receiving a personalised list is one sample (a list still "popular" counts as stale).
 */
import { performance } from 'node:perf_hooks';
import { HttpPool, type Answer } from './http-pool.js';

export interface Latencies {
  readonly p50: number;
  readonly p99: number;
  readonly count: number;
  /** Failed requests, timeouts and non-2xx answers. */
  readonly errors: number;
}

export interface MixedResult {
  readonly reads: Latencies;
  readonly events: Latencies;
  /** Completed event posts per second. */
  readonly eventsPerSecond: number;
  readonly readsPerSecond: number;
  /** Reads that found every connection they may use busy, and waited for one (their wait is in their latency). */
  readonly readsWaited: number;
}

export interface Call {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: string;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function summarise(samples: readonly number[], errors: number): Latencies {
  const sorted = Float64Array.from(samples).sort();
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), count: samples.length, errors };
}

/** One HTTP exchange over `pool`; resolves with the status and body text (status 0 on a network error). */
export function send(pool: HttpPool, apiKey: string, call: Call): Promise<Answer> {
  return pool.send(call.body === undefined ? call : { ...call, headers: { 'content-type': 'application/json', 'x-api-key': apiKey } });
}

/**
 * Sends `rate` calls per second for `seconds`, each chosen by `next`, over up to `connections`
 * sockets; with `eventConnections`, posts go over that many sockets of their own (as a tracking
 * back-end's would) and reads keep `connections` to themselves, so a read never waits for a
 * connection held by a post.
 */
export async function mixedOpenLoop(o: { port: number; apiKey: string; rate: number; seconds: number; connections: number; eventConnections?: number; next: () => Call }): Promise<MixedResult> {
  const readPool = new HttpPool(o.port, o.connections);
  const eventPool = o.eventConnections === undefined ? readPool : new HttpPool(o.port, o.eventConnections);
  let readsWaited = 0;
  const reads: number[] = [];
  const events: number[] = [];
  let readErrors = 0;
  let eventErrors = 0;
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  const total = Math.round(o.rate * o.seconds);
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * o.rate));
    while (sent < due) {
      sent++;
      const call = o.next();
      const pool = call.method === 'GET' ? readPool : eventPool;
      if (call.method === 'GET' && pool.saturated) readsWaited++;
      const t0 = performance.now();
      inFlight.push(
        send(pool, o.apiKey, call).then(({ status }) => {
          const ok = status >= 200 && status < 300;
          const ms = performance.now() - t0;
          if (call.method === 'GET') {
            if (ok) reads.push(ms);
            else readErrors++;
          } else if (ok) events.push(ms);
          else eventErrors++;
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  readPool.close();
  eventPool.close();
  return { reads: summarise(reads, readErrors), events: summarise(events, eventErrors), eventsPerSecond: events.length / elapsed, readsPerSecond: reads.length / elapsed, readsWaited };
}

/**
 * Runs `probes` event-to-fresh measurements one after another, spread over `seconds`; `event(n)`
 * gives the n-th probe's user id and event body. One probe runs first, unmeasured (`event(-1)`): it
 * opens the probe's connection and takes the first rating of the server's life, whose one-off costs
 * (a TCP handshake, code not yet compiled) showed up among the slowest of 300 probes in every run.
 */
export async function probeFreshness(o: { port: number; apiKey: string; probes: number; seconds: number; event: (n: number) => { userId: string; body: string } }): Promise<Latencies & { stale: number }> {
  const pool = new HttpPool(o.port, 2);
  const samples: number[] = [];
  let errors = 0;
  let stale = 0;
  const gapMs = (o.seconds * 1000) / o.probes;
  const first = o.event(-1);
  const opened = await send(pool, o.apiKey, { method: 'POST', path: '/v1/events', body: first.body });
  if (opened.status === 202) await send(pool, o.apiKey, { method: 'GET', path: `/v1/users/${encodeURIComponent(first.userId)}/recommendations?k=10` });
  const started = performance.now();
  for (let n = 0; n < o.probes; n++) {
    const wait = started + n * gapMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const { userId, body } = o.event(n);
    const t0 = performance.now();
    const posted = await send(pool, o.apiKey, { method: 'POST', path: '/v1/events', body });
    if (posted.status !== 202) {
      errors++;
      continue;
    }
    const read = await send(pool, o.apiKey, { method: 'GET', path: `/v1/users/${encodeURIComponent(userId)}/recommendations?k=10` });
    const ms = performance.now() - t0;
    if (read.status !== 200) errors++;
    else if (!read.body.includes('"source":"personalized"')) stale++;
    else samples.push(ms);
  }
  pool.close();
  return { ...summarise(samples, errors), stale };
}
