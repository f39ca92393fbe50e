import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRedis, startRedis, type RedisServer } from '../../test/support/redis-server.js';
import { openStore } from '../store/open-store.js';
import type { OnlineStore } from '../store/online-store.js';
import { loadEventConfig } from './event-config.js';
import { BUCKET_HALF_LIVES, LivePopularity, blendPopular } from './live-popularity.js';

const HOUR_MS = 3_600_000;
const config = loadEventConfig('');
const ev = (itemId: string, type: string, ts: number, n = 0) => ({ eventId: `${itemId}-${type}-${ts}-${n}`, userId: 'u', itemId, type, ts });

function decayCases(name: string, open: () => Promise<{ store: OnlineStore; remove?: () => Promise<void> }>): void {
  describe(name, () => {
    let store: OnlineStore;
    let remove: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      ({ store, remove } = await open());
    });
    afterAll(async () => {
      await store.close();
      await remove?.();
    });

    it('halves a contribution every half-life, across a bucket period boundary', async () => {
      // Half an hour before a period boundary (half-life 1 h, so a period is 64 h).
      const boundary = 1000 * BUCKET_HALF_LIVES * HOUR_MS;
      let clock = boundary - HOUR_MS / 2;
      const live = new LivePopularity(store, { halfLifeHours: 1, now: () => clock });
      await live.record([ev('x', 'purchase', clock), ev('x', 'dislike', clock), ev('d', 'dislike', clock)], config);
      const first = await live.top(10);
      expect(first.map((c) => c.itemId)).toEqual(['x']);
      expect(first[0].count).toBeCloseTo(5, 9);
      clock += HOUR_MS;
      const after = await live.top(10);
      expect(after.map((c) => c.itemId)).toEqual(['x']);
      expect(after[0].count).toBeCloseTo(2.5, 9);
      // A view now (weight 1) and one dated 10 h in the future, counted as now.
      await live.record([ev('y', 'view', clock), ev('y', 'view', clock + 10 * HOUR_MS, 1)], config);
      const both = await live.top(10);
      expect(both.map((c) => c.itemId)).toEqual(['x', 'y']);
      expect(both[1].count).toBeCloseTo(2, 9);
      clock += 2 * HOUR_MS;
      const two = await live.top(1);
      expect(two).toHaveLength(1);
      expect(two[0].count).toBeCloseTo(2.5 / 4, 9);
    });
  });
}

decayCases('live popularity on LMDB', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rtrec-live-'));
  return { store: await openStore(`lmdb://${dir}`), remove: () => rm(dir, { recursive: true, force: true }) };
});

describeRedis('live popularity on redis-server', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server.destroy();
  });
  decayCases('decay', async () => ({ store: await openStore(`${server.url}?prefix=livepop`) }));
});

describe('blendPopular', () => {
  const itemIndex = new Map([['c0', 0], ['c1', 1], ['c2', 2]]);
  const published = { items: Int32Array.from([2, 0]), scores: Float32Array.from([10, 3]) };
  const live = [{ itemId: 'zz', count: 100 }, { itemId: 'c1', count: 8 }, { itemId: 'c0', count: 4 }];

  it('adds live counts to published counts, drops items outside the catalogue', () => {
    // c2: 10, c1: 0 + 8, c0: 3 + 4; 'zz' is not in the catalogue.
    expect(blendPopular(published, live, itemIndex, 5)).toEqual({ items: Int32Array.from([2, 1, 0]), scores: Float32Array.from([10, 8, 7]) });
    expect(blendPopular(published, live, itemIndex)).toEqual({ items: Int32Array.from([2, 1]), scores: Float32Array.from([10, 8]) });
    expect(blendPopular(published, [], itemIndex)).toEqual(published);
  });
});
