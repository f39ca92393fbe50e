import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedModelSource, modelDirSource, type ModelSource } from '../events/model-source.js';
import { explicitAlsModel, referenceFoldIn, type ExplicitAls } from '../events/test-support/explicit-als.js';
import { publishModel } from '../jobs/publish.js';
import { MANIFEST_FILE } from '../models/manifest.js';
import { openStore } from '../store/open-store.js';
import { lineSink } from './test-support/line-sink.js';
import { serveFixture, TOP_K, type ServeFixture } from './test-support/serve-fixture.js';

const KEY = 'events-key-0123456789';
const headers = { 'x-api-key': KEY };

interface Recs {
  modelVersion: number;
  source: string;
  items: { itemId: string; score: number }[];
}
interface Accepted {
  accepted: number;
  duplicates: number;
  rejected: number;
  applied: boolean;
  modelVersion: number | null;
  notApplied?: string;
  results: { index: number; status: string; eventId?: string; reason?: string }[];
}

/** A source holding several models, each used for the version it was published from. */
function modelsSource(...models: ExplicitAls[]): ModelSource {
  return {
    modelFor(served) {
      const m = models.find((x) => x.model.info.createdAt === served.record.meta.modelCreatedAt) ?? models[0];
      return fixedModelSource(m.model).modelFor(served);
    },
  };
}

const ids = (r: { items: number[] }) => r.items.map((i) => `i${i}`);

