/**
 * @module Answers an LMDB write transaction as soon as it is visible, not when lmdb-js resolves it.
 *
 * With overlappingSync (lmdb-js's default on Linux), a commit writes its pages and its meta page, is
 * then visible to every reader of every process, and only after that is flushed to disk. Until the
 * flush, the commit lives in the OS's page cache: it survives the process being killed, because on
 * reopening LMDB (lmdb-js's fork, mdb_pick_meta) keeps an unflushed commit made since the machine
 * last booted; after a power loss or an OS crash it reopens at the last flushed commit instead, so
 * the store stays consistent. But lmdb-js 2.9.4 resolves a transaction's promise only once the flush
 * is done too, and on the benchmark machine that flush added about 0.45 ms to the p50 of an event's
 * POST (bench:realtime, BENCHMARKS.md).
 *
 * lmdb-js's write thread does tell the JavaScript thread the moment a commit becomes visible: the
 * callback it passes to `env.startWriting` receives status 1 (VISIBLE). This module wraps that one
 * method of the environment to hear it and then checks each waiting transaction by reading it in a
 * fresh snapshot. The read, not the callback, proves a commit: a callback for another transaction
 * costs one read, and one that does not come (lmdb-js drops it when the flush ends before this
 * thread took it up, or a later lmdb-js stops making it) leaves the transaction to its promise.
 *
 * Early answers are given only where an unflushed commit survives the process being killed
 * (commitsSurviveKill): LMDB tells "since the last boot" by the kernel's boot id, read on Linux
 * only, and `LMDB_RESTORE=safe` makes it always reopen at the last flushed commit.
 */
import { readFileSync, statfsSync } from 'node:fs';
import type { RootDatabase } from 'lmdb';

/** The status lmdb-js's write thread passes when a commit has become visible (src/writer.cpp, txn_visible). */
const VISIBLE = 1;
/** Where LMDB reads the boot id on Linux, and the file system it must be on (procfs). */
const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';
const PROCFS_MAGIC = 0x9fa0;

export interface VisibleCommits {
  /**
   * Resolves with `isVisible()`'s value as soon as it is defined after a commit became visible (it
   * is called in a fresh read snapshot), or with `committed`'s value when that resolves first;
   * rejects if `committed` rejects first. If `committed` rejects after an early answer (the flush
   * failed; the commit stays visible), `onLateError` is told.
   */
  whenVisible<T>(committed: Promise<T>, isVisible: () => T | undefined, onLateError?: (err: Error) => void): Promise<T>;
  /** How many visibility callbacks lmdb-js has made so far (a test watches that they still come). */
  readonly signals: number;
}

/** What decides whether a visible, unflushed commit is kept when the process is killed (see commitsSurviveKill). */
export interface RestoreConditions {
  readonly platform: string;
  readonly restoreMode: string | undefined;
  /** The boot id as LMDB reads it; undefined when it cannot (missing, or not on procfs). */
  readonly bootId: string | undefined;
}

/**
 * True when LMDB keeps a visible commit that was not flushed yet on reopening after the process was
 * killed: on Linux, with a boot id LMDB can read (it keeps such a commit only if it was made since
 * the current boot, and an id it parses as 0 matches nothing) and without `LMDB_RESTORE=safe`.
 */
export function commitsSurviveKill(conditions: RestoreConditions = currentRestoreConditions()): boolean {
  if (conditions.platform !== 'linux' || conditions.restoreMode === 'safe' || conditions.bootId === undefined) return false;
  // LMDB parses the id with strtoll(…, 16): its leading hex digits, up to the first dash.
  const lead = /^[0-9a-fA-F]+/.exec(conditions.bootId.trim())?.[0];
  return lead !== undefined && /[1-9a-fA-F]/.test(lead);
}

function currentRestoreConditions(): RestoreConditions {
  let bootId: string | undefined;
  try {
    if (statfsSync(BOOT_ID_FILE).type === PROCFS_MAGIC) bootId = readFileSync(BOOT_ID_FILE, 'utf8');
  } catch {
    bootId = undefined;
  }
  return { platform: process.platform, restoreMode: process.env.LMDB_RESTORE, bootId };
}

/** The log line for a commit whose appends were answered before its flush failed. */
export function flushErrorReason(err: Error): string {
  return `an LMDB commit failed to flush to disk after its events were acknowledged (they are logged, but a power loss before the next successful flush would lose them): ${err.message}`;
}

interface Waiter {
  readonly check: () => unknown;
  readonly resolve: (value: unknown) => void;
}

type StartWriting = (this: unknown, address: number, callback: (status: number) => unknown) => unknown;

const watched = new WeakMap<object, VisibleCommits>();

/**
 * Watches the commits of `root`'s environment made from this thread; undefined when early answers
 * would not survive the process being killed (commitsSurviveKill) or this lmdb-js has no
 * `env.startWriting` to hear them through: transactions then wait for their promises.
 */
export function watchVisibleCommits(root: RootDatabase, survivesKill: () => boolean = commitsSurviveKill): VisibleCommits | undefined {
  const env = (root as unknown as { env?: { startWriting?: unknown } }).env;
  if (!env || typeof env.startWriting !== 'function') return undefined;
  const known = watched.get(env);
  if (known) return known;
  if (!survivesKill()) return undefined;
  const startWriting = env.startWriting as StartWriting;
  const waiters = new Set<Waiter>();
  let signals = 0;
  // A read while the environment closes would leave lmdb-js's read snapshot half-renewed, and its
  // own commit resolution then throws: closing, the promises answer.
  const isOpen = (): boolean => (root as unknown as { status?: string }).status === 'open';
  const checkWaiters = (): void => {
    signals++;
    if (waiters.size === 0 || !isOpen()) return;
    try {
      root.resetReadTxn();
    } catch {
      return; // the promises still answer
    }
    for (const w of waiters) {
      let value: unknown;
      try {
        value = w.check();
      } catch {
        continue;
      }
      if (value === undefined) continue;
      waiters.delete(w);
      w.resolve(value);
    }
  };
  try {
    Object.defineProperty(env, 'startWriting', {
      configurable: true,
      writable: true,
      value(this: unknown, address: number, callback: (status: number) => unknown) {
        return startWriting.call(this, address, (status: number) => {
          if (status === VISIBLE) checkWaiters();
          return callback(status);
        });
      },
    });
  } catch {
    return undefined;
  }
  const commits: VisibleCommits = {
    whenVisible<T>(committed: Promise<T>, isVisible: () => T | undefined, onLateError?: (err: Error) => void): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const w: Waiter = { check: isVisible, resolve: resolve as (value: unknown) => void };
        waiters.add(w);
        committed.then(
          (value) => {
            if (waiters.delete(w)) resolve(value);
          },
          (cause: unknown) => {
            const err = cause instanceof Error ? cause : new Error(String(cause));
            if (waiters.delete(w)) reject(err);
            else onLateError?.(err);
          },
        );
      });
    },
    get signals() {
      return signals;
    },
  };
  watched.set(env, commits);
  return commits;
}
