/**
 * @module The app's side of the event-ingest thread: POST /v1/events hands its valid events to a
 * worker thread (ingest-worker.ts) that logs them and updates the users' lists with its own store
 * connection, OnlineUpdater and fold-in threads, and answers once both are done, as the updater on the
 * event loop would. Reads stay on the event loop and no longer wait behind that work or its garbage
 * collection: with a trained 50k-item model at 5,000 events/s, read p99 was 19-36 ms against
 * 146-223 ms with the same work on the event loop, in three interleaved pairs at the same CPU per
 * event (BENCHMARKS.md, bench:realtime-batched).
 *
 * Read-your-writes: before an ingest resolves, this thread's store snapshot is renewed (LMDB keeps
 * one per event-loop turn) and, when the thread wrote into another version than the app serves, the
 * app's watcher re-reads the active pointer; the thread likewise re-reads it when the app serves
 * another version than it sees.
 *
 * A thread that stops (it crashed, or was killed) fails the requests it held with
 * RTREC_ERR_EVENT_INGEST_FAILED (503: retry with the same eventIds) and is reported through
 * `onStopped`; the app then ingests on its event loop.
 */
import { Worker } from 'node:worker_threads';
import { RecError, type ErrorCode, ERROR_CODES } from '../../core/errors.js';
import type { EventConfig } from '../../events/event-config.js';
import type { IngestOutcome } from '../../events/online-updater.js';
import type { NewEvent } from '../../store/event-log.js';
import type { OnlineStore } from '../../store/online-store.js';
import { resolveWorkerEntry } from '../../math/worker-pool.js';
import type { ActiveVersionWatcher } from '../active-version.js';
import type { ServeConfig } from '../config.js';
import type { EventIngest, IngestLog } from './event-ingest.js';
import type { FromIngestThread, IngestWorkerData, ToIngestThread } from './ingest-messages.js';

export interface IngestThreadOptions {
  /** Where the thread opens its own connection to the store the app serves from. */
  readonly storeUrl: string;
  readonly config: Readonly<ServeConfig>;
  readonly eventConfig: EventConfig;
  /** The app's store and watcher, kept in step with what the thread writes (see module doc). */
  readonly store: OnlineStore;
  readonly watcher: ActiveVersionWatcher;
  /** The app's logger: the thread's log lines go through it. */
  readonly log: IngestLog;
  /** Told once, when the thread stops without being closed. */
  readonly onStopped: (reason: string) => void;
  /** The compiled worker entry; default: ingest-worker.js beside this module (null: none). */
  readonly entry?: URL | null;
}

export interface IngestThread extends EventIngest {
  /** Lets in-flight ingests finish (the app has drained its requests), then stops the thread. */
  close(): Promise<void>;
}

interface Waiting {
  resolve(outcome: IngestOutcome): void;
  reject(err: Error): void;
}

/** Starts the thread; resolves once it is ready, rejects with why it could not start. */
export function startIngestThread(options: IngestThreadOptions): Promise<IngestThread> {
  const entry = options.entry === undefined ? resolveWorkerEntry('./ingest-worker.js', import.meta.url) : options.entry;
  if (!entry) return Promise.reject(new Error('no compiled ingest-worker.js (run npm run build)'));
  const data: IngestWorkerData = { storeUrl: options.storeUrl, config: options.config };
  const worker = new Worker(entry, { workerData: data });
  // The app closes it; should the app fail to build after this, a thread left running must not keep the process alive.
  worker.unref();
  const waiting = new Map<number, Waiting>();
  let nextId = 1;
  let closing: Promise<void> | undefined;
  let stopped: string | undefined;
  let ready: { resolve(): void; reject(err: Error): void } | undefined;
  let whenClosed: (() => void) | undefined;

  const stop = (reason: string): void => {
    if (stopped !== undefined) return;
    stopped = reason;
    const failure = new RecError('RTREC_ERR_EVENT_INGEST_FAILED', `the event-ingest thread stopped (${reason}) while logging these events; retry with the same eventIds`);
    for (const w of waiting.values()) w.reject(failure);
    waiting.clear();
    if (ready) ready.reject(new Error(reason));
    else if (!closing) options.onStopped(reason);
    whenClosed?.();
  };

  worker.on('message', (m: FromIngestThread) => {
    switch (m.type) {
      case 'ready':
        ready?.resolve();
        ready = undefined;
        return;
      case 'start-failed':
        stop(`it could not open the store: ${m.message}`);
        return;
      case 'log':
        options.log[m.level]({ ...m.obj, thread: 'event-ingest' }, m.msg);
        return;
      case 'outcome':
        void settle(m.id, m.outcome);
        return;
      case 'failed': {
        const w = waiting.get(m.id);
        waiting.delete(m.id);
        w?.reject(m.code !== undefined && m.code in ERROR_CODES ? new RecError(m.code as ErrorCode, m.message) : new Error(m.message));
        return;
      }
      case 'closed':
        stopped ??= 'closed';
        whenClosed?.();
    }
  });
  worker.on('error', (err) => stop(`it failed: ${err.message}`));
  worker.on('exit', (code) => stop(`it exited with code ${code}`));

  /** Resolves an ingest once the app's reads will see what the thread wrote. */
  async function settle(id: number, outcome: IngestOutcome): Promise<void> {
    const w = waiting.get(id);
    waiting.delete(id);
    if (!w) return;
    try {
      options.store.renewReadSnapshot();
      if (outcome.version !== null && outcome.version !== options.watcher.current()?.version) await options.watcher.refresh();
      w.resolve(outcome);
    } catch (err) {
      w.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  const thread: IngestThread = {
    config: options.eventConfig,
    ingest(events: readonly NewEvent[]) {
      if (stopped !== undefined) return Promise.reject(new RecError('RTREC_ERR_EVENT_INGEST_FAILED', `the event-ingest thread stopped (${stopped}); retry`));
      return new Promise<IngestOutcome>((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        const m: ToIngestThread = { type: 'ingest', id, events, served: options.watcher.current()?.version ?? null };
        worker.postMessage(m);
      });
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        if (stopped !== undefined) {
          resolve();
          return;
        }
        whenClosed = resolve;
        worker.postMessage({ type: 'close' } satisfies ToIngestThread);
      }).then(() => worker.terminate().then(() => undefined));
      return closing;
    },
  };
  return new Promise<IngestThread>((resolve, reject) => {
    ready = { resolve: () => resolve(thread), reject };
  });
}
