import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRedis, startRedis, type RedisServer } from '../../test/support/redis-server.js';
import { RecError } from '../core/errors.js';
import type { ItemMetadata } from '../data/interactions.js';
import type { OnlineStore } from '../store/online-store.js';
import { openStore } from '../store/open-store.js';
import { publishSparkExport } from './publish-spark.js';

// A hand-written Spark export (the layout train_als.py --precompute-k writes): four items, three
// users, the similar-items table as a folder of part files as executors write it remotely.
const ITEMS = [
  { itemId: 'a', users: 2 },
  { itemId: 'b "quoted", item', users: 3 },
  { itemId: 'c', users: 1 },
  { itemId: 'd', users: 0 },
];
const USER_RECS = [
  { userId: 'u1', items: [['c', 2.5], ['d', 1.25]] },
  { userId: 'u,2', items: [['a', 0.5]] },
  { userId: 'u3', items: [['d', 3], ['a', 2], ['c', -1]] },
];
const SIMILAR = [
  { itemId: 'a', items: [['b "quoted", item', 0.75], ['c', 0.5]] },
  { itemId: 'b "quoted", item', items: [['a', 0.75]] },
  { itemId: 'c', items: [['a', 0.5]] },
  { itemId: 'd', items: [] },
];

function manifest(precompute: Record<string, unknown> | undefined): string {
  return JSON.stringify({
    format: 'rtrec-spark-export',
    formatVersion: 1,
    model: 'als',
    implicit: false,
    hyperParameters: { rank: 2, iterations: 1, reg: 0.1, alpha: 1, nonnegative: false, seed: 1 },
    counts: { rows: 6, interactions: 6, users: 3, items: 4 },
    files: { userFactors: 'user_factors.csv', itemFactors: 'item_factors.csv', ...(precompute ? { precompute } : {}) },
    spark: { version: '4.0.0', master: 'local[2]' },
    timings: {},
    createdAt: '2026-01-01T00:00:00Z',
  });
}

const jsonl = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

async function writeExport(dir: string, options: { userRecs?: readonly unknown[]; precompute?: boolean } = {}): Promise<string> {
  await mkdir(join(dir, 'precompute', 'similar_items.jsonl'), { recursive: true });
  const pre = {
    k: 3,
    similarK: 2,
    margin: 50,
    userRecs: 'precompute/user_recs.jsonl',
    similarItems: 'precompute/similar_items.jsonl',
    items: 'precompute/items.jsonl',
    counts: { userRecs: 3, similarItems: -1, items: 4 },
  };
  await writeFile(join(dir, 'export.json'), manifest(options.precompute === false ? undefined : pre));
  await writeFile(join(dir, 'precompute', 'items.jsonl'), jsonl(ITEMS));
  await writeFile(join(dir, 'precompute', 'user_recs.jsonl'), jsonl(options.userRecs ?? USER_RECS));
  await writeFile(join(dir, 'precompute', 'similar_items.jsonl', 'part-00000-x.txt'), jsonl(SIMILAR.slice(0, 2)));
  await writeFile(join(dir, 'precompute', 'similar_items.jsonl', 'part-00001-x.txt'), jsonl(SIMILAR.slice(2)));
  await writeFile(join(dir, 'precompute', 'similar_items.jsonl', '_SUCCESS'), '');
  return dir;
}

const METADATA: ItemMetadata = { fields: ['title'], byId: new Map([['a', { title: 'Alpha' }]]) };

/** The stored list as ids and scores, resolved through the version's own catalogue. */
async function storedList(store: OnlineStore, version: number, kind: 'user' | 'similar', id: string): Promise<[string, number][] | undefined> {
  const catalog = await store.readCatalog(version);
  const ranked = kind === 'user' ? await store.getUserRecs(version, id) : await store.getSimilarItems(version, id);
  return ranked && [...ranked.items].map((i, j): [string, number] => [catalog.ids[i], ranked.scores[j]]);
}