describe('POST /v1/events over a real LMDB store', () => {
  let a: ExplicitAls;
  let b: ExplicitAls;
  let fx: ServeFixture;
  beforeAll(async () => {
    a = await explicitAlsModel(40, 30, 5);
    b = await explicitAlsModel(40, 30, 6);
    fx = await serveFixture([a.model], { config: { apiKeys: [KEY] }, models: modelsSource(a, b) });
  });
  afterAll(async () => {
    await fx.close();
  });

  const post = (payload: unknown, h: Record<string, string> = headers) => fx.app.inject({ method: 'POST', url: '/v1/events', headers: h, payload: payload as Record<string, unknown> });
  const recs = async (userId: string, k = 10) => (await fx.app.inject({ method: 'GET', url: `/v1/users/${userId}/recommendations?k=${k}` })).json<Recs>();

  it('needs an API key (401 without one or with a wrong one)', async () => {
    for (const h of [{}, { 'x-api-key': 'wrong-key-000000000' }] as Record<string, string>[]) {
      const res = await post({ userId: 'u1', itemId: 'i1', type: 'view' }, h);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'RTREC_ERR_HTTP_UNAUTHORIZED' });
    }
    expect(await fx.store.userEvents('u1')).toEqual([]);
    expect((await post({ userId: 'u1', itemId: 'i1', type: 'view' }, { authorization: `Bearer ${KEY}` })).statusCode).toBe(202);
  });

  it('read-your-writes: a new user\u2019s list turns from popular to the fold-in of their ratings before the 202', async () => {
    const before = await recs('fresh-user');
    expect(before.source).toBe('popular');
    const res = await post({ events: [{ userId: 'fresh-user', itemId: 'i3', type: 'rating', value: 5 }, { userId: 'fresh-user', itemId: 'i8', type: 'rating', value: 2 }] });
    expect(res.statusCode).toBe(202);
    expect(res.json<Accepted>()).toMatchObject({ accepted: 2, duplicates: 0, rejected: 0, applied: true, modelVersion: 1 });
    const after = await recs('fresh-user');
    expect(after.source).toBe('personalized');
    expect(after.items.map((i) => i.itemId)).toEqual(ids(referenceFoldIn(a.itemFactors, 30, new Map([[3, 5], [8, 2]]), 10)));
  });

  it('never serves an item a user disliked: a user with only dislikes gets the popular list without them, as source popular', async () => {
    const popular = (await fx.app.inject({ method: 'GET', url: '/v1/popular?k=10' })).json<{ items: { itemId: string }[] }>().items.map((i) => i.itemId);
    expect((await recs('grumpy')).items.map((i) => i.itemId)).toContain(popular[0]);
    expect((await post({ userId: 'grumpy', itemId: popular[0], type: 'dislike' })).statusCode).toBe(202);
    const after = await recs('grumpy');
    expect(after.source).toBe('popular');
    expect(after.items).toHaveLength(10);
    expect(after.items.map((i) => i.itemId)).not.toContain(popular[0]);
    // A rating makes the list personal again.
    await post({ userId: 'grumpy', itemId: popular[1], type: 'rating', value: 5 });
    expect((await recs('grumpy')).source).toBe('personalized');
  });

  it('rejects invalid events one by one with index and reason, keeping the valid ones', async () => {
    const res = await post({
      events: [
        { userId: 'mixed', itemId: 'i1', type: 'view' },
        { userId: 'mixed', itemId: 'i2', type: 'teleport' },
        { userId: 'mixed', itemId: 'i3', type: 'rating', value: 9 },
        { userId: 'x'.repeat(300), itemId: 'i3', type: 'click' },
        { userId: 'mixed', itemId: 'i4', type: 'rating', value: 4 },
      ],
    });
    expect(res.statusCode).toBe(202);
    const body = res.json<Accepted>();
    expect(body).toMatchObject({ accepted: 2, rejected: 3 });
    expect(body.results.map((r) => [r.index, r.status])).toEqual([[0, 'accepted'], [1, 'rejected'], [2, 'rejected'], [3, 'rejected'], [4, 'accepted']]);
    expect(body.results[1].reason).toMatch(/^type must be one of/);
    expect(body.results[2].reason).toMatch(/value must be a number from 0.5 to 5/);
    expect(body.results[3].reason).toMatch(/userId is longer than 256 bytes/);
    expect((await fx.store.userEvents('mixed')).map((e) => e.itemId)).toEqual(['i1', 'i4']);
  });

  it('judges a single event as sent, like an event of a batch: numeric timestamps kept, non-string ids refused', async () => {
    const at = Date.UTC(2026, 0, 1);
    const ok = await post({ userId: 'single-ts', itemId: 'i1', type: 'view', timestamp: at });
    expect(ok.statusCode).toBe(202);
    expect((await fx.store.userEvents('single-ts')).map((e) => e.ts)).toEqual([at]);
    for (const event of [{ userId: 42, itemId: 'i1', type: 'view' }, { userId: 'single-bad', itemId: ['i1'], type: 'view' }, { userId: 'single-bad', itemId: 'i1', type: 'rating', value: true }]) {
      const alone = await post(event);
      expect(alone.statusCode).toBe(400);
      expect(alone.json()).toMatchObject({ code: 'RTREC_ERR_EVENT_INVALID' });
      const batch = (await post({ events: [event, { userId: 'single-ok', itemId: 'i2', type: 'view' }] })).json<Accepted>();
      expect(batch.results[0]).toMatchObject({ status: 'rejected' });
    }
    expect(await fx.store.userEvents('42')).toEqual([]);
    expect(await fx.store.userEvents('single-bad')).toEqual([]);
  });

  it('answers 400 when no event is valid, and refuses empty or oversized batches', async () => {
    const none = await post({ events: [{ userId: 'z', itemId: 'i1', type: 'rating' }] });
    expect(none.statusCode).toBe(400);
    expect(none.json()).toMatchObject({ code: 'RTREC_ERR_EVENT_INVALID' });
    expect(none.json<{ message: string }>().message).toMatch(/events\/0: value must be/);
    const big = Array.from({ length: 1001 }, (_, j) => ({ userId: 'z', itemId: `i${j % 30}`, type: 'view' }));
    for (const payload of [{ events: [] }, { events: big }, { events: [], extra: 1 }]) {
      const res = await post(payload);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'RTREC_ERR_EVENT_INVALID' });
    }
    expect(await fx.store.userEvents('z')).toEqual([]);
    const full = await post({ events: big.slice(0, 1000) });
    expect(full.statusCode).toBe(202);
    expect(full.json<Accepted>().accepted).toBe(1000);
  });

  it('makes retries idempotent by eventId', async () => {
    const event = { userId: 'retrier', itemId: 'i5', type: 'rating', value: 4, eventId: 'evt-42' };
    const first = await post(event);
    const second = await post({ ...event, value: 1 });
    expect(first.json<Accepted>()).toMatchObject({ accepted: 1, duplicates: 0, results: [{ index: 0, status: 'accepted', eventId: 'evt-42' }] });
    expect(second.json<Accepted>()).toMatchObject({ accepted: 0, duplicates: 1, results: [{ index: 0, status: 'duplicate', eventId: 'evt-42' }] });
    expect((await fx.store.userEvents('retrier')).map((e) => e.value)).toEqual([4]);
    expect((await recs('retrier')).items.map((i) => i.itemId)).toEqual(ids(referenceFoldIn(a.itemFactors, 30, new Map([[5, 4]]), 10)));
    // A true retry (same content, time left to the server) is a plain duplicate; a reused id for other content says so.
    expect(second.json<Accepted>().results[0].reason).toMatch(/^eventId evt-42 was first used for a different event \(value 4, not 1\); that one is kept, this one is not applied$/);
    const retry = (await post(event)).json<Accepted>();
    expect(retry.results[0]).toEqual({ index: 0, status: 'duplicate', eventId: 'evt-42' });
    const moved = (await post({ ...event, itemId: 'i6', timestamp: 1_767_225_600_000 })).json<Accepted>();
    expect(moved.results[0].reason).toMatch(/\(itemId "i5", not "i6"; timestamp .*, not 2026-01-01T00:00:00.000Z\)/);
  });

  it('applies events logged during a publish to the new version once it is served', async () => {
    const publisher = await openStore(fx.url);
    let during: Accepted | undefined;
    const report = await publishModel(b.model, publisher, {
      topK: TOP_K,
      progress: false,
      batchSize: 10,
      onUserBatch: async (done) => {
        if (done !== 20) return;
        const res = await post({ userId: 'mid-publish', itemId: 'i11', type: 'rating', value: 5 });
        during = res.json<Accepted>();
      },
    });
    await publisher.close();
    // Accepted while version 1 was served and applied there.
    expect(during).toMatchObject({ accepted: 1, applied: true, modelVersion: 1 });
    expect(report.version).toBe(2);
    const want = ids(referenceFoldIn(b.itemFactors, 30, new Map([[11, 5]]), 10));
    const wantFresh = ids(referenceFoldIn(b.itemFactors, 30, new Map([[3, 5], [8, 2]]), 10));
    const started = Date.now();
    for (;;) {
      const [mid, fresh] = [await recs('mid-publish'), await recs('fresh-user')];
      if (mid.modelVersion === 2 && mid.source === 'personalized' && fresh.source === 'personalized') {
        expect(mid.items.map((i) => i.itemId)).toEqual(want);
        expect(fresh.items.map((i) => i.itemId)).toEqual(wantFresh);
        break;
      }
      expect(Date.now() - started, 'version 2 served with event users recomputed within 3 s').toBeLessThan(3_000);
      await new Promise((r) => setTimeout(r, 20));
    }
  });
});

