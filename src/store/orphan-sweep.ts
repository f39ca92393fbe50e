/**
 * @module The orphan sweep: deleting data that no version record points to. Such data is left by
 * writes that reach a version after it was deleted: a server lagging more than prune's grace behind
 * a switch still holds the version's place and writes its users' lists into it; a publish declared
 * abandoned goes on writing. LMDB refuses those writes in their own transaction (versionLive in
 * lmdb-event-txn.ts); Redis cannot (a data hash and the version records are in different cluster
 * slots, so no script sees both), and older stores may hold such data already. cleanup() runs the
 * sweep, and prune runs cleanup(); a publish does not (it deletes versions only by their records):
 * on Redis the walk covers the whole keyspace, per-user event lists included, so its time grows
 * with the number of keys in the database, and a retrain prunes right after publishing anyway.
 * Orphans left by a server lagging behind one prune are swept by the next. cleanup() catches the
 * sweep's failure (CleanupResult.sweepError): it must not block the deletions around it.
 */
import type { StoreBackend } from './store-backend.js';

/**
 * Deletes the data stored under version numbers that have no record, below the newest record;
 * returns those numbers, ascending.
 *
 * The data is walked before the records are read. A publish creates its version's record before it
 * writes any data (createVersion, then the writer), a deletion removes the record only after the
 * data, and version numbers are never reused: so data the walk saw under a number that has no record
 * afterwards belongs to a version already deleted, and no record will ever point to it. Read in the
 * other order, a publish starting between the two reads would have its first data taken for orphaned.
 * On top of that, nothing at or above the newest record's number is touched: from the records alone
 * it could be a publish being created, so such data (a publish declared abandoned that wrote on)
 * waits for the first sweep after a newer version was published.
 */
export async function sweepOrphans(backend: StoreBackend): Promise<number[]> {
  const scan = await backend.scanData();
  if (scan.versions.length === 0) return [];
  const records = await backend.readVersions();
  const known = new Set(records.map((r) => r.version));
  let newest = 0;
  for (const r of records) newest = Math.max(newest, r.version);
  const orphans = scan.versions.filter((v) => !known.has(v) && v < newest).sort((a, b) => a - b);
  if (orphans.length > 0) await scan.deleteVersions(orphans);
  return orphans;
}
