/**
 * @module /metrics of a multi-worker server (`rtrec serve --workers N`): a scrape reaches one worker,
 * which asks the primary over the cluster IPC channel; the primary collects every worker's registry
 * with prom-client's AggregatorRegistry and answers with the merged text (counters and histograms
 * summed, gauges merged by their own `aggregator`). So one scrape shows the whole server, as with
 * one process. A single-process server never uses this module.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'rtrec:metrics-request';
const REPLY = 'rtrec:metrics-reply';

interface MetricsRequest {
  readonly type: typeof REQUEST;
  readonly id: number;
}

interface MetricsReply {
  readonly type: typeof REPLY;
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

function isRequest(msg: unknown): msg is MetricsRequest {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === REQUEST;
}

function isReply(msg: unknown): msg is MetricsReply {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === REPLY;
}

/**
 * In the primary: answers workers' metrics requests with the merged metrics of all workers. Requests
 * arriving while a collection runs share it: /metrics is public, and a flood of scrapes would
 * otherwise make the primary collect every worker's registry once per scrape.
 */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  let collecting: Promise<string> | undefined;
  cluster.on('message', (worker, msg: unknown) => {
    if (!isRequest(msg)) return;
    const send = (reply: MetricsReply) => {
      if (worker.isConnected()) worker.send(reply);
    };
    collecting ??= aggregator.clusterMetrics().finally(() => {
      collecting = undefined;
    });
    collecting.then(
      (text) => send({ type: REPLY, id: msg.id, text }),
      (err: unknown) => send({ type: REPLY, id: msg.id, error: err instanceof Error ? err.message : String(err) }),
    );
  });
}

/** True in a worker of `rtrec serve --workers N`. */
export function inClusterWorker(): boolean {
  return cluster.isWorker && typeof process.send === 'function';
}

/** In a worker: lets the primary read `registry` (prom-client answers its requests). */
export function shareWorkerMetrics(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one installs prom-client's worker-side listener.
  new AggregatorRegistry();
}

let nextId = 0;
let pending: Promise<string> | undefined;

/**
 * In a worker: the merged metrics of every worker, from the primary. Scrapes arriving while a request
 * is out share its answer (one IPC round trip and one message listener, however many scrapes).
 * @throws Error when the primary does not answer within `timeoutMs`
 */
export function requestClusterMetrics(timeoutMs: number): Promise<string> {
  pending ??= askPrimary(timeoutMs).finally(() => {
    pending = undefined;
  });
  return pending;
}

function askPrimary(timeoutMs: number): Promise<string> {
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    const onMessage = (msg: unknown) => {
      if (!isReply(msg) || msg.id !== id) return;
      finish();
      if (msg.text !== undefined) resolve(msg.text);
      else reject(new Error(`the primary could not merge the workers' metrics: ${msg.error ?? 'no reason given'}`));
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`the primary did not send the workers' metrics within ${timeoutMs} ms`));
    }, timeoutMs);
    function finish(): void {
      clearTimeout(timer);
      process.off('message', onMessage);
    }
    process.on('message', onMessage);
    process.send!({ type: REQUEST, id } satisfies MetricsRequest);
  });
}
