import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, describe, expect, it } from 'vitest';
import { runOnlineStoreContract } from './online-store.contract.js';
import { lmdbPath, openStore } from './open-store.js';

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rtrec-lmdb-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('LMDB online store (contract)', () => {
  runOnlineStoreContract({ freshUrl: async () => `lmdb://${await freshDir()}` });
});

describe('LMDB store URLs', () => {
  it('resolves relative folders against the working directory and keeps absolute ones', () => {
    expect(lmdbPath('lmdb:///var/lib/rtrec')).toBe('/var/lib/rtrec');
    expect(lmdbPath('lmdb://data/store')).toBe(join(process.cwd(), 'data/store'));
  });

  it('rejects an empty path and unknown schemes', async () => {
    expect(() => lmdbPath('lmdb://')).toThrow(/names no folder/);
    await expect(openStore('mysql://x')).rejects.toMatchObject({ code: 'RTREC_ERR_CONFIG_INVALID' });
  });

  it('creates the folder and survives reopening', async () => {
    const dir = join(await freshDir(), 'nested', 'store');
    const a = await openStore(`lmdb://${dir}`);
    const w = await a.beginVersion({ expected: {} });
    await w.putPopular({ items: Int32Array.of(0), scores: Float32Array.of(1.5) });
    await w.putCatalog([{ idx: 0, itemId: 'x', metadata: null }]);
    await w.commit();
    await a.close();
    const b = await openStore(`lmdb://${dir}`);
    expect(await b.activeVersion()).toBe(1);
    expect(await b.getPopular(1)).toEqual({ items: Int32Array.of(0), scores: Float32Array.of(1.5) });
    await b.close();
  });
});

describe('LMDB item counters', () => {
  it('indexes a bucket written before the value index on its next add, keeping every counter', async () => {
    const dir = await freshDir();
    // Counters as stores before the index wrote them: only ['pc', bucket + US + itemId] → value.
    const env = open({ path: join(dir, 'rtrec.mdb'), maxDbs: 4, noSubdir: true });
    const events = env.openDB({ name: 'events', encoding: 'json' });
    await events.transaction(() => {
      for (const [itemId, value] of [['a', 3], ['b', 7], ['c', 3], ['d', 1]] as const) void events.put(['pc', `old\u001f${itemId}`], value);
    });
    await env.close();

    const store = await openStore(`lmdb://${dir}`);
    try {
      expect(await store.topItemCounters('old', 3)).toEqual([{ itemId: 'b', value: 7 }, { itemId: 'a', value: 3 }, { itemId: 'c', value: 3 }]);
      await store.addItemCounters('old', new Map([['d', 5], ['e', 2]]), 60_000);
      expect(await store.topItemCounters('old', 10)).toEqual([
        { itemId: 'b', value: 7 },
        { itemId: 'd', value: 6 },
        { itemId: 'a', value: 3 },
        { itemId: 'c', value: 3 },
        { itemId: 'e', value: 2 },
      ]);
      await store.addItemCounters('old', new Map([['b', 0.5]]), 60_000);
      expect(await store.topItemCounters('old', 2)).toEqual([{ itemId: 'b', value: 7.5 }, { itemId: 'd', value: 6 }]);
    } finally {
      await store.close();
    }
  });
});
