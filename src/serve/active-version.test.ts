import { describe, expect, it } from 'vitest';
import { publishModel } from '../jobs/publish.js';
import type { Catalog, VersionRecord } from '../store/online-store.js';
import { openStore } from '../store/open-store.js';
import { ActiveVersionWatcher, VersionSnapshot } from './active-version.js';
import { fixtureModel } from './test-support/fixture-model.js';
import { tempLmdbUrl } from './test-support/serve-fixture.js';

function snapshot(metadata: ({ genres?: string | string[]; genre?: string } | null)[]): VersionSnapshot {
  const record = { version: 1, status: 'ready' } as unknown as VersionRecord;
  const catalog = { ids: metadata.map((_, i) => `i${i}`), metadata };
  return new VersionSnapshot(record, catalog, { items: new Int32Array(0), scores: new Float32Array(0) });
}

describe('VersionSnapshot.genreMask', () => {
  it('marks the items listing a genre in genres or genre, case-insensitively, across separators', () => {
    const snap = snapshot([{ genres: ['Comedy', 'Drama'] }, { genres: 'Action| comedy' }, null, { genre: 'COMEDY,War' }, { genres: 'Drama' }]);
    expect([...snap.genreMask('comedy')]).toEqual([1, 1, 0, 1, 0]);
    expect([...snap.genreMask('War')]).toEqual([0, 0, 0, 1, 0]);
    expect([...snap.genreMask('Western')]).toEqual([0, 0, 0, 0, 0]);
  });

  it('keeps real genres cached however many made-up genres were asked for first', () => {
    const snap = snapshot([{ genres: ['Comedy'] }, { genres: ['Drama'] }]);
    for (let g = 0; g < 1000; g++) expect(snap.genreMask(`zz${g}`).every((b) => b === 0)).toBe(true);
    // Made-up genres share one empty mask; a real one is built once and then reused.
    expect(snap.genreMask('zz1')).toBe(snap.genreMask('zz2'));
    const comedy = snap.genreMask('Comedy');
    expect([...comedy]).toEqual([1, 0]);
    expect(snap.genreMask('comedy')).toBe(comedy);
  });
});

describe('ActiveVersionWatcher readiness', () => {
  it('stays ready on the previous version while a newly activated one loads, and says which is loading', async () => {
    const tmp = await tempLmdbUrl();
    const store = await openStore(tmp.url);
    await publishModel(fixtureModel({ users: 5, items: 8, seed: 1 }), store, { progress: false });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    // The real store, with version 2's catalogue held back until the test releases it.
    const held = new Proxy(store, {
      get(target, prop) {
        if (prop === 'readCatalog') {
          return async (v: number): Promise<Catalog> => {
            if (v === 2) await gate;
            return target.readCatalog(v);
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const watcher = new ActiveVersionWatcher(held, { refreshMs: 60_000 });
    await watcher.start();
    expect([watcher.ready, watcher.current()?.version, watcher.loading]).toEqual([true, 1, undefined]);

    await publishModel(fixtureModel({ users: 5, items: 8, seed: 2 }), store, { progress: false });
    const loaded = watcher.refresh();
    for (let waited = 0; watcher.loading === undefined && waited < 5_000; waited += 5) await new Promise((r) => setTimeout(r, 5));
    expect([watcher.ready, watcher.notReadyReason(), watcher.current()?.version, watcher.loading]).toEqual([true, undefined, 1, 2]);
    release();
    await loaded;
    expect([watcher.ready, watcher.current()?.version, watcher.loading]).toEqual([true, 2, undefined]);
    watcher.stop();
    await store.close();
    await tmp.remove();
  });

  it('is not ready before any version is loaded, without naming the store', async () => {
    const tmp = await tempLmdbUrl();
    const store = await openStore(tmp.url);
    const watcher = new ActiveVersionWatcher(store, { refreshMs: 60_000 });
    await watcher.start();
    expect(watcher.ready).toBe(false);
    const why = watcher.notReadyReason();
    expect(why?.code).toBe('RTREC_ERR_STORE_NO_ACTIVE_VERSION');
    expect(why?.message).not.toContain(tmp.url.replace('lmdb://', ''));
    watcher.stop();
    await store.close();
    await tmp.remove();
  });
});
