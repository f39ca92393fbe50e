/**
 * @module Runs the LMDB store's event appends on a worker thread. An asynchronous lmdb-js
 * transaction runs its callback on the thread that made it: on the event loop, a group of 1,000
 * events (about ten gets and puts each: log, user index, counters, lists) held up every read for
 * ~45 ms at 5,000 events/s on a 50k-item catalogue. The thread opens the same environment (lmdb-js
 * shares it within a process; LMDB serialises writers across threads and processes alike) and runs
 * the same transaction body (lmdb-event-txn.ts), so the outcome is identical.
 *
 * After a reply, the caller's read snapshot is renewed before the append resolves, so what it just
 * committed is visible to its next read (lmdb-js renews it by itself only on its own commits).
 * If the thread fails to start, appends run on the event loop; if it dies, the appends it held are
 * rejected (their outcome is unknown: a retry with the same eventIds is safe) and later ones run on
 * the event loop.
 */
import { Worker } from 'node:worker_threads';
import { RecError } from '../core/errors.js';
import type { NewEvent } from './event-log.js';
import type { PackedAppend, TxnAppendOptions } from './lmdb-event-txn.js';
import type { AppendThreadReply, AppendThreadRequest } from './lmdb-append-worker.js';

/** The reply id of a flush that failed after its appends were answered (`error` says why). */
export const FLUSH_ERROR_ID = -2;

export interface AppendThread {
  /** Resolves true once the thread runs appends, false when it never will (use the event loop). */
  readonly ready: Promise<boolean>;
  /** False once the thread failed, died or was closed. */
  readonly usable: boolean;
  append(events: readonly NewEvent[], options: TxnAppendOptions, fsync: boolean): Promise<PackedAppend>;
  /** Waits for the appends in flight, then stops the thread (idempotent). */
  close(): Promise<void>;
}

export interface AppendThreadOptions {
  /** The environment file (as lmdb-js `open({ path, noSubdir: true })` takes it). */
  readonly path: string;
  /** The compiled worker entry (lmdb-append-worker.js). */
  readonly entry: URL;
  /** Called after every reply, before its append resolves: renews the caller's read snapshot. */
  readonly afterCommit: () => void;
  /** Told why appends moved to the event loop (the thread failed to start or died). */
  readonly onFallback?: (reason: string) => void;
  /** Told when a commit failed to flush after its appends were answered (see lmdb-visible-commit.ts). */
  readonly onFlushError?: (reason: string) => void;
}

interface Waiting {
  readonly resolve: (packed: PackedAppend) => void;
  readonly reject: (err: Error) => void;
  /** The close request's: the thread has closed its handle. */
  readonly close: () => void;
}

export function startAppendThread(options: AppendThreadOptions): AppendThread {
  const worker = new Worker(options.entry, { workerData: { path: options.path } });
  const waiting = new Map<number, Waiting>();
  let nextId = 1;
  let usable = false;
  let closed = false;
  let closing: Promise<void> | undefined;
  let settleReady: (ok: boolean) => void = () => {};
  const ready = new Promise<boolean>((resolve) => (settleReady = resolve));

  let failed = false;
  const fail = (reason: string): void => {
    // A worker that reports it could not open the store then also throws: tell it once.
    if (failed) return;
    failed = true;
    const wasUsable = usable;
    usable = false;
    settleReady(false);
    const err = new RecError('RTREC_ERR_STORE_UNAVAILABLE', `the LMDB append thread stopped (${reason}); whether these events were logged is unknown, and sending them again with the same eventIds is safe`);
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
    worker.unref();
    if (!closed) options.onFallback?.(`${wasUsable ? 'the LMDB append thread stopped' : 'the LMDB append thread did not start'}, appending on the event loop: ${reason}`);
  };

  worker.on('message', (message: AppendThreadReply) => {
    if (message.id === FLUSH_ERROR_ID) {
      options.onFlushError?.(message.error ?? 'an LMDB commit failed to flush to disk');
      return;
    }
    if (message.id === -1) {
      if (message.ready) {
        usable = !closed;
        settleReady(usable);
        if (waiting.size === 0) worker.unref();
      } else fail(message.error ?? 'it could not open the store');
      return;
    }
    const w = waiting.get(message.id);
    if (!w) return;
    waiting.delete(message.id);
    // An append answered once visible (lmdb-visible-commit.ts) may still be flushing: a process that
    // exits without close() then skips that flush, which only a power loss would notice.
    if (waiting.size === 0) worker.unref();
    if (message.packed) {
      options.afterCommit();
      w.resolve(message.packed);
    } else if (message.closed) w.close();
    else w.reject(new Error(message.error ?? 'the LMDB append thread sent a reply without a result'));
  });
  // A thread's uncaught error reaches us on another channel than its messages, so it can arrive
  // before a message the thread posted first (the reason it could not open the store). An error
  // always ends the thread, and Node delivers the thread's messages before 'exit': fail there.
  let uncaught: string | undefined;
  worker.on('error', (err) => (uncaught ??= err.message));
  worker.on('exit', (code) => {
    if (!closed) fail(uncaught ?? `exit code ${code}`);
  });
  // The thread keeps the process alive only while it starts (for the append that started it) and
  // while it holds work (appends or a close in flight).
  const track = (id: number, w: Waiting): void => {
    if (waiting.size === 0) worker.ref();
    waiting.set(id, w);
  };

  return {
    ready,
    get usable() {
      return usable;
    },
    append(events, appendOptions, fsync) {
      if (!usable) return Promise.reject(new RecError('RTREC_ERR_STORE_UNAVAILABLE', 'the LMDB append thread is not running'));
      const id = nextId++;
      return new Promise<PackedAppend>((resolve, reject) => {
        track(id, { resolve, reject, close: () => reject(new Error('the LMDB append thread closed instead of appending')) });
        const request: AppendThreadRequest = { id, events, options: appendOptions, fsync };
        worker.postMessage(request);
      });
    },
    close() {
      closing ??= (async () => {
        const wasUsable = usable;
        closed = true;
        usable = false;
        settleReady(false);
        if (wasUsable) {
          const id = nextId++;
          // The thread answers once its appends in flight have committed and its handle is closed.
          await new Promise<void>((resolve) => {
            track(id, { resolve: () => resolve(), reject: () => resolve(), close: () => resolve() });
            worker.postMessage({ id, close: true } satisfies AppendThreadRequest);
            worker.once('exit', () => resolve());
          });
        }
        await worker.terminate();
      })();
      return closing;
    },
  };
}
