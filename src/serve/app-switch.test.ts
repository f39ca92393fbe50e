import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRedis, startRedis, type RedisServer } from '../../test/support/redis-server.js';
import type { TrainedModel } from '../models/trained-model.js';
import { fixtureModel } from './test-support/fixture-model.js';
import { expectedUserItems, serveFixture } from './test-support/serve-fixture.js';
import { spawnNode, transpileForChild, waitForLine } from './test-support/ts-child.js';

// The child publishes fixtureModel({ users: USERS, items: 30, seed: SEED_B }); the parent builds
// the same model to know what version 2 must answer.
const USERS = 100;
const SEED_A = 11;
const SEED_B = 12;
const modelA = fixtureModel({ users: USERS, items: 30, seed: SEED_A });
const modelB = fixtureModel({ users: USERS, items: 30, seed: SEED_B });

interface Batch {
  modelVersion: number;
  results: { userId: string; source: string; items: { itemId: string; score: number }[] }[];
}

/**
 * Serves version 1 while a child process publishes version 2, with clients hammering batch and
 * single requests throughout. Every answer must be entirely version 1 or entirely version 2, and
 * version 2 must be served within 1 s of the child finishing.
 */
async function switchUnderLoad(url: string): Promise<void> {
  const fx = await serveFixture([modelA], { url, config: { refreshMs: 250 } });
  const js = await transpileForChild(join(import.meta.dirname, 'test-support/publish-child.ts'));
  const models: Record<number, TrainedModel> = { 1: modelA, 2: modelB };
  const seen = new Set<number>();
  let stop = false;
  let firstV2At = 0;
  let checked = 0;

  const client = async (c: number) => {
    let j = c;
    while (!stop) {
      const userIds = Array.from({ length: 8 }, (_, t) => `u${(j * 7 + t * 13) % USERS}`);
      j++;
      const res = await fx.app.inject({ method: 'POST', url: '/v1/recommendations:batch', payload: { userIds, k: 5 } });
      expect(res.statusCode).toBe(200);
      const body = res.json<Batch>();
      const m = models[body.modelVersion];
      expect(m, `version ${body.modelVersion}`).toBeDefined();
      for (const r of body.results) expect(r.items).toEqual(expectedUserItems(m, r.userId, 5).map((e, n) => ({ ...e, rank: n + 1, ...m.itemMetadata!.byId.get(e.itemId) })));
      seen.add(body.modelVersion);
      if (body.modelVersion === 2 && firstV2At === 0) firstV2At = Date.now();
      checked++;
      await new Promise((r) => setImmediate(r));
    }
  };
  const clients = Array.from({ length: 4 }, (_, c) => client(c));
  const child = spawnNode(js, [url, String(USERS), String(SEED_B)]);
  await waitForLine(child, /^published 2$/);
  const publishedAt = Date.now();
  await new Promise((r) => child.once('exit', r));
  while (firstV2At === 0 && Date.now() - publishedAt < 3_000) await new Promise((r) => setTimeout(r, 20));
  stop = true;
  await Promise.all(clients);
  await fx.close();

  expect([...seen].sort()).toEqual([1, 2]);
  expect(checked).toBeGreaterThan(20);
  // The publish became visible to this server within 1 s (poll every 250 ms + loading the catalogue).
  expect(firstV2At - publishedAt).toBeLessThan(1_000);
}

describe('version switch under concurrent reads (LMDB, publish from another process)', () => {
  it('never mixes versions and picks up the new one within 1 s', async () => {
    const { tempLmdbUrl } = await import('./test-support/serve-fixture.js');
    const tmp = await tempLmdbUrl();
    await switchUnderLoad(tmp.url);
    await tmp.remove();
  });
});

describeRedis('version switch under concurrent reads (Redis, publish from another process)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server.destroy();
  });

  it('never mixes versions and picks up the new one within 1 s', async () => {
    await switchUnderLoad(`${server.url}?prefix=switch`);
  });
});
