/**
 * @module Running the HTTP server: open the store (Redis connects in the background, so a server
 * started during a Redis outage comes up not-ready and recovers by itself), build the app, listen,
 * and shut down gracefully on SIGTERM/SIGINT — stop accepting, let in-flight requests finish (up to
 * shutdownTimeoutMs), close the store. With workers > 1 the primary forks that many processes with
 * node:cluster, which share the port; it restarts a worker that dies and forwards shutdown signals.
 */
import cluster, { type Worker } from 'node:cluster';
import { pino, type Logger } from 'pino';
import { redactUrl } from '../core/redact-url.js';
import { unfixedLmdbWarning } from '../store/lmdb-binary.js';
import { openStore } from '../store/open-store.js';
import { buildApp, REDACTED_PATHS } from './app.js';
import { serveClusterMetrics } from './cluster-metrics.js';
import type { RtrecApp } from './app-types.js';
import type { ServeConfig } from './config.js';

export interface RunningServer {
  readonly app: RtrecApp;
  /** e.g. http://127.0.0.1:8080 */
  readonly address: string;
  /** Stops accepting connections, waits for in-flight requests, closes the store. Idempotent. */
  shutdown(): Promise<void>;
}

/** Opens the store, builds the app and listens; resolves once listening. */
export async function startServer(config: Readonly<ServeConfig>, options: { logger?: Parameters<typeof buildApp>[0]['logger'] } = {}): Promise<RunningServer> {
  // Told before the app (and its logger) exists when the append thread fails to start: kept till then.
  const early: { level: 'warn' | 'error'; reason: string }[] = [];
  let tell = (level: 'warn' | 'error', reason: string): void => void early.push({ level, reason });
  // On LMDB, event appends run on a worker thread so reads are not held up by their transactions.
  const store = await openStore(config.store, {
    connect: 'background',
    readTimeoutMs: config.storeTimeoutMs,
    appendThread: true,
    onAppendFallback: (reason) => tell('warn', reason),
    onFlushError: (reason) => tell('error', reason),
  });
  const unfixed = unfixedLmdbWarning(config.store);
  if (unfixed) tell('warn', unfixed);
  let app: RtrecApp;
  try {
    app = await buildApp({ store, config, ingestThread: { storeUrl: config.store }, ...(options.logger !== undefined ? { logger: options.logger } : {}) });
    const log = app.log;
    tell = (level, reason) => log[level](reason);
    for (const { level, reason } of early.splice(0)) tell(level, reason);
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await store.close();
    throw err;
  }
  const addr = app.server.address();
  const address = typeof addr === 'object' && addr ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : String(addr);
  let closing: Promise<void> | undefined;
  return {
    app,
    address,
    shutdown() {
      closing ??= (async () => {
        try {
          await app.close();
        } finally {
          await store.close();
        }
      })();
      return closing;
    },
  };
}

/**
 * The `rtrec serve` process: one in-process server, or a primary with `workers` forked servers.
 * Resolves after a graceful shutdown.
 */
export async function runServe(config: Readonly<ServeConfig>): Promise<void> {
  const log = pino({ level: config.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } });
  if (config.workers > 1 && cluster.isPrimary) return runPrimary(config, log);
  const server = await startServer(config);
  server.app.log.info({ address: server.address, store: redactUrl(config.store), pid: process.pid }, 'rtrec serving');
  await untilSignal((sig) => server.app.log.info({ signal: sig }, 'already shutting down; signal ignored while in-flight requests drain'));
  server.app.log.info({ timeoutMs: config.shutdownTimeoutMs }, 'shutting down: draining in-flight requests');
  const forced = setTimeout(() => {
    server.app.log.error('in-flight requests did not finish in time; exiting');
    process.exit(1);
  }, config.shutdownTimeoutMs);
  forced.unref();
  await server.shutdown();
  clearTimeout(forced);
  // Logs are written in batches; write out the last ones before the process ends.
  (server.app.log as unknown as { flush?: () => void }).flush?.();
  // A cluster worker stays alive while its IPC channel to the primary is open.
  cluster.worker?.disconnect();
}

/**
 * Resolves on SIGTERM/SIGINT, or (in a cluster worker) when the primary goes away. The handlers stay
 * installed: removing them would restore the default action, and a second signal would then end the
 * process in the middle of draining — as happens to every worker when Ctrl-C signals the whole
 * process group and the primary then sends its SIGTERM. The drain is bounded by its own timeout.
 */
