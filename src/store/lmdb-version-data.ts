/**
 * @module The versions' data in the LMDB `data` database, by version number: each version is one key
 * range (`[version, collection, key]`), so a number's data is found with one seek and cleared range
 * by range, whether a record points to it or not (see orphan-sweep.ts).
 */
import type { Database } from 'lmdb';
import type { DataKey } from './lmdb-event-txn.js';

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
