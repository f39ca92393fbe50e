/**
 * @module The options every LMDB environment of a store is opened with, by the event loop and by
 * the append thread alike (lmdb-js shares one environment between the threads of a process, and
 * the first opener's options win).
 */

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

/** Options for `open({ path, ...LMDB_ENV_OPTIONS })` of a store's environment file. */
export const LMDB_ENV_OPTIONS = { maxDbs: 4, noSubdir: true, mapSize: LMDB_MAP_SIZE } as const;
