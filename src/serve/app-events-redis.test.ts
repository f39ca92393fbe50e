import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRedis, startRedis, type RedisServer } from '../../test/support/redis-server.js';
import { fixedModelSource } from '../events/model-source.js';
import { explicitAlsModel, referenceFoldIn, type ExplicitAls } from '../events/test-support/explicit-als.js';
import { openStore } from '../store/open-store.js';
import type { OnlineStore } from '../store/online-store.js';
import { buildApp } from './app.js';
import type { RtrecApp } from './app-types.js';
import { serveFixture, testConfig, type ServeFixture } from './test-support/serve-fixture.js';

const KEY = 'events-key-0123456789';

interface Recs {
  source: string;
  items: { itemId: string }[];
}

describeRedis('events with two server instances sharing one redis-server', () => {
  let server: RedisServer;
  let als: ExplicitAls;
  let first: ServeFixture;
  let secondStore: OnlineStore;
  let second: RtrecApp;
  beforeAll(async () => {
    server = await startRedis();
    als = await explicitAlsModel(40, 30, 8);
    const url = `${server.url}?prefix=events`;
    first = await serveFixture([als.model], { url, config: { apiKeys: [KEY] }, models: fixedModelSource(als.model) });
    secondStore = await openStore(url);
    second = await buildApp({ store: secondStore, config: testConfig({ apiKeys: [KEY] }), logger: false, models: fixedModelSource(als.model) });
  });
  afterAll(async () => {
    await second.close();
    await secondStore.close();
    await first.close();
    await server.destroy();
  });

  const recs = async (app: RtrecApp, userId: string) => (await app.inject({ method: 'GET', url: `/v1/users/${userId}/recommendations?k=10` })).json<Recs>();
  const post = (app: RtrecApp, payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/v1/events', headers: { 'x-api-key': KEY }, payload });

  it('an event accepted by one instance shows in the very next read on the other', async () => {
    // Both instances have read the user once (nothing personal yet), so neither can answer from memory.
    expect((await recs(first.app, 'shared-user')).source).toBe('popular');
    expect((await recs(second, 'shared-user')).source).toBe('popular');
    expect((await post(first.app, { userId: 'shared-user', itemId: 'i6', type: 'rating', value: 5 })).statusCode).toBe(202);
    const seen = await recs(second, 'shared-user');
    expect(seen.source).toBe('personalized');
    expect(seen.items.map((i) => i.itemId)).toEqual(referenceFoldIn(als.itemFactors, 30, new Map([[6, 5]]), 10).items.map((i) => `i${i}`));

    // And the other way round, building on the first event from the shared log.
    expect((await post(second, { userId: 'shared-user', itemId: 'i2', type: 'rating', value: 1, eventId: 'from-second' })).statusCode).toBe(202);
    const both = referenceFoldIn(als.itemFactors, 30, new Map([[6, 5], [2, 1]]), 10).items.map((i) => `i${i}`);
    expect((await recs(first.app, 'shared-user')).items.map((i) => i.itemId)).toEqual(both);
    // A retry through the other instance is still a duplicate.
    const retry = await post(first.app, { userId: 'shared-user', itemId: 'i2', type: 'rating', value: 1, eventId: 'from-second' });
    expect(retry.json<{ duplicates: number }>().duplicates).toBe(1);
    expect((await first.store.userEvents('shared-user')).length).toBe(2);
  });
});
