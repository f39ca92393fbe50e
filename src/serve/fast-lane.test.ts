import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VersionSnapshot } from './active-version.js';
import type { RtrecApp } from './app-types.js';
import { buildApp } from './app.js';
import { createFastLane, type FastLaneDeps } from './fast-lane.js';
import { fixtureModel } from './test-support/fixture-model.js';
import { expectedUserItems, serveFixture, testConfig, type ServeFixture } from './test-support/serve-fixture.js';

const model = fixtureModel({ users: 30, items: 40, seenPerUser: 5 });

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | undefined>;
}

/** Over the network: the fast lane takes what it can. */
async function overHttp(base: string, path: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`${base}${path}`, init);
  return { status: res.status, body: await res.text(), headers: Object.fromEntries(res.headers) };
}

/** A GET of `path` exactly as written (fetch would resolve `..` and `.` segments before sending). */
function rawGet(base: string, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const req = request({ host: hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers as Record<string, string | undefined> }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Through app.inject, which never reaches the HTTP server: always Fastify's route. */
async function viaFastify(fx: ServeFixture, path: string, method: 'GET' | 'HEAD' | 'POST' = 'GET'): Promise<Answer> {
  const res = await fx.app.inject({ method, url: path });
  return { status: res.statusCode, body: res.body, headers: res.headers as Record<string, string | undefined> };
}

async function listen(fx: ServeFixture): Promise<string> {
  await fx.app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(fx.app.server.address() as AddressInfo).port}`;
}

function requestCount(metrics: string, status: number): number {
  const line = metrics.split('\n').find((l) => l.startsWith('rtrec_http_requests_total{') && l.includes('route="/v1/users/:userId/recommendations"') && l.includes(`status="${status}"`) && l.includes('method="GET"'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('fast lane (default configuration)', () => {
  let fx: ServeFixture;
  let base: string;
  // The same store served without the lane: a rate limit no test reaches turns the lane off, and
  // only adds rate-limit headers. Compared over HTTP, as inject() would resolve `..` in paths itself.
  let reference: RtrecApp;
  let referenceBase: string;
  beforeAll(async () => {
    fx = await serveFixture([model]);
    base = await listen(fx);
    reference = await buildApp({ store: fx.store, config: testConfig({ rateLimitRps: 1e9, rateLimitBurst: 1e6 }), logger: false });
    await reference.listen({ host: '127.0.0.1', port: 0 });
    referenceBase = `http://127.0.0.1:${(reference.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await reference.close();
    await fx.close();
  });

  // Taken by the lane, and ones it must leave to Fastify (other queries, invalid k, encoded ids, …),
  // and ids that look like path segments (`..`), which neither side may treat as navigation.
  const paths = [
    '/v1/users/u3/recommendations',
    '/v1/users/u3/recommendations?k=1',
    '/v1/users/u3/recommendations?k=100',
    '/v1/users/u11/recommendations?k=7',
    '/v1/users/stranger.with-dots_and~tilde/recommendations?k=5',
    '/v1/users/u3/recommendations?k=0',
    '/v1/users/u3/recommendations?k=101',
    '/v1/users/u3/recommendations?k=010',
    '/v1/users/u3/recommendations?k=abc',
    '/v1/users/u3/recommendations?k=3&genre=Comedy',
    '/v1/users/u3/recommendations?k=3&unknown=1',
    '/v1/users/u3/recommendations?',
    `/v1/users/${encodeURIComponent('名前 with/slash')}/recommendations?k=2`,
    `/v1/users/${'x'.repeat(257)}/recommendations`,
    `/v1/users/${'x'.repeat(256)}/recommendations`,
    '/v1/users/u3/recommendations/',
    '/v1/users/../recommendations',
    '/v1/users/./recommendations?k=2',
    '/v1/users/~/recommendations',
    '/v1/users//recommendations',
  ];

  it('answers every request exactly as the Fastify route does: status, body, content type', async () => {
    for (const path of paths) {
      for (let round = 0; round < 2; round++) {
        const lane = await rawGet(base, path);
        const fastify = await rawGet(referenceBase, path);
        expect(fastify.headers['x-ratelimit-limit'], 'the reference is answered by Fastify').toBeDefined();
        expect({ status: lane.status, body: lane.body }, `${path}, round ${round}`).toEqual({ status: fastify.status, body: fastify.body });
        expect(lane.headers['content-type'], path).toBe(fastify.headers['content-type']);
        expect(lane.headers['content-length'], path).toBe(String(Buffer.byteLength(fastify.body)));
      }
    }
    // And the answers are the model's: the lane is not merely consistent with itself.
    const body = JSON.parse((await overHttp(base, '/v1/users/u11/recommendations?k=7')).body) as { items: { itemId: string; score: number }[] };
    expect(body.items.map((i) => ({ itemId: i.itemId, score: i.score }))).toEqual(expectedUserItems(model, 'u11', 7));
  });

  it("keeps Fastify's server settings on the server in front of it (keep-alive of 72 s, not node's 5 s)", async () => {
    expect((await overHttp(base, '/v1/users/u3/recommendations')).headers['keep-alive']).toBe('timeout=72');
    expect(fx.app.server.keepAliveTimeout).toBe(72_000);
    expect(fx.app.server.requestTimeout).toBe(0);
  });

  it('leaves other methods to Fastify', async () => {
    const post = await overHttp(base, '/v1/users/u3/recommendations', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(post.status).toBe((await viaFastify(fx, '/v1/users/u3/recommendations', 'POST')).status);
    const head = await overHttp(base, '/v1/users/u3/recommendations?k=2', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('names each request: a plain x-request-id is echoed, otherwise one is made up', async () => {
    const given = await overHttp(base, '/v1/users/u3/recommendations', { headers: { 'x-request-id': 'trace-42.a' } });
    expect(given.headers['x-request-id']).toBe('trace-42.a');
    const a = await overHttp(base, '/v1/users/u3/recommendations');
    const b = await overHttp(base, '/v1/users/u3/recommendations', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(a.headers['x-request-id']).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
    expect(b.headers['x-request-id']).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
    expect(b.headers['x-request-id']).not.toBe(a.headers['x-request-id']);
  });

  it('counts its answers in the same /metrics series as the route', async () => {
    const before = requestCount((await overHttp(base, '/metrics')).body, 200);
    for (let j = 0; j < 5; j++) expect((await overHttp(base, `/v1/users/u${j}/recommendations?k=3`)).status).toBe(200);
    expect(requestCount((await overHttp(base, '/metrics')).body, 200)).toBe(before + 5);
  });

  it('shows a changed list at once: the remembered answer is only reused while the stored list is the same', async () => {
    const first = JSON.parse((await overHttp(base, '/v1/users/u5/recommendations?k=3')).body) as { items: { itemId: string }[] };
    const fresh = { items: Int32Array.of(model.items.indexOf('i39'), model.items.indexOf('i38')), scores: Float32Array.of(9, 8) };
    await fx.store.putUserRecs(1, 'u5', fresh);
    const second = JSON.parse((await overHttp(base, '/v1/users/u5/recommendations?k=3')).body) as { items: { itemId: string; score: number; rank: number }[] };
    expect(first.items.map((i) => i.itemId)).not.toEqual(['i39', 'i38']);
    expect(second.items.map((i) => [i.itemId, i.score, i.rank])).toEqual([['i39', 9, 1], ['i38', 8, 2]]);
  });

  it('answers degraded, with the header, once the store cannot be read', async () => {
    const warm = await overHttp(base, '/v1/users/u7/recommendations?k=4');
    await fx.store.close();
    const during = await overHttp(base, '/v1/users/u7/recommendations?k=4');
    expect(during.status).toBe(200);
    expect(during.headers['x-rtrec-degraded']).toBe('1');
    // The remembered answer of this user.
    expect(during.body).toBe(warm.body);
  });
});

describe('fast lane with access control', () => {
  it('is not used when reads need a key: Fastify refuses a keyless read', async () => {
    const fx = await serveFixture([model], { config: { apiKeys: ['k-0123456789'], requireKeyForReads: true } });
    try {
      const base = await listen(fx);
      expect((await overHttp(base, '/v1/users/u3/recommendations')).status).toBe(401);
      expect((await overHttp(base, '/v1/users/u3/recommendations', { headers: { 'x-api-key': 'k-0123456789' } })).status).toBe(200);
    } finally {
      await fx.close();
    }
  });

  it('is not used under a rate limit: every read carries the rate-limit headers and the limit holds', async () => {
    const fx = await serveFixture([model], { config: { rateLimitRps: 1, rateLimitBurst: 2 } });
    try {
      const base = await listen(fx);
      const statuses: number[] = [];
      for (let j = 0; j < 4; j++) {
        const res = await overHttp(base, '/v1/users/u3/recommendations');
        expect(res.headers['x-ratelimit-limit']).toBe('2');
        statuses.push(res.status);
      }
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
    } finally {
      await fx.close();
    }
  });
});

describe('fast lane hand-off', () => {
  let server: Server;
  let base: string;
  let handedOff = 0;
  beforeAll(async () => {
    const snapshot = { version: 1 } as unknown as VersionSnapshot;
    const deps: FastLaneDeps = {
      watcher: { current: () => snapshot } as unknown as FastLaneDeps['watcher'],
      service: { userRecs: () => Promise.reject(new Error('selection failed')) } as unknown as FastLaneDeps['service'],
      metrics: { requestObserver: () => () => undefined } as unknown as FastLaneDeps['metrics'],
      log: { level: 'silent' } as unknown as FastLaneDeps['log'],
      requestIdOf: () => 'id',
      closing: () => false,
    };
    const lane = createFastLane(deps);
    server = createServer((req, res) =>
      lane(req, res, (_req, r) => {
        handedOff++;
        r.writeHead(503, { 'content-type': 'text/plain' }).end('fastify answered');
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('hands a request it failed to answer to Fastify, which answers it', async () => {
    const res = await overHttp(base, '/v1/users/u1/recommendations');
    expect([res.status, res.body]).toEqual([503, 'fastify answered']);
    expect(handedOff).toBe(1);
  });

  it('hands over anything but a plain GET of a user list at once', async () => {
    for (const path of ['/v1/popular', '/v1/users/u1/recommendations?k=3&genre=x', '/healthz']) {
      expect((await overHttp(base, path)).body).toBe('fastify answered');
    }
    expect(handedOff).toBe(4);
  });
});

