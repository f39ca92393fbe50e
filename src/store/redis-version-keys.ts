/**
 * @module A Redis store's version data found by walking the keys themselves rather than the records
 * (see orphan-sweep.ts): SCAN with MATCH on every master, never KEYS, which would block each server
 * for its whole keyspace; the names parsed strictly (the match is only a first filter); and deletion
 * with UNLINK (memory freed in the background), a bounded batch of keys at a time.
 */
import { ALL_COLLECTIONS, COLLECTIONS } from './online-store.js';
import type { RedisConn, RedisNode } from './redis-conn.js';

/** Keys asked for per SCAN call (a hint to Redis; each call stays short). */
const SCAN_COUNT = 1_000;
/** UNLINKs sent together before waiting for their replies. */
const UNLINK_BATCH = 500;

/**
 * Every key of a version's data under `prefix`, by version number: data hashes
 * `<prefix>:v<n>:<collection>:<shard>` and the cursor hashes of user lists
 * `{<prefix>:v<n>:u:<shard>}:cursors` (see redis-store.ts). A key moved between nodes while the walk
 * runs may be seen twice (kept once) or missed (found by the next walk).
 */
export async function scanVersionKeys(conn: RedisConn, prefix: string): Promise<Map<number, Set<string>>> {
  // Prefixes are letters, digits and _ . - (redis-conn.ts), none of them special in a SCAN pattern.
  const match = `*${prefix}:v[0-9]*`;
  const parse = versionOfKey(prefix);
  const found = new Map<number, Set<string>>();
  // The masters walked at the same time (one SCAN in flight per master): the walk takes as long as
  // the largest keyspace, not their sum.
  const walk = async (node: RedisNode) => {
    let cursor = '0';
    do {
      const [next, keys] = (await node.send(['SCAN', cursor, 'MATCH', match, 'COUNT', String(SCAN_COUNT)])) as [string, string[]];
      for (const key of keys) {
        const version = parse(key);
        if (version === undefined) continue;
        let set = found.get(version);
        if (!set) found.set(version, (set = new Set()));
        set.add(key);
      }
      cursor = String(next);
    } while (cursor !== '0');
  };
  // Every walk settled before failing: none goes on sending SCANs after the caller moved on.
  const walks = await Promise.allSettled((await conn.masters()).map(walk));
  for (const w of walks) if (w.status === 'rejected') throw w.reason;
  return found;
}

/**
 * UNLINKs `keys`, UNLINK_BATCH at a time: one command per key, since the keys of a batch hash to
 * different cluster slots (a multi-key command must stay within one); sent together, they are
 * pipelined (per node on a cluster).
 */
export async function unlinkKeys(conn: RedisConn, keys: readonly string[]): Promise<void> {
  for (let at = 0; at < keys.length; at += UNLINK_BATCH) {
    await Promise.all(keys.slice(at, at + UNLINK_BATCH).map((k) => conn.send(k, ['UNLINK', k])));
  }
}

/** The version number of a version data key of `prefix`, or undefined for any other key. */
export function versionOfKey(prefix: string): (key: string) => number | undefined {
  const p = prefix.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  const collections = ALL_COLLECTIONS.join('');
  const data = new RegExp(`^${p}:v(\\d{1,15}):[${collections}]:\\d{1,5}$`);
  const cursors = new RegExp(`^\\{${p}:v(\\d{1,15}):${COLLECTIONS.userRecs}:\\d{1,5}\\}:cursors$`);
  return (key) => {
    const m = data.exec(key) ?? cursors.exec(key);
    const version = m ? Number(m[1]) : 0;
    return version > 0 ? version : undefined;
  };
}
