/**
 * @module Worker-thread entry of the LMDB append thread (lmdb-append-thread.ts): opens the store's
 * environment (lmdb-js shares one environment between the threads of a process) and runs each
 * posted append in an asynchronous write transaction, so its gets and puts run on this thread.
 * Appends posted while one commits join the next transaction (lmdb-js's group commit), as they do
 * on the event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { open } from 'lmdb';
import { LMDB_ENV_OPTIONS } from './lmdb-env-options.js';
import type { NewEvent } from './event-log.js';
import { runAppend, type ControlKey, type DataKey, type EventDbs, type EventKey, type PackedAppend, type TxnAppendOptions } from './lmdb-event-txn.js';
import { watchVisibleCommits, type VisibleCommits } from './lmdb-visible-commit.js';
import { FLUSH_ERROR_ID } from './lmdb-append-thread.js';

/** Messages to this thread. */
export type AppendThreadRequest = { readonly id: number; readonly events: readonly NewEvent[]; readonly options: TxnAppendOptions; readonly fsync: boolean } | { readonly id: number; readonly close: true };

/** Messages from this thread (id -1: ready, or failed to open; id -2: a flush failed after its appends were answered). */
export type AppendThreadReply = { readonly id: number; readonly packed?: PackedAppend; readonly error?: string; readonly ready?: boolean; readonly closed?: boolean };

const port = parentPort;
if (!port) throw new Error('lmdb-append-worker must run inside a worker thread');
const { path } = workerData as { path: string };
const reply = (message: AppendThreadReply, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));

let env: ReturnType<typeof open>;
let dbs: EventDbs;
let visible: VisibleCommits | undefined;
try {
  env = open({ path, ...LMDB_ENV_OPTIONS });
  dbs = {
    events: env.openDB<unknown, EventKey>({ name: 'events', encoding: 'json' }),
    data: env.openDB<Uint8Array, DataKey>({ name: 'data', encoding: 'binary' }),
    // Read only: lists go only into a live version (versionLive).
    control: env.openDB<unknown, ControlKey>({ name: 'control', encoding: 'json' }),
  };
  visible = watchVisibleCommits(env);
} catch (err) {
  reply({ id: -1, error: `cannot open ${path}: ${describe(err)}` });
  throw err;
}

let inFlight = 0;
let closing: number | undefined;
const finishClose = async (): Promise<void> => {
  await env.close();
  reply({ id: closing!, closed: true });
  port.close();
};

port.on('message', (message: AppendThreadRequest) => {
  if ('close' in message) {
    closing = message.id;
    if (inFlight === 0) void finishClose();
    return;
  }
  inFlight++;
  // 'commit': answered once the transaction is visible (see lmdb-visible-commit.ts); 'fsync': once
  // it is flushed to disk too.
  const { committed, answered } = runAppend(dbs, message.events, message.options, {
    fsync: message.fsync,
    visible,
    onFlushError: (reason) => reply({ id: FLUSH_ERROR_ID, error: reason }),
  });
  // Held until the commit settles, so a close waits for the flush as well.
  const settled = committed.then(
    () => undefined,
    () => undefined,
  );
  void answered
    .then((done) => {
      reply({ id: message.id, packed: done }, [done.seqs.buffer as ArrayBuffer, done.before.buffer as ArrayBuffer, done.flags.buffer as ArrayBuffer]);
    })
    .catch((err: unknown) => reply({ id: message.id, error: describe(err) }))
    .then(() => settled)
    .finally(() => {
      inFlight--;
      if (closing !== undefined && inFlight === 0) void finishClose();
    });
});
reply({ id: -1, ready: true });
