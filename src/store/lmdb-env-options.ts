/**
 * @module The options every LMDB environment of a store is opened with, by the event loop and by
 * the append thread alike (lmdb-js shares one environment between the threads of a process, and
 * the first opener's options win).
 */
import { readFileSync } from 'node:fs';

/**
 * The memory map reserved up front: 256 GiB of address space, not of disk or memory (the file grows
 * with the data and only touched pages are resident). lmdb-js otherwise starts at 128 KiB and
 * doubles the map as the store grows, and it does so unlocked from whichever thread begins a
 * transaction after another process grew the file. Two threads of one process (the event loop and
 * the append thread) remapping at once corrupt lmdb-js's list of retired maps, and the process
 * then died with SIGSEGV while closing the store (seen in the two-process test). A store smaller
 * than the reserved map is never remapped. 256 GiB stays inside a 39-bit (512 GiB) user address
 * space, the smallest of common 64-bit kernels.
 */
export const LMDB_MAP_SIZE = 256 * 2 ** 30;

const MIB = 2 ** 20;

/**
 * The map to reserve in a process whose limits (the text of /proc/self/limits; undefined where
 * there is none) are `limits`: LMDB_MAP_SIZE, or a quarter of the address-space limit (`ulimit -v`)
 * when that is smaller. lmdb-js does not fail but crashes (SIGSEGV) when it cannot map the file,
 * and Node and V8 need their own share of the address space.
 */
export function lmdbMapSize(limits: string | undefined): number {
  const line = limits?.split('\n').find((l) => l.startsWith('Max address space'));
  const soft = line?.slice('Max address space'.length).trim().split(/\s+/)[0];
  const limit = soft !== undefined && /^\d+$/.test(soft) ? Number(soft) : Infinity;
  return Math.min(LMDB_MAP_SIZE, Math.floor(limit / 4 / MIB) * MIB);
}

function processLimits(): string | undefined {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
}

/** Options for `open({ path, ...LMDB_ENV_OPTIONS })` of a store's environment file. */
export const LMDB_ENV_OPTIONS = { maxDbs: 4, noSubdir: true, mapSize: lmdbMapSize(processLimits()) } as const;
