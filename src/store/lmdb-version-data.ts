/**
 * @module The versions' data in the LMDB `data` database, by version number: each version is one key
 * range (`[version, collection, key]`, one sub-range per collection), so a number's data is found
 * with one seek and cleared range by range, whether a record points to it or not (see
 * orphan-sweep.ts); and the error of a write refused because its version is no longer live.
 */
import type { Database } from 'lmdb';
import { RecError } from '../core/errors.js';
import type { DataKey } from './lmdb-event-txn.js';
import type { Collection, VersionStatus } from './online-store.js';

/** Keys removed per write transaction when clearing a version, to keep transactions short. */
const DELETE_CHUNK = 10_000;

/** The version numbers the data holds entries under, ascending: one seek per number, not per entry. */
export function dataVersionNumbers(data: Database<Buffer, DataKey>): number[] {
  const out: number[] = [];
  let from = 0;
  for (;;) {
    let next: unknown;
    for (const key of data.getKeys({ start: [from] as unknown as DataKey, limit: 1 })) next = (key as unknown[])[0];
    // Keys not under a version number (none are written) sort after all numbers: not ours to judge.
    if (typeof next !== 'number' || !Number.isSafeInteger(next)) return out;
    out.push(next);
    from = next + 1;
  }
}

/**
 * Removes every entry under version number `version`, DELETE_CHUNK per write transaction. Reads the
 * keys from the current read snapshot: renew it first (resetReadTxn) when writes may have committed
 * since (lmdb-js renews it after its own synchronous transactions).
 */
export function clearVersionRange(data: Database<Buffer, DataKey>, version: number): void {
  const all = { start: [version] as unknown as DataKey, end: [version + 1] as unknown as DataKey };
  for (;;) {
    const keys = [...data.getKeys({ ...all, limit: DELETE_CHUNK })];
    if (keys.length === 0) break;
    data.transactionSync(() => {
      for (const k of keys) data.removeSync(k);
    });
  }
}

/** Why nothing was written into `version`, whose record says `status` (undefined: it has none). */
export function notWritable(version: number, status: VersionStatus | undefined, where: string): RecError {
  if (status === undefined || status === 'deleting') {
    return new RecError('RTREC_ERR_STORE_VERSION_NOT_FOUND', `version ${version} of ${where} was deleted${status ? ' (its deletion is under way)' : ''}: nothing was written into it`);
  }
  return new RecError('RTREC_ERR_STORE_VERSION_NOT_READY', `version ${version} of ${where} is ${status}: nothing was written into it`);
}

/** The key range of one collection of one version: collections are single characters. */
export function collectionRange(version: number, collection: Collection): { start: DataKey; end: DataKey } {
  const next = String.fromCharCode(collection.charCodeAt(0) + 1);
  return { start: [version, collection] as unknown as DataKey, end: [version, next] as unknown as DataKey };
}