function publishTests(storeUrl: (dir: string) => string): void {
  let dir: string;
  let store: OnlineStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rtrec-publish-spark-'));
    store = await openStore(storeUrl(dir));
  });
  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('streams every list into a new active version that reads back as written', async () => {
    const exportDir = await writeExport(join(dir, 'ok'));
    const report = await publishSparkExport(exportDir, store, { progress: false, batchSize: 2, itemMetadata: METADATA });
    expect(report).toMatchObject({ version: 1, activated: true, topK: 3, similarK: 2, counts: { u: 3, s: 4, p: 1, c: 4 } });
    expect(await store.activeVersion()).toBe(1);
    for (const r of USER_RECS) expect(await storedList(store, 1, 'user', r.userId)).toEqual(r.items);
    for (const r of SIMILAR) expect(await storedList(store, 1, 'similar', r.itemId)).toEqual(r.items);
    const catalog = await store.readCatalog(1);
    expect(catalog.ids).toEqual(ITEMS.map((i) => i.itemId));
    expect(catalog.metadata).toEqual([{ title: 'Alpha' }, null, null, null]);
    // Popularity: by users, best first; 'd' (nobody) left out.
    const popular = await store.getPopular(1);
    expect([...popular!.items].map((i) => catalog.ids[i])).toEqual(['b "quoted", item', 'a', 'c']);
    expect([...popular!.scores]).toEqual([3, 2, 1]);
    expect((await store.getVersion(1))?.meta).toMatchObject({ engine: 'spark', topK: 3, similarK: 2 });
  });

  it('a list naming an unknown item fails with MODEL_CORRUPT naming file and line, and the active version stays', async () => {
    const exportDir = await writeExport(join(dir, 'bad'), { userRecs: [USER_RECS[0], { userId: 'u9', items: [['zz', 1]] }] });
    const err = await publishSparkExport(exportDir, store, { progress: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecError);
    expect((err as RecError).code).toBe('RTREC_ERR_MODEL_CORRUPT');
    expect((err as RecError).message).toContain('user_recs.jsonl:2');
    expect(await store.activeVersion()).toBe(1);
    expect((await store.listVersions()).map((v) => [v.version, v.status])).toEqual([[1, 'ready']]);
  });

  it('a second publish activates, and rollback and prune work on Spark versions as on any', async () => {
    const report = await publishSparkExport(await writeExport(join(dir, 'again')), store, { progress: false, popularK: 1 });
    expect(report.version).toBeGreaterThan(1);
    expect((await store.getPopular(report.version))?.items).toHaveLength(1);
    expect(await store.rollback()).toEqual({ from: report.version, to: 1 });
    const pruned = await store.prune(1);
    expect(pruned.kept).toContain(1);
  });
}

describe('publishSparkExport into LMDB', () => {
  publishTests((dir) => `lmdb://${join(dir, 'store')}`);

  it('an export without precompute is CONFIG_INVALID telling how to make one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rtrec-publish-spark-none-'));
    const store = await openStore(`lmdb://${join(dir, 'store')}`);
    try {
      const err = await publishSparkExport(await writeExport(join(dir, 'x'), { precompute: false }), store, { progress: false }).catch((e: unknown) => e);
      expect((err as RecError).code).toBe('RTREC_ERR_CONFIG_INVALID');
      expect((err as RecError).message).toContain('--precompute-k');
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects lists that are not best first', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rtrec-publish-spark-order-'));
    const store = await openStore(`lmdb://${join(dir, 'store')}`);
    try {
      const exportDir = await writeExport(join(dir, 'x'), { userRecs: [{ userId: 'u1', items: [['a', 1], ['c', 2]] }] });
      const err = await publishSparkExport(exportDir, store, { progress: false }).catch((e: unknown) => e);
      expect((err as RecError).code).toBe('RTREC_ERR_MODEL_CORRUPT');
      expect((err as RecError).message).toContain('not best first');
      expect(await store.activeVersion()).toBeNull();
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describeRedis('publishSparkExport into Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.destroy();
  });
  publishTests(() => redis.url);
});