describe('POST /v1/events with a model folder that cannot be loaded', () => {
  it('tells the client why without naming the folder, which only the log shows', async () => {
    const { model } = await explicitAlsModel(20, 15, 7);
    const dir = await mkdtemp(join(tmpdir(), 'rtrec-secret-models-'));
    await writeFile(join(dir, MANIFEST_FILE), '{ not json');
    const sink = lineSink();
    const fx = await serveFixture([model], { config: { apiKeys: [KEY] }, models: modelDirSource(dir), logger: { level: 'info', stream: sink.stream } });
    try {
      const res = await fx.app.inject({ method: 'POST', url: '/v1/events', headers, payload: { userId: 'broken-folder', itemId: 'i1', type: 'purchase' } });
      expect(res.statusCode).toBe(202);
      expect(res.json<Accepted>()).toMatchObject({ accepted: 1, applied: false, modelVersion: null });
      expect(res.json<Accepted>().notApplied).toMatch(/^the model folder cannot be loaded \(RTREC_ERR_/);
      expect(res.body).not.toContain(dir);
      expect(sink.records().some((r) => r.msg === 'events logged without updating recommendations' && String(r.reason).includes(dir))).toBe(true);
      expect((await fx.store.userEvents('broken-folder')).map((e) => e.type)).toEqual(['purchase']);
    } finally {
      await fx.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('POST /v1/events without a model folder', () => {
  it('logs the events and says why lists were not updated', async () => {
    const { model } = await explicitAlsModel(20, 15, 7);
    const fx = await serveFixture([model], { config: { apiKeys: [KEY] } });
    try {
      const res = await fx.app.inject({ method: 'POST', url: '/v1/events', headers, payload: { userId: 'nomodel', itemId: 'i1', type: 'purchase' } });
      expect(res.statusCode).toBe(202);
      expect(res.json<Accepted>()).toMatchObject({ accepted: 1, applied: false, modelVersion: null });
      expect(res.json<Accepted>().notApplied).toMatch(/RTREC_MODEL_DIR/);
      expect((await fx.store.userEvents('nomodel')).map((e) => e.type)).toEqual(['purchase']);
      const get = await fx.app.inject({ method: 'GET', url: '/v1/users/nomodel/recommendations' });
      expect(get.json<Recs>().source).toBe('popular');
    } finally {
      await fx.close();
    }
  });
});

describe('POST /v1/events while the served version\u2019s model folder is not deployed yet', () => {
  it('recomputes the users with events once the model is there: the startup catch-up is retried, not given up', async () => {
    const { model } = await explicitAlsModel(20, 15, 9);
    let deployed = false;
    const models: ModelSource = {
      modelFor: (served) => (deployed ? fixedModelSource(model).modelFor(served) : Promise.resolve({ reason: 'the model folder is not the model of version 1' })),
    };
    const fx = await serveFixture([model], { config: { apiKeys: [KEY] }, models });
    try {
      const res = await fx.app.inject({ method: 'POST', url: '/v1/events', headers, payload: { userId: 'early', itemId: 'i2', type: 'rating', value: 5 } });
      expect(res.json<Accepted>()).toMatchObject({ accepted: 1, applied: false });
      deployed = true;
      const started = Date.now();
      for (;;) {
        const recs = (await fx.app.inject({ method: 'GET', url: '/v1/users/early/recommendations' })).json<Recs>();
        if (recs.source === 'personalized') break;
        expect(Date.now() - started, 'the list of a user with events recomputed after the model appeared').toBeLessThan(8_000);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await fx.close();
    }
  });
});
