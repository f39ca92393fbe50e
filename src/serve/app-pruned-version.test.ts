/**
 * @module A server lagging behind a switch while the version it serves is pruned (over a real LMDB
 * store): LMDB refuses its list updates into the deleted version, and that must not read as a store
 * failure. The server stays ready and keeps answering from the version it serves (lists gone, so
 * from its popular list) until it switches.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedModelSource } from '../events/model-source.js';
import { explicitAlsModel, type ExplicitAls } from '../events/test-support/explicit-als.js';
import { publishModel } from '../jobs/publish.js';
import { openStore } from '../store/open-store.js';
import { DEGRADED_HEADER } from './routes/read-routes.js';
import { serveFixture, TOP_K, type ServeFixture } from './test-support/serve-fixture.js';

const KEY = 'events-key-0123456789';

describe('a server still serving a version pruned under it (LMDB)', () => {
  let a: ExplicitAls;
  let fx: ServeFixture;
  beforeAll(async () => {
    a = await explicitAlsModel(40, 30, 5);
    // Re-reads the active pointer only every minute: the server lags behind the switch below.
    fx = await serveFixture([a.model], { config: { apiKeys: [KEY], refreshMs: 60_000 }, models: fixedModelSource(a.model) });
  });
  afterAll(async () => {
    await fx.close();
  });

  const recs = (userId: string) => fx.app.inject({ method: 'GET', url: `/v1/users/${userId}/recommendations?k=5` });

  it('stays ready and answers without degrading after its list updates are refused', async () => {
    const before = await recs('u1');
    expect(before.json()).toMatchObject({ modelVersion: 1, source: 'personalized' });

    const admin = await openStore(fx.url);
    try {
      const b = await explicitAlsModel(40, 30, 6);
      await publishModel(b.model, admin, { topK: TOP_K, similarK: 20, progress: false });
      expect(await admin.prune(1, { retiredGraceMs: 0 })).toMatchObject({ deleted: [1] });
    } finally {
      await admin.close();
    }

    // Events are still logged; the lists of version 1 cannot be updated any more.
    for (const userId of ['u2', 'u3']) {
      const res = await fx.app.inject({ method: 'POST', url: '/v1/events', headers: { 'x-api-key': KEY }, payload: { userId, itemId: 'i4', type: 'rating', value: 5 } });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toMatchObject({ accepted: 1, applied: false, modelVersion: null, notApplied: expect.stringMatching(/version 1\b.*RTREC_ERR_STORE_VERSION_NOT_FOUND/) as unknown });
      // LMDB's own message names the store's folder: that stays in the server log.
      expect(res.body).not.toContain(fx.url.slice('lmdb://'.length));
    }
    expect((await fx.store.userEvents('u2')).length).toBe(1);

    for (const userId of ['u1', 'u5']) {
      const res = await recs(userId);
      expect(res.statusCode).toBe(200);
      expect(res.headers[DEGRADED_HEADER]).toBeUndefined();
      expect(res.json()).toMatchObject({ modelVersion: 1, source: 'popular' });
    }
    const similar = await fx.app.inject({ method: 'GET', url: '/v1/items/i1/similar?k=5' });
    expect(similar.statusCode).toBe(200);
    expect(similar.headers[DEGRADED_HEADER]).toBeUndefined();
    expect((await fx.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });
});