function untilSignal(onRepeat?: (sig: string) => void): Promise<string> {
  return new Promise((resolve) => {
    let received = false;
    const on = (sig: string) => {
      if (received) {
        onRepeat?.(sig);
        return;
      }
      received = true;
      resolve(sig);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
    // A worker whose primary died (even by SIGKILL) must not keep serving on its own.
    cluster.worker?.once('disconnect', () => on('primary gone'));
  });
}

/**
 * V8's young generation for serving processes, in MB per semi-space (V8's default is 16 on 64-bit).
 * A request allocates many short-lived objects; a larger nursery means fewer scavenges, and measured
 * about 10% less CPU per request (bench:serve).
 */
export const SERVE_SEMI_SPACE_MB = 64;

/**
 * The nursery of a server with online updates. Its scavenges also copy what outlives them: the fold
 * cache's new entries and the groups of events in flight, about 19 MB a scavenge with a 64 MB nursery
 * (trained 50k catalogue, 5,000 events/s), which took 12-20 ms every ~0.7 s, and the reads that
 * arrived meanwhile waited. With 32 MB the read p99 was lower in 5 of 6 interleaved pairs (medians
 * 24.5 against 45 ms on Redis, 23.6 against 60 on LMDB, BENCHMARKS.md; measured as
 * `--max-semi-space-size=24`, which V8 rounds up to the next power of two); 8 MB was worse.
 */
export const ONLINE_SEMI_SPACE_MB = 32;

/**
 * Node flags of serving processes. Besides the nursery size (SERVE_SEMI_SPACE_MB, or
 * ONLINE_SEMI_SPACE_MB with online updates), `--single-threaded-gc` when the server only reads:
 * V8's background GC threads compete with request handling for the same cores when a
 * server runs a process per core (and in a CPU-limited pod); without them, measured on the 2-core
 * machine with autocannon at 200 connections, 29.5 → 26 µs of CPU per request and ~12% more
 * requests/s at saturation. With online updates (a model folder) the heap holds the fold cache and
 * the events in flight, and on one thread a major GC's final pause took ~60 ms, which the reads
 * waiting behind it showed as their p99 (50k-item catalogue at 5,000 events/s, back-to-back single
 * runs: read p99 132 ms with the flag, 21 ms without); there the GC threads stay. Both flags only work at process
 * start (and the GC flag not through NODE_OPTIONS): workers get them on their command line
 * (workerExecArgv), the image passes them to `serve` (deploy/docker-entrypoint.sh), and a
 * single-process server started by hand runs without them unless given (docs/operate.md).
 */
export function serveNodeFlags(onlineUpdates: boolean): string[] {
  return [semiSpaceFlag(onlineUpdates), ...(onlineUpdates ? [] : ['--single-threaded-gc'])];
}

function semiSpaceFlag(onlineUpdates: boolean): string {
  return `--max-semi-space-size=${onlineUpdates ? ONLINE_SEMI_SPACE_MB : SERVE_SEMI_SPACE_MB}`;
}

/** The flags of a server without online updates (serveNodeFlags). */
export const SERVE_NODE_FLAGS: readonly string[] = serveNodeFlags(false);

/**
 * The workers' node flags: the primary's, plus each serving flag (serveNodeFlags) not already set
 * either way.
 */
export function workerExecArgv(execArgv: readonly string[], nodeOptions = process.env.NODE_OPTIONS ?? '', onlineUpdates = false): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)];
  const has = (pattern: RegExp) => given.some((a) => pattern.test(a));
  const out = [...execArgv];
  if (!has(/^--max-semi-space-size(=|$)/)) out.push(semiSpaceFlag(onlineUpdates));
  if (!onlineUpdates && !has(/^--(no-)?single-threaded-gc$/)) out.push('--single-threaded-gc');
  return out;
}

async function runPrimary(config: Readonly<ServeConfig>, log: Logger): Promise<void> {
  let shuttingDown = false;
  cluster.setupPrimary({ execArgv: workerExecArgv(process.execArgv, process.env.NODE_OPTIONS ?? '', config.modelDir !== '') });
  serveClusterMetrics();
  const restarts: number[] = [];
  const fork = (): Worker => cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (shuttingDown) return;
    log.error({ pid: worker.process.pid, code, signal }, 'worker died; starting a new one');
    const now = Date.now();
    restarts.push(now);
    while (restarts.length > 0 && now - restarts[0] > 60_000) restarts.shift();
    // A worker that keeps dying at once (bad config, port taken) would loop forever: give up.
    if (restarts.length > config.workers * 5) {
      log.fatal('workers keep dying; stopping');
      shuttingDown = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      process.exitCode = 1;
      return;
    }
    fork();
  });
  for (let j = 0; j < config.workers; j++) fork();
  log.info({ workers: config.workers, pid: process.pid, host: config.host, port: config.port }, 'rtrec primary started');
  const sig = await Promise.race([untilSignal((repeat) => log.info({ signal: repeat }, 'already shutting down; signal ignored while workers drain')), allWorkersGone()]);
  shuttingDown = true;
  log.info({ signal: sig }, 'shutting down workers');
  for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  await allWorkersGone();
}

function allWorkersGone(): Promise<'workers-gone'> {
  return new Promise((resolve) => {
    const check = () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        cluster.off('exit', check);
        resolve('workers-gone');
      }
    };
    cluster.on('exit', check);
  });
}
