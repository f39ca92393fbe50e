import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LMDB_FIX, lmdbBinaryStatus, loadedLmdbBinary, unfixedLmdbWarning } from './lmdb-binary.js';
import { openStore } from './open-store.js';
import { skipWithoutFixedLmdb } from './test-support/fixed-lmdb.js';

const withoutFix = await skipWithoutFixedLmdb();

const BUILT = '/app/node_modules/lmdb/build/Release/lmdb.node';
const PREBUILT = '/app/node_modules/@lmdb/lmdb-linux-x64/node.abi115.glibc.node';
const STAMP = '/app/node_modules/lmdb/build/rtrec-lmdb-fix.json';

const maps = (binary: string): string =>
  [
    '00400000-00401000 r--p 00000000 fd:00 123 /usr/bin/node',
    `7f00a0000000-7f00a0010000 r-xp 00000000 fd:00 456 ${binary}`,
    '7f00b0000000-7f00b0001000 rw-p 00000000 00:00 0 ',
    '7f00c0000000-7f00c0010000 r-xp 00000000 fd:00 789 /app/node_modules/msgpackr-extract/build/Release/extract.node',
  ].join('\n');

/** A file system of `files` for lmdbBinaryStatus. */
const reader = (files: Record<string, string>) => (path: string) => files[path];

describe('lmdbBinaryStatus', () => {
  it("finds lmdb-js's binary among the mapped files, built or prebuilt", () => {
    expect(loadedLmdbBinary(maps(BUILT))).toBe(BUILT);
    expect(loadedLmdbBinary(maps(PREBUILT))).toBe(PREBUILT);
    expect(loadedLmdbBinary(maps('/app/node_modules/other/x.node'))).toBeUndefined();
    expect(loadedLmdbBinary(maps('/my app/node_modules/lmdb/build/Release/lmdb.node'))).toBe('/my app/node_modules/lmdb/build/Release/lmdb.node');
  });

  it('tells a binary replaced on disk since it was loaded', () => {
    const status = lmdbBinaryStatus(reader({ '/proc/self/maps': maps(`${BUILT} (deleted)`) }), () => 'abc');
    expect(status.fixed).toBe(false);
    expect(status.problem).toMatch(/replaced on disk since \(restart/);
  });

  it('counts as fixed only the built binary whose stamp names the fix and its hash', () => {
    const stamp = JSON.stringify({ fix: LMDB_FIX, sha256: 'abc' });
    expect(lmdbBinaryStatus(reader({ '/proc/self/maps': maps(BUILT), [STAMP]: stamp }), () => 'abc')).toEqual({ fixed: true, path: BUILT, problem: undefined });
    expect(lmdbBinaryStatus(reader({ '/proc/self/maps': maps(BUILT), [STAMP]: stamp }), () => 'def').problem).toMatch(/changed since/);
    expect(lmdbBinaryStatus(reader({ '/proc/self/maps': maps(BUILT) }), () => 'abc').problem).toMatch(/no stamp/);
    expect(lmdbBinaryStatus(reader({ '/proc/self/maps': maps(BUILT), [STAMP]: JSON.stringify({ fix: 'other', sha256: 'abc' }) }), () => 'abc').fixed).toBe(false);
    expect(lmdbBinaryStatus(reader({ '/proc/self/maps': maps(PREBUILT), [STAMP]: stamp }), () => 'abc').problem).toMatch(/prebuilt/);
    expect(lmdbBinaryStatus(reader({})).problem).toMatch(/cannot tell/);
  });

  // npm ci runs scripts/build-lmdb.mjs (postinstall): the store this suite tests must be the fixed build.
  it.skipIf(withoutFix || process.platform !== 'linux')('is the fixed build in this checkout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rtrec-lmdb-binary-'));
    try {
      await (await openStore(`lmdb://${dir}`)).close();
      const status = lmdbBinaryStatus();
      expect(status.problem).toBeUndefined();
      expect(status.fixed).toBe(true);
      expect(unfixedLmdbWarning(`lmdb://${dir}`)).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
