/**
 * @module Whether the LMDB binary this process loaded is the one scripts/build-lmdb.mjs built, with
 * its fix for a store opened by one process while another commits (without it, such an open can
 * make the next write transaction overwrite that commit). The build writes a stamp beside the
 * binary with the fix's name and the binary's hash; a binary lmdb-js loaded from elsewhere (its
 * prebuilt packages) or rebuilt since has no matching stamp. Linux only: the loaded binary is read
 * from /proc/self/maps.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The fix's name in the stamp (scripts/build-lmdb.mjs writes the same). */
export const LMDB_FIX = 'lmdb-open-keeps-last-txnid';

export interface LmdbBinaryStatus {
  readonly fixed: boolean;
  /** The lmdb-js binary mapped into this process; undefined when it cannot be told. */
  readonly path: string | undefined;
  /** Why it is not the fixed build (undefined when it is). */
  readonly problem: string | undefined;
}

/** Reads a file as text; undefined when it cannot be read. */
export type ReadText = (path: string) => string | undefined;

const readText: ReadText = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

const readHash = (path: string): string | undefined => {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return undefined;
  }
};

/**
 * The status of the lmdb-js binary loaded in this process (call after the lmdb package is imported).
 * `read` and `hash` are replaceable for tests.
 */
export function lmdbBinaryStatus(read: ReadText = readText, hash: (path: string) => string | undefined = readHash): LmdbBinaryStatus {
  const maps = read('/proc/self/maps');
  if (maps === undefined) return { fixed: false, path: undefined, problem: 'cannot tell which LMDB binary is loaded (no /proc/self/maps)' };
  const path = loadedLmdbBinary(maps);
  if (path === undefined) return { fixed: false, path, problem: 'no LMDB binary is loaded in this process' };
  if (path.endsWith(DELETED)) return { fixed: false, path, problem: `the LMDB binary this process loaded, ${path.slice(0, -DELETED.length)}, was replaced on disk since (restart the process)` };
  if (!path.endsWith('/build/Release/lmdb.node')) {
    return { fixed: false, path, problem: `the LMDB binary is lmdb-js's prebuilt ${path}, not one built by scripts/build-lmdb.mjs` };
  }
  let stamp: { fix?: unknown; sha256?: unknown } | undefined;
  try {
    stamp = JSON.parse(read(join(dirname(dirname(path)), 'rtrec-lmdb-fix.json')) ?? 'null') as typeof stamp;
  } catch {
    stamp = undefined;
  }
  if (stamp?.fix !== LMDB_FIX) return { fixed: false, path, problem: `the LMDB binary ${path} has no stamp of scripts/build-lmdb.mjs naming its fix` };
  if (stamp.sha256 !== hash(path)) return { fixed: false, path, problem: `the LMDB binary ${path} changed since scripts/build-lmdb.mjs built it` };
  return { fixed: true, path, problem: undefined };
}

/** How /proc/self/maps marks a mapped file that was removed or replaced since. */
const DELETED = ' (deleted)';

/**
 * The path of lmdb-js's native binary among the files mapped in /proc/self/maps; it ends with
 * ' (deleted)' when the file was replaced since it was loaded.
 */
export function loadedLmdbBinary(maps: string): string | undefined {
  for (const line of maps.split('\n')) {
    // address perms offset dev inode path: the path is everything after the fifth field.
    const mapped = /^\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+(\/.*)$/.exec(line)?.[1];
    if (mapped === undefined) continue;
    const path = mapped.endsWith(DELETED) ? mapped.slice(0, -DELETED.length) : mapped;
    if (!path.endsWith('.node')) continue;
    if (path.endsWith('/build/Release/lmdb.node') || path.includes('/node_modules/lmdb/') || path.includes('/@lmdb/lmdb-')) return mapped;
  }
  return undefined;
}

/**
 * The warning to give where a process opens the LMDB store at `storeUrl` (undefined: none): a
 * binary without the fix lets such an open, made while another process writes the store, cost the
 * writer a commit. Checked once per process; call after the store is open.
 */
export function unfixedLmdbWarning(storeUrl: string): string | undefined {
  if (!storeUrl.startsWith('lmdb:')) return undefined;
  checked ??= lmdbBinaryStatus();
  if (checked.fixed) return undefined;
  return `${checked.problem}: a process that opens this LMDB store while another writes it can make the writer lose a commit (acknowledged events) or corrupt the store; run \`npm run build:lmdb\` (docs/operate.md)`;
}

let checked: LmdbBinaryStatus | undefined;
