/**
 * @module The server's own view of read latency, from its Prometheus histogram: the time from the
 * request handler's start to the answer, without the time a request spent in socket buffers or in
 * the load generator. A benchmark that reports client-side latency on a machine it shares with the
 * server can report this beside it, to tell time spent answering from time spent waiting for a core.
 */

/** Cumulative counts of one histogram series: `buckets[j]` requests took at most `bounds[j]` seconds. */
export interface HistogramCounts {
  readonly bounds: readonly number[];
  readonly buckets: readonly number[];
  readonly count: number;
}

const SERIES = 'rtrec_http_request_duration_seconds';

/**
 * The request-duration histogram of one route, method and status as the server at `port` reports it
 * now (all zero when it has no such requests yet).
 */
export async function readRouteHistogram(port: number, route: string, method: string, status: number): Promise<HistogramCounts> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  const labels = `route="${route}",method="${method}",status="${status}"`;
  const bounds: number[] = [];
  const buckets: number[] = [];
  let count = 0;
  for (const line of (await res.text()).split('\n')) {
    if (!line.includes(labels)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith(`${SERIES}_count{`)) count = value;
    const bucket = `${SERIES}_bucket{le="`;
    if (line.startsWith(bucket) && !line.startsWith(`${bucket}+Inf"`)) {
      bounds.push(Number(line.slice(bucket.length, line.indexOf('"', bucket.length))));
      buckets.push(value);
    }
  }
  return { bounds, buckets, count };
}

/**
 * Of the requests counted between `before` and `after`, the share answered within `seconds` (which
 * must be one of the histogram's bucket bounds), or NaN when there were none.
 */
export function shareWithin(before: HistogramCounts, after: HistogramCounts, seconds: number): number {
  const j = after.bounds.indexOf(seconds);
  if (j < 0) throw new Error(`${seconds} s is not a bucket bound of the histogram (${after.bounds.join(', ')})`);
  const total = after.count - before.count;
  if (total <= 0) return NaN;
  return (after.buckets[j] - (before.buckets[j] ?? 0)) / total;
}
