import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { popularityFromSeen } from '../jobs/publish.js';
import { loadServeConfig } from './config.js';
import { buildApp } from './app.js';
import { openStore } from '../store/open-store.js';
import { FIXTURE_GENRES, fixtureModel } from './test-support/fixture-model.js';
import { expectedUserItems, serveFixture, servedScore, tempLmdbUrl, type ServeFixture } from './test-support/serve-fixture.js';

interface ItemJson {
  itemId: string;
  score: number;
  rank: number;
  title?: string;
  genres?: string[];
}

const model = fixtureModel({ users: 30, items: 40, seenPerUser: 5 });
let fx: ServeFixture;

beforeAll(async () => {
  fx = await serveFixture([model]);
});
afterAll(async () => {
  await fx.close();
});

async function get(url: string): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, unknown> }> {
  const res = await fx.app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json(), headers: res.headers };
}

describe('GET /v1/users/:userId/recommendations', () => {
  it('answers every known user exactly what TrainedModel.recommend gives (seen items excluded), with metadata', async () => {
    for (let u = 0; u < model.numUsers; u++) {
      const userId = model.users.idOf(u);
      const { status, body } = await get(`/v1/users/${userId}/recommendations?k=10`);
      expect(status).toBe(200);
      expect(body.userId).toBe(userId);
      expect(body.modelVersion).toBe(1);
      expect(body.source).toBe('personalized');
      const items = body.items as ItemJson[];
      expect(items.map((i) => ({ itemId: i.itemId, score: i.score }))).toEqual(expectedUserItems(model, userId, 10));
      expect(items.map((i) => i.rank)).toEqual(Array.from({ length: 10 }, (_, j) => j + 1));
      for (const it of items) {
        const meta = model.itemMetadata!.byId.get(it.itemId)!;
        expect(it.title).toBe(meta.title);
        expect(it.genres).toEqual(meta.genres);
      }
    }
  });

  it('defaults k to 10 and accepts k up to 100 (lists hold every unseen item here)', async () => {
    expect(((await get('/v1/users/u3/recommendations')).body.items as unknown[]).length).toBe(10);
    const all = (await get('/v1/users/u3/recommendations?k=100')).body.items as ItemJson[];
    expect(all.map((i) => i.itemId)).toEqual(expectedUserItems(model, 'u3', 100).map((e) => e.itemId));
  });

  it('gives an unknown user the popularity list with source "popular" and a 200', async () => {
    const { status, body } = await get('/v1/users/stranger/recommendations?k=5');
    expect(status).toBe(200);
    expect(body.source).toBe('popular');
    const pop = popularityFromSeen(model.seen, 5);
    expect((body.items as ItemJson[]).map((i) => [i.itemId, i.score])).toEqual([...pop.items].map((i, j) => [model.items.idOf(i), servedScore(pop.scores[j])]));
  });

  it('removes excluded items and filters by genre, case-insensitively', async () => {
    const full = expectedUserItems(model, 'u7', 100);
    const drop = [full[0].itemId, full[2].itemId, 'not-an-item'];
    const { body } = await get(`/v1/users/u7/recommendations?k=5&exclude=${drop.join(',')}`);
    expect((body.items as ItemJson[]).map((i) => i.itemId)).toEqual(full.filter((e) => !drop.includes(e.itemId)).slice(0, 5).map((e) => e.itemId));

    const comedy = Int32Array.from(Array.from({ length: model.numItems }, (_, i) => i).filter((i) => FIXTURE_GENRES[i % 3] === 'Comedy'));
    const byGenre = await get('/v1/users/u7/recommendations?k=4&genre=comedy');
    expect((byGenre.body.items as ItemJson[]).map((i) => i.itemId)).toEqual(expectedUserItems(model, 'u7', 4, comedy).map((e) => e.itemId));
    expect(((await get('/v1/users/u7/recommendations?genre=Western')).body.items as unknown[]).length).toBe(0);
  });

  it('answers repeated and interleaved queries for one user like the first time (selections are reused per list and query)', async () => {
    const comedy = Int32Array.from(Array.from({ length: model.numItems }, (_, i) => i).filter((i) => FIXTURE_GENRES[i % 3] === 'Comedy'));
    const queries: [string, { itemId: string; score: number }[]][] = [
      ['k=3', expectedUserItems(model, 'u9', 3)],
      ['k=10', expectedUserItems(model, 'u9', 10)],
      ['k=3&genre=Comedy', expectedUserItems(model, 'u9', 3, comedy)],
      [`k=3&exclude=${expectedUserItems(model, 'u9', 1)[0].itemId}`, expectedUserItems(model, 'u9', 4).slice(1)],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [query, expected] of queries) {
        const items = (await get(`/v1/users/u9/recommendations?${query}`)).body.items as ItemJson[];
        expect(items.map((i) => ({ itemId: i.itemId, score: i.score })), `${query}, round ${round}`).toEqual(expected);
        expect(items.map((i) => i.rank)).toEqual(expected.map((_, j) => j + 1));
      }
    }
  });

  it('gives every unknown user their own id over the shared popular items', async () => {
    const a = await get('/v1/users/stranger-a/recommendations?k=4');
    const b = await get('/v1/users/stranger-b/recommendations?k=4');
    expect([a.body.userId, b.body.userId]).toEqual(['stranger-a', 'stranger-b']);
    expect(b.body.items).toEqual(a.body.items);
    expect((await get('/v1/users/stranger-b/recommendations?k=2')).body.items).toEqual((a.body.items as unknown[]).slice(0, 2));
  });

  it('accepts ids needing percent-encoding', async () => {
    const { status, body } = await get(`/v1/users/${encodeURIComponent('名前 with/slash')}/recommendations?k=1`);
    expect(status).toBe(200);
    expect(body.userId).toBe('名前 with/slash');
    expect(body.source).toBe('popular');
  });
});

