/**
 * @module Entry of the event-ingest thread (see ingest-thread.ts): opens its own connection to the
 * store, its own model source, live popularity, fold-in threads and OnlineUpdater, and watches the
 * active version itself, catching up on each switch as the app does when it ingests on its event
 * loop. Ingests what the app posts and answers with the outcome; logs through the app's logger.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { isRecError } from '../../core/errors.js';
import { loadEventConfig } from '../../events/event-config.js';
import { threadedFoldRanker } from '../../events/fold-ranker.js';
import { LivePopularity } from '../../events/live-popularity.js';
import { modelDirSource } from '../../events/model-source.js';
import { OnlineUpdater } from '../../events/online-updater.js';
import type { OnlineStore } from '../../store/online-store.js';
import { openStore } from '../../store/open-store.js';
import { ActiveVersionWatcher } from '../active-version.js';
import { catchUpOnSwitch, NO_MODELS, type IngestLog } from './event-ingest.js';
import type { FromIngestThread, IngestWorkerData, ToIngestThread } from './ingest-messages.js';

/**
 * LMDB appends of at most this many events run on this thread when the append thread holds none. At
 * moderate rates a group is an event or two, which then commits without the trip to the append thread
 * and back (MovieLens mixed load: an event POST's p50 about 17% lower against the reads' p50 of the
 * same run, in 16 of 16 runs). Larger groups keep the append thread, which commits one group while this
 * thread plans the next: with 32 here, posts of 20 events on a 50k-item catalogue completed ~7% fewer
 * events/s (BENCHMARKS.md, real-time section).
 */
const INLINE_APPEND_EVENTS = 4;

const port: MessagePort = parentPort ?? notAWorker();
const { storeUrl, config } = workerData as IngestWorkerData;
const post = (m: FromIngestThread): void => port.postMessage(m);
const log: IngestLog = {
  info: (obj, msg) => post({ type: 'log', level: 'info', obj, msg }),
  warn: (obj, msg) => post({ type: 'log', level: 'warn', obj, msg }),
  error: (obj, msg) => post({ type: 'log', level: 'error', obj, msg }),
};
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

let store: OnlineStore;
try {
  // LMDB appends run on a thread of their own here too, as in the app (see server.ts), except small
  // ones while that thread is idle: this thread is off the event loop already, so they skip the
  // trip there and back (INLINE_APPEND_EVENTS).
  store = await openStore(storeUrl, {
    connect: 'background',
    readTimeoutMs: config.storeTimeoutMs,
    appendThread: true,
    inlineAppendsUpTo: INLINE_APPEND_EVENTS,
    onAppendFallback: (reason) => log.warn({}, reason),
    onFlushError: (reason) => log.error({}, reason),
  });
} catch (err) {
  post({ type: 'start-failed', message: message(err) });
  // Ends this thread only; the app goes on ingesting on its event loop.
  process.exit(1);
}
const models = config.modelDir === '' ? NO_MODELS : modelDirSource(config.modelDir);
const popularity = new LivePopularity(store, { halfLifeHours: config.popularityHalfLifeHours });
const ranker = threadedFoldRanker({ threads: config.foldThreads, onFallback: (reason) => log.warn({}, reason) });
const updater = new OnlineUpdater(store, loadEventConfig(config.eventWeights), models, popularity, { sync: config.eventSync, ranker });
const closed = new AbortController();
const watcher = new ActiveVersionWatcher(store, { refreshMs: config.refreshMs }, {
  onSwitch: (snapshot) => catchUpOnSwitch(updater, snapshot, log, closed.signal),
});

port.on('message', (m: ToIngestThread) => {
  if (m.type === 'close') {
    void close();
    return;
  }
  void ingest(m);
});

async function ingest(m: Extract<ToIngestThread, { type: 'ingest' }>): Promise<void> {
  const { id } = m;
  try {
    // The app's watcher and this one re-read the active pointer on their own timers: when they
    // disagree, look again, so the lists written are those of the version the app reads from.
    if ((watcher.current()?.version ?? null) !== m.served) await watcher.refresh();
    post({ type: 'outcome', id, outcome: await updater.ingest(watcher.current(), m.events) });
  } catch (err) {
    post({ type: 'failed', id, code: isRecError(err) ? err.code : undefined, message: message(err) });
  }
}

function notAWorker(): never {
  throw new Error('ingest-worker.js runs as a worker thread of rtrec serve');
}

async function close(): Promise<void> {
  closed.abort();
  watcher.stop();
  try {
    await ranker.close();
    await store.close();
  } finally {
    post({ type: 'closed' });
    port.close();
  }
}

await watcher.start();
post({ type: 'ready' });
