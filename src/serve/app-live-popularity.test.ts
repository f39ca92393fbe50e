/**
 * @module Live popularity through the HTTP API, on real LMDB and a real redis-server: purchases of
 * the least popular item move it to the top of /v1/popular and of unknown users' fallback, and its
 * extra weight halves after one half-life (an injected clock, no waiting).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRedis, startRedis, type RedisServer } from '../../test/support/redis-server.js';
import { DEFAULT_EVENT_WEIGHTS } from '../events/event-config.js';
import { fixedModelSource } from '../events/model-source.js';
import { explicitAlsModel, type ExplicitAls } from '../events/test-support/explicit-als.js';
import { serveFixture, type ServeFixture } from './test-support/serve-fixture.js';

const KEY = 'popular-key-0123456789';
const HALF_LIFE_HOURS = 24;
const HOUR_MS = 3_600_000;
/** Longer than the fixture's refreshMs (50), so the blended popular list is re-read. */
const AFTER_REFRESH_MS = 70;

interface Listed {
  source?: string;
  items: { itemId: string; score: number }[];
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function liveScenario(name: string, url: () => Promise<string | undefined>): void {
  describe(name, () => {
    let als: ExplicitAls;
    let fx: ServeFixture;
    let clock = 0;
    beforeAll(async () => {
      als = await explicitAlsModel(40, 30, 8);
      // Events default to the receive time (real, ≥ the clock's start) and are capped at the
      // clock's now, so every event below counts as happening exactly at `clock`.
      clock = Date.now();
      const at = await url();
      fx = await serveFixture([als.model], {
        ...(at ? { url: at } : {}),
        config: { apiKeys: [KEY], popularityHalfLifeHours: HALF_LIFE_HOURS },
        models: fixedModelSource(als.model),
        now: () => clock,
      });
    });
    afterAll(async () => {
      await fx.close();
    });

    const get = async (path: string) => {
      await pause(AFTER_REFRESH_MS);
      return (await fx.app.inject({ method: 'GET', url: path })).json<Listed>();
    };
    const post = (events: Record<string, unknown>[]) => fx.app.inject({ method: 'POST', url: '/v1/events', headers: { 'x-api-key': KEY }, payload: { events } });

    it('ranks by published count plus decayed event weights', async () => {
      const before = await get('/v1/popular?k=100');
      const top = before.items[0];
      const last = before.items[before.items.length - 1];
      expect(last.score).toBeLessThan(top.score);
      const purchase = DEFAULT_EVENT_WEIGHTS.purchase;
      // Enough purchases to overtake the top item by a margin even after one half-life.
      const n = Math.ceil((2 * (top.score - last.score + 1)) / purchase);
      const buyers = Array.from({ length: n }, (_, j) => ({ userId: `buyer-${j}`, itemId: last.itemId, type: 'purchase', eventId: `p-${j}` }));
      expect((await post(buyers)).statusCode).toBe(202);
      // Retried purchases and a dislike of the top item add nothing.
      expect((await post([...buyers.slice(0, 2), { userId: 'hater', itemId: top.itemId, type: 'dislike' }])).statusCode).toBe(202);

      const now = await get('/v1/popular?k=100');
      expect(now.items[0].itemId).toBe(last.itemId);
      expect(now.items[0].score).toBeCloseTo(last.score + n * purchase, 3);
      expect(now.items.find((i) => i.itemId === top.itemId)?.score).toBeCloseTo(top.score, 5);
      const fallback = await get('/v1/users/never-seen-user/recommendations?k=3');
      expect(fallback.source).toBe('popular');
      expect(fallback.items[0].itemId).toBe(last.itemId);

      clock += HALF_LIFE_HOURS * HOUR_MS;
      const later = await get('/v1/popular?k=100');
      expect(later.items.find((i) => i.itemId === last.itemId)?.score).toBeCloseTo(last.score + (n * purchase) / 2, 3);
      clock += 20 * HALF_LIFE_HOURS * HOUR_MS;
      const faded = await get('/v1/popular?k=100');
      expect(faded.items.find((i) => i.itemId === last.itemId)?.score).toBeCloseTo(last.score, 3);
      expect(faded.items[0].itemId).toBe(top.itemId);
    });

    it('reads the live counts once for the requests that arrive while they are read', async () => {
      const reads = async () => {
        const text = (await fx.app.inject({ method: 'GET', url: '/metrics' })).body;
        const m = /rtrec_store_read_duration_seconds_count\{operation="live-popularity",outcome="ok"\} (\d+)/.exec(text);
        return m ? Number(m[1]) : 0;
      };
      await pause(AFTER_REFRESH_MS);
      const before = await reads();
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, j) => fx.app.inject({ method: 'GET', url: j % 2 === 0 ? '/v1/popular?k=5' : `/v1/users/unknown-${j}/recommendations?k=5` })),
      );
      for (const a of answers) expect(a.statusCode).toBe(200);
      const lists = answers.map((a) => JSON.stringify(a.json<Listed>().items));
      expect(new Set(lists).size).toBe(1);
      expect((await reads()) - before).toBe(1);
    });
  });
}

liveScenario('live popularity on LMDB', () => Promise.resolve(undefined));

describeRedis('live popularity on redis-server', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server.destroy();
  });
  liveScenario('through the API', () => Promise.resolve(`${server.url}?prefix=live`));
});