describe('POST /v1/recommendations:batch', () => {
  it('answers each user as the single route does, in order, unknown users included', async () => {
    const userIds = ['u0', 'ghost', 'u29', 'u0'];
    const res = await fx.app.inject({ method: 'POST', url: '/v1/recommendations:batch', payload: { userIds, k: 3 } });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ modelVersion: number; results: { userId: string; source: string; items: ItemJson[] }[] }>();
    expect(body.modelVersion).toBe(1);
    expect(body.results.map((r) => r.userId)).toEqual(userIds);
    for (const r of body.results) {
      const single = (await get(`/v1/users/${r.userId}/recommendations?k=3`)).body;
      expect(r.source).toBe(single.source);
      expect(r.items).toEqual(single.items);
    }
  });

  it('takes 1000 users', async () => {
    const userIds = Array.from({ length: 1000 }, (_, j) => `u${j % 40}`);
    const res = await fx.app.inject({ method: 'POST', url: '/v1/recommendations:batch', payload: { userIds, k: 1, genre: 'Drama', exclude: ['i1'] } });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ results: unknown[] }>().results).toHaveLength(1000);
  });
});

describe('item routes', () => {
  it('GET /v1/items/:itemId/similar equals TrainedModel.similarItems', async () => {
    for (const i of [0, 7, 39]) {
      const { status, body } = await get(`/v1/items/i${i}/similar?k=6`);
      expect(status).toBe(200);
      expect(body.source).toBe('similar');
      const ref = model.similarItems(i, 6);
      expect((body.items as ItemJson[]).map((x) => [x.itemId, x.score])).toEqual([...ref.items].map((t, j) => [model.items.idOf(t), servedScore(ref.scores[j])]));
    }
    const missing = await get('/v1/items/i999/similar');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('RTREC_ERR_HTTP_NOT_FOUND');
  });

  it('GET /v1/popular and GET /v1/items/:itemId', async () => {
    const pop = await get('/v1/popular?k=3');
    const ref = popularityFromSeen(model.seen, 3);
    expect((pop.body.items as ItemJson[]).map((x) => x.itemId)).toEqual([...ref.items].map((i) => model.items.idOf(i)));
    const item = await get('/v1/items/i4');
    expect(item.body).toEqual({ itemId: 'i4', modelVersion: 1, ...model.itemMetadata!.byId.get('i4') });
    const none = await get('/v1/items/nope');
    expect(none.status).toBe(404);
    expect(none.body.code).toBe('RTREC_ERR_HTTP_NOT_FOUND');
  });
});

describe('health, readiness, request ids', () => {
  it('is alive and ready once the active version is loaded', async () => {
    expect((await get('/healthz')).body).toEqual({ status: 'ok' });
    expect(await get('/readyz')).toMatchObject({ status: 200, body: { status: 'ready', modelVersion: 1 } });
  });

  it('echoes a plain x-request-id and invents one otherwise', async () => {
    const given = await fx.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers['x-request-id']).toBe('abc-123');
    const odd = await fx.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id\twith tab' } });
    const invented = String(odd.headers['x-request-id']);
    expect(invented).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
    const next = await fx.app.inject({ method: 'GET', url: '/healthz' });
    expect(next.headers['x-request-id']).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
    expect(next.headers['x-request-id']).not.toBe(invented);
  });

  it('reports not ready (503, with a code) on an empty store, and answers reads with 503 too', async () => {
    const tmp = await tempLmdbUrl();
    const store = await openStore(tmp.url);
    const app = await buildApp({ store, config: loadServeConfig({ env: {}, flags: { logLevel: 'silent' } }), logger: false });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ code: 'RTREC_ERR_STORE_NO_ACTIVE_VERSION' });
    const recs = await app.inject({ method: 'GET', url: '/v1/users/u1/recommendations' });
    expect(recs.statusCode).toBe(503);
    expect(recs.json()).toMatchObject({ code: 'RTREC_ERR_STORE_NO_ACTIVE_VERSION' });
    // Public answers do not name the store (its path here; host and port for Redis).
    const folder = tmp.url.slice('lmdb://'.length);
    expect(ready.body).not.toContain(folder);
    expect(recs.body).not.toContain(folder);
    await app.close();
    await store.close();
    await tmp.remove();
  });
});
