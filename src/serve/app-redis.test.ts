import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRedis, startRedis, type RedisServer } from '../../test/support/redis-server.js';
import { popularityFromSeen } from '../jobs/publish.js';
import { fixtureModel } from './test-support/fixture-model.js';
import { expectedUserItems, serveFixture, type ServeFixture } from './test-support/serve-fixture.js';

const model = fixtureModel({ users: 30, items: 25, seed: 21 });

interface Recs {
  modelVersion: number;
  source: string;
  items: { itemId: string; score: number }[];
}

describeRedis('serving from Redis', () => {
  let server: RedisServer;
  let fx: ServeFixture;
  let base: string;
  beforeAll(async () => {
    server = await startRedis();
    fx = await serveFixture([model], { url: `${server.url}?prefix=serve`, storeOptions: { connect: 'background', readTimeoutMs: 200 } });
    // Over the network too: plain reads then take the fast lane (fast-lane.ts), inject never does.
    await fx.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(fx.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await fx.close();
    await server.destroy();
  });

  const ids = (r: Recs) => r.items.map((i) => ({ itemId: i.itemId, score: i.score }));

  it('answers exactly what the model recommends, through a real redis-server', async () => {
    // Users 25..29 stay unasked until the outage test.
    for (let u = 0; u < 25; u++) {
      const res = await fx.app.inject({ method: 'GET', url: `/v1/users/u${u}/recommendations?k=7` });
      expect(res.statusCode).toBe(200);
      expect(ids(res.json<Recs>())).toEqual(expectedUserItems(model, `u${u}`, 7));
    }
  });

  it('keeps answering while Redis is down (cached answers, else popular, flagged degraded) and recovers within 2 s', async () => {
    const statuses: number[] = [];
    let stop = false;
    // A small steady load over users 0..19, through Fastify (inject) and over HTTP (the fast lane);
    // user 25 is never asked before the outage.
    const load = async (c: number) => {
      for (let j = c; !stop; j++) {
        const url = `/v1/users/u${j % 20}/recommendations?k=5`;
        statuses.push(c === 0 ? (await fx.app.inject({ method: 'GET', url })).statusCode : (await fetch(`${base}${url}`)).status);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const clients = [0, 1, 2].map(load);
    try {
      await outageAndRecovery();
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    expect(statuses.length).toBeGreaterThan(30);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });

  async function outageAndRecovery(): Promise<void> {
    await new Promise((r) => setTimeout(r, 100));
    // u3's answer must be in the cache before the outage, whatever the load loop managed so far.
    const warm = await fx.app.inject({ method: 'GET', url: '/v1/users/u3/recommendations?k=5' });
    expect(warm.json<Recs>().source).toBe('personalized');

    await server.stop({ save: true });
    const downAt = Date.now();
    while ((await fx.app.inject({ method: 'GET', url: '/readyz' })).statusCode !== 503) {
      expect(Date.now() - downAt).toBeLessThan(2_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    const cached = await fx.app.inject({ method: 'GET', url: '/v1/users/u3/recommendations?k=5' });
    expect(cached.statusCode).toBe(200);
    expect(cached.headers['x-rtrec-degraded']).toBe('1');
    expect(cached.json<Recs>().source).toBe('personalized');
    expect(ids(cached.json<Recs>())).toEqual(expectedUserItems(model, 'u3', 5));

    const uncached = await fx.app.inject({ method: 'GET', url: '/v1/users/u25/recommendations?k=5' });
    expect(uncached.statusCode).toBe(200);
    expect(uncached.headers['x-rtrec-degraded']).toBe('1');
    expect(uncached.json<Recs>().source).toBe('popular');
    const pop = popularityFromSeen(model.seen, 5);
    expect(uncached.json<Recs>().items.map((i) => i.itemId)).toEqual([...pop.items].map((i) => model.items.idOf(i)));
    const similar = await fx.app.inject({ method: 'GET', url: '/v1/items/i1/similar?k=3' });
    expect(similar.statusCode).toBe(200);
    expect(similar.headers['x-rtrec-degraded']).toBe('1');
    await new Promise((r) => setTimeout(r, 300));

    await server.start();
    const upAt = Date.now();
    for (;;) {
      const ready = await fx.app.inject({ method: 'GET', url: '/readyz' });
      const fresh = await fx.app.inject({ method: 'GET', url: '/v1/users/u25/recommendations?k=5' });
      if (ready.statusCode === 200 && fresh.headers['x-rtrec-degraded'] === undefined) {
        expect(ids(fresh.json<Recs>())).toEqual(expectedUserItems(model, 'u25', 5));
        break;
      }
      expect(Date.now() - upAt, 'back to normal within 2 s of Redis returning').toBeLessThan(2_000);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
});
