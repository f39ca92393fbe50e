import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRedis, startRedis, type RedisServer } from '../../test/support/redis-server.js';
import { csrFromCoo } from '../core/csr.js';
import { EVENTS_WATERMARK_META } from '../models/manifest.js';
import { fixtureModel } from '../serve/test-support/fixture-model.js';
import { spawnNode, transpileForChild, waitForLine } from '../serve/test-support/ts-child.js';
import type { OnlineStore } from '../store/online-store.js';
import { openStore } from '../store/open-store.js';
import { popularityFromSeen, publishModel } from './publish.js';

const dirs: string[] = [];
async function lmdbUrl(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rtrec-publish-'));
  dirs.push(dir);
  return `lmdb://${dir}`;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Slow reference: items ranked by number of distinct users, ties by lower index, zero-count items dropped. */
function referencePopularity(pairs: [number, number][], numItems: number, k: number): number[] {
  const users = Array.from({ length: numItems }, () => new Set<number>());
  for (const [u, i] of pairs) users[i].add(u);
  return users
    .map((s, i) => ({ i, n: s.size }))
    .filter((e) => e.n > 0)
    .sort((a, b) => b.n - a.n || a.i - b.i)
    .slice(0, k)
    .map((e) => e.i);
}

describe('popularityFromSeen', () => {
  it('ranks items by distinct users, counting a repeated pair once', () => {
    // Hand-made: item 2 seen by users 0,1,2; item 0 by 0,1; item 3 by 1 (twice); item 1 by nobody.
    const pairs: [number, number][] = [[0, 2], [1, 2], [2, 2], [0, 0], [1, 0], [1, 3], [1, 3]];
    const seen = csrFromCoo(3, 4, Int32Array.from(pairs.map((p) => p[0])), Int32Array.from(pairs.map((p) => p[1])), null);
    const top = popularityFromSeen(seen, 10);
    expect([...top.items]).toEqual([2, 0, 3]);
    expect([...top.scores]).toEqual([3, 2, 1]);
    expect([...popularityFromSeen(seen, 2).items]).toEqual(referencePopularity(pairs, 4, 2));
  });
});

async function expectModelPublished(store: OnlineStore, version: number, model: ReturnType<typeof fixtureModel>, topK: number, similarK: number): Promise<void> {
  for (let u = 0; u < model.numUsers; u++) {
    expect(await store.getUserRecs(version, model.users.idOf(u))).toEqual(model.recommend(u, { k: topK, excludeSeen: true }));
  }
  for (let i = 0; i < model.numItems; i++) {
    expect(await store.getSimilarItems(version, model.items.idOf(i))).toEqual(model.similarItems(i, similarK));
  }
  const catalog = await store.readCatalog(version);
  expect(catalog.ids).toEqual(model.items.toArray());
  expect(catalog.metadata[4]).toEqual(model.itemMetadata!.byId.get('i4'));
}

describe('publishModel to LMDB', () => {
  it('stores for every user exactly TrainedModel.recommend excluding seen items, plus similar, popular and catalogue', async () => {
    const store = await openStore(await lmdbUrl());
    const model = fixtureModel({ users: 37, items: 25, seenPerUser: 4 });
    const report = await publishModel(model, store, { topK: 10, similarK: 5, batchSize: 8, progress: false });
    expect(report.version).toBe(1);
    expect(report.activated).toBe(true);
    expect(report.counts).toEqual({ u: 37, s: 25, p: 1, c: 25 });
    expect(report.scoringSeconds).toBeGreaterThan(0);
    expect(await store.activeVersion()).toBe(1);
    await expectModelPublished(store, 1, model, 10, 5);
    // No published list holds an item the user has seen.
    for (let u = 0; u < model.numUsers; u++) {
      const recs = (await store.getUserRecs(1, model.users.idOf(u)))!;
      for (const i of recs.items) expect(model.hasSeen(u, i)).toBe(false);
    }
    const pairs: [number, number][] = [];
    for (let u = 0; u < model.numUsers; u++) for (let p = model.seen.indptr[u]; p < model.seen.indptr[u + 1]; p++) pairs.push([u, model.seen.indices[p]]);
    expect([...(await store.getPopular(1))!.items]).toEqual(referencePopularity(pairs, model.numItems, 100));
    await store.close();
  });

  it('records the model\u2019s events watermark in the version meta, and none for a model without one', async () => {
    const store = await openStore(await lmdbUrl());
    const model = fixtureModel({ users: 6, items: 8, seenPerUser: 2 });
    const plain = await publishModel(model, store, { topK: 3, similarK: 2, progress: false });
    expect((await store.getVersion(plain.version))!.meta[EVENTS_WATERMARK_META]).toBeUndefined();
    const watermark = { through: '41', since: 1_767_225_600_000, types: ['rating'], store: 'lmdb:///srv/rtrec', exportedAt: '2026-01-02T03:04:05.000Z' };
    model.info = { ...model.info, training: { ...model.info.training, eventsWatermark: watermark } };
    const marked = await publishModel(model, store, { topK: 3, similarK: 2, progress: false });
    expect(JSON.parse(String((await store.getVersion(marked.version))!.meta[EVENTS_WATERMARK_META]))).toEqual(watermark);
    await store.close();
  });

  it('records an events watermark only in the store it was taken from (by identity), and one from before identities unchecked', async () => {
    const store = await openStore(await lmdbUrl());
    const other = await openStore(await lmdbUrl());
    const model = fixtureModel({ users: 6, items: 8, seenPerUser: 2 });
    const exported = { through: '41', store: 'lmdb:///srv/a', exportedAt: '2026-01-02T03:04:05.000Z' };
    const recorded = async (target: OnlineStore, watermark: typeof exported & { storeId?: string }) => {
      model.info = { ...model.info, training: { ...model.info.training, eventsWatermark: watermark } };
      const report = await publishModel(model, target, { topK: 3, similarK: 2, progress: false });
      return { report, meta: (await target.getVersion(report.version))!.meta[EVENTS_WATERMARK_META] };
    };
    const storeId = (await store.storeId({ create: true }))!;
    const same = await recorded(store, { ...exported, storeId });
    expect(JSON.parse(String(same.meta))).toEqual({ ...exported, storeId });
    expect(same.report.notes).toBeUndefined();
    // Another store, with or without an identity of its own: its log positions are other events.
    for (const create of [false, true]) {
      if (create) await other.storeId({ create: true });
      const foreign = await recorded(other, { ...exported, storeId });
      expect(foreign.meta).toBeUndefined();
      expect(foreign.report.notes).toEqual([expect.stringMatching(new RegExp(`^the model's events watermark comes from an export of another store \\(lmdb:///srv/a, identity ${storeId}; .*: not recorded`))]);
    }
    // A watermark exported before identities is recorded as before.
    expect(JSON.parse(String((await recorded(other, exported)).meta))).toEqual(exported);
    await store.close();
    await other.close();
  });

  it('leaves the old version active when a publish fails half-way, and the next publish succeeds', async () => {
    const store = await openStore(await lmdbUrl());
    await publishModel(fixtureModel({ users: 20, items: 10, seed: 1 }), store, { progress: false });
    const failing = publishModel(fixtureModel({ users: 50, items: 10, seed: 2 }), store, {
      batchSize: 10,
      progress: false,
      onUserBatch: (done) => {
        if (done >= 20) throw new Error('disk on fire');
      },
    });
    await expect(failing).rejects.toThrow('disk on fire');
    expect(await store.activeVersion()).toBe(1);
    expect((await store.listVersions()).map((r) => r.version)).toEqual([1]);
    const m3 = fixtureModel({ users: 15, items: 10, seed: 3 });
    const report = await publishModel(m3, store, { topK: 5, similarK: 3, progress: false });
    expect(report.version).toBe(3);
    await expectModelPublished(store, 3, m3, 5, 3);
    await store.close();
  });

  it('writes without activating when asked', async () => {
    const store = await openStore(await lmdbUrl());
    await publishModel(fixtureModel({ users: 5, items: 6 }), store, { progress: false });
    const report = await publishModel(fixtureModel({ users: 5, items: 6, seed: 4 }), store, { activate: false, progress: false });
    expect(report.activated).toBe(false);
    expect(await store.activeVersion()).toBe(1);
    expect((await store.getVersion(2))?.status).toBe('ready');
    await store.close();
  });
});

/** Starts a child publishing to `url`, SIGKILLs it after its first batch, and checks the aftermath. */
async function killMidPublish(url: string): Promise<void> {
  const store = await openStore(url);
  await publishModel(fixtureModel({ users: 10, items: 30, seed: 1 }), store, { progress: false });
  const js = await transpileForChild(join(import.meta.dirname, '../serve/test-support/publish-child.ts'));
  const child = spawnNode(js, [url, '400']);
  // By the third batch line the first two batches are written (one write in flight at a time).
  await waitForLine(child, /^batch 60$/);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));

  expect(await store.activeVersion()).toBe(1);
  const afterKill = await store.listVersions();
  expect(afterKill.map((r) => [r.version, r.status])).toEqual([[1, 'ready'], [2, 'writing']]);
  // The abandoned version's partial lists are there until the next publish...
  expect(await store.getUserRecs(2, 'u0')).toBeDefined();
  const m = fixtureModel({ users: 12, items: 30, seed: 5 });
  const report = await publishModel(m, store, { topK: 7, similarK: 4, progress: false });
  expect(report.version).toBe(3);
  // ...which removes them, record and data.
  expect((await store.listVersions()).map((r) => r.version)).toEqual([1, 3]);
  await expect(store.getUserRecs(2, 'u0')).rejects.toMatchObject({ code: 'RTREC_ERR_STORE_VERSION_NOT_FOUND' });
  await expectModelPublished(store, 3, m, 7, 4);
  await store.close();
}

describe('a publish killed with SIGKILL', () => {
  it('leaves the old LMDB version active; the next publish removes the partial version', async () => {
    await killMidPublish(await lmdbUrl());
  });
});

describeRedis('publishModel to Redis', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server.destroy();
  });

  it('round-trips every list through a real redis-server', async () => {
    const store = await openStore(`${server.url}?prefix=pub1`);
    const model = fixtureModel({ users: 40, items: 20 });
    const report = await publishModel(model, store, { topK: 8, similarK: 5, batchSize: 16, progress: false });
    await expectModelPublished(store, report.version, model, 8, 5);
    await store.close();
  });

  it('survives a publisher killed with SIGKILL half-way', async () => {
    await killMidPublish(`${server.url}?prefix=pub2`);
  });
});
