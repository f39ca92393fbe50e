import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyChecker } from './plugins/access-control.js';
import { TokenBuckets } from './plugins/rate-limit.js';
import { fixtureModel } from './test-support/fixture-model.js';
import { lineSink } from './test-support/line-sink.js';
import { serveFixture, type ServeFixture } from './test-support/serve-fixture.js';
import { REDACTED_PATHS } from './app.js';

const KEY_A = 'key-alpha-0123456789';
const KEY_B = 'key-bravo-9876543210';
const models = [fixtureModel({ users: 6, items: 10, seed: 1 }), fixtureModel({ users: 6, items: 10, seed: 2 })];

describe('API keys', () => {
  it('createKeyChecker accepts exactly the configured keys', () => {
    const check = createKeyChecker([KEY_A, KEY_B]);
    expect(check(KEY_A)).toBe(true);
    expect(check(KEY_B)).toBe(true);
    expect(check(`${KEY_A}x`)).toBe(false);
    expect(check(KEY_A.slice(0, -1))).toBe(false);
    expect(check('')).toBe(false);
    expect(createKeyChecker([])(KEY_A)).toBe(false);
  });

  describe('admin routes', () => {
    let fx: ServeFixture;
    beforeAll(async () => {
      fx = await serveFixture(models, { config: { apiKeys: [KEY_A, KEY_B] } });
    });
    afterAll(async () => {
      await fx.close();
    });

    it('refuse requests without a key or with a wrong one (401 with a code)', async () => {
      for (const headers of [{}, { 'x-api-key': 'wrong-key-000000' }, { authorization: `Basic ${KEY_A}` }, { authorization: 'Bearer nope-nope-nope' }]) {
        const res = await fx.app.inject({ method: 'GET', url: '/v1/admin/versions', headers });
        expect(res.statusCode).toBe(401);
        expect(res.json()).toMatchObject({ code: 'RTREC_ERR_HTTP_UNAUTHORIZED' });
      }
      const activate = await fx.app.inject({ method: 'POST', url: '/v1/admin/versions/1/activate' });
      expect(activate.statusCode).toBe(401);
    });

    it('list, roll back and activate with x-api-key or a bearer token; reads follow at once', async () => {
      const list = await fx.app.inject({ method: 'GET', url: '/v1/admin/versions', headers: { 'x-api-key': KEY_A } });
      expect(list.statusCode).toBe(200);
      expect(list.json()).toMatchObject({ active: 2, versions: [{ version: 1, status: 'ready' }, { version: 2, status: 'ready' }] });

      const rb = await fx.app.inject({ method: 'POST', url: '/v1/admin/versions/rollback', headers: { authorization: `Bearer ${KEY_B}` } });
      expect(rb.json()).toEqual({ active: 1, previous: 2 });
      const recs1 = await fx.app.inject({ method: 'GET', url: '/v1/users/u0/recommendations?k=3' });
      expect(recs1.json()).toMatchObject({ modelVersion: 1 });

      const act = await fx.app.inject({ method: 'POST', url: '/v1/admin/versions/2/activate', headers: { 'x-api-key': KEY_A } });
      expect(act.json()).toEqual({ active: 2, previous: 1 });
      const recs2 = await fx.app.inject({ method: 'GET', url: '/v1/users/u0/recommendations?k=3' });
      expect(recs2.json()).toMatchObject({ modelVersion: 2 });
    });

    it('reads need no key by default; health, metrics and docs never do', async () => {
      for (const url of ['/v1/popular', '/healthz', '/readyz', '/metrics', '/docs/json']) {
        expect((await fx.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
      }
    });
  });

  describe('with RTREC_REQUIRE_KEY_FOR_READS', () => {
    let fx: ServeFixture;
    beforeAll(async () => {
      fx = await serveFixture(models.slice(0, 1), { config: { apiKeys: [KEY_A], requireKeyForReads: true } });
    });
    afterAll(async () => {
      await fx.close();
    });

    it('reads need a valid key too', async () => {
      expect((await fx.app.inject({ method: 'GET', url: '/v1/popular' })).statusCode).toBe(401);
      expect((await fx.app.inject({ method: 'GET', url: '/v1/popular', headers: { 'x-api-key': KEY_B } })).statusCode).toBe(401);
      expect((await fx.app.inject({ method: 'GET', url: '/v1/popular', headers: { 'x-api-key': KEY_A } })).statusCode).toBe(200);
      const batch = await fx.app.inject({ method: 'POST', url: '/v1/recommendations:batch', payload: { userIds: ['u1'] } });
      expect(batch.statusCode).toBe(401);
      expect((await fx.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    });
  });

  it('without configured keys, admin routes stay closed', async () => {
    const fx = await serveFixture(models.slice(0, 1));
    const res = await fx.app.inject({ method: 'POST', url: '/v1/admin/versions/rollback', headers: { 'x-api-key': KEY_A } });
    expect(res.statusCode).toBe(401);
    expect(res.json<{ message: string }>().message).toMatch(/RTREC_API_KEYS/);
    await fx.close();
  });
});

describe('rate limiting', () => {
  it('TokenBuckets allows a burst, then the rate, per client', () => {
    let now = 0;
    const b = new TokenBuckets(2, 3, { now: () => now });
    expect([1, 2, 3, 4].map(() => b.take('a').ok)).toEqual([true, true, true, false]);
    expect(b.take('b').ok).toBe(true);
    now += 500; // one token back at 2/s
    expect(b.take('a').ok).toBe(true);
    expect(b.take('a')).toMatchObject({ ok: false, retryAfterSeconds: 1 });
    now += 10_000; // refills to the burst, not beyond
    expect([1, 2, 3, 4].map(() => b.take('a').ok)).toEqual([true, true, true, false]);
  });

  it('answers 429 with retry-after once a client exceeds its limit; other clients are unaffected', async () => {
    const fx = await serveFixture(models.slice(0, 1), { config: { rateLimitRps: 0.5, rateLimitBurst: 3, apiKeys: [KEY_A] } });
    const statuses: number[] = [];
    for (let j = 0; j < 4; j++) statuses.push((await fx.app.inject({ method: 'GET', url: '/v1/popular' })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await fx.app.inject({ method: 'GET', url: '/v1/users/u1/recommendations' });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'RTREC_ERR_HTTP_RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // A client with its own key has its own bucket; health checks are never limited.
    expect((await fx.app.inject({ method: 'GET', url: '/v1/popular', headers: { 'x-api-key': KEY_A } })).statusCode).toBe(200);
    expect((await fx.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await fx.close();
  });
  it('limits an IPv6 client by its /64: rotating addresses within it gets no fresh bucket', async () => {
    const fx = await serveFixture(models.slice(0, 1), { config: { rateLimitRps: 0.5, rateLimitBurst: 1 } });
    const from = (remoteAddress: string) => fx.app.inject({ method: 'GET', url: '/v1/popular', remoteAddress });
    expect((await from('2001:db8:0:1::1')).statusCode).toBe(200);
    expect((await from('2001:db8:0:1::2')).statusCode).toBe(429);
    expect((await from('2001:db8:0:2::1')).statusCode).toBe(200);
    await fx.close();
  });

  it('behind a trusted proxy, limits the address the proxy saw: a forged X-Forwarded-For gets no fresh bucket', async () => {
    for (const trustProxy of ['10.0.0.5', '10.0.0.0/8', 'uniquelocal']) {
      const fx = await serveFixture(models.slice(0, 1), { config: { rateLimitRps: 0.5, rateLimitBurst: 1, trustProxy } });
      // The proxy (10.0.0.5) appends the address it saw (203.0.113.7) to whatever the client sent.
      const via = (forged: string, seen: string) =>
        fx.app.inject({ method: 'GET', url: '/v1/popular', remoteAddress: '10.0.0.5', headers: { 'x-forwarded-for': `${forged}, ${seen}` } });
      expect((await via('198.51.100.1', '203.0.113.7')).statusCode).toBe(200);
      expect((await via('198.51.100.2', '203.0.113.7')).statusCode).toBe(429);
      expect((await via('198.51.100.2', '203.0.113.8')).statusCode).toBe(200);
      await fx.close();
    }
  });
});

describe('OpenAPI document', () => {
  it('is valid JSON at /docs/json listing every route with its parameters; the UI is at /docs', async () => {
    const fx = await serveFixture(models.slice(0, 1));
    const res = await fx.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = JSON.parse(res.body) as { openapi: string; paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>> };
    expect(doc.openapi).toMatch(/^3\./);
    const expected: [string, string][] = [
      ['/v1/users/{userId}/recommendations', 'get'],
      ['/v1/recommendations:batch', 'post'],
      ['/v1/items/{itemId}/similar', 'get'],
      ['/v1/popular', 'get'],
      ['/v1/items/{itemId}', 'get'],
      ['/healthz', 'get'],
      ['/readyz', 'get'],
      ['/v1/admin/versions', 'get'],
      ['/v1/admin/versions/{version}/activate', 'post'],
      ['/v1/admin/versions/rollback', 'post'],
    ];
    for (const [path, method] of expected) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    const params = doc.paths['/v1/users/{userId}/recommendations'].get.parameters!.map((p) => `${p.in}:${p.name}`).sort();
    expect(params).toEqual(['path:userId', 'query:exclude', 'query:genre', 'query:k']);
    const ui = await fx.app.inject({ method: 'GET', url: '/docs' });
    expect([200, 302]).toContain(ui.statusCode);
    await fx.close();
  });
});

describe('metrics and logs', () => {
  it('exposes request counts by route and status, store latency and the active version', async () => {
    const fx = await serveFixture(models);
    await fx.app.inject({ method: 'GET', url: '/v1/users/u1/recommendations' });
    await fx.app.inject({ method: 'GET', url: '/v1/users/u1/recommendations?k=0' });
    const text = (await fx.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/rtrec_http_requests_total\{route="\/v1\/users\/:userId\/recommendations",method="GET",status="200"\} 1/);
    expect(text).toMatch(/rtrec_http_requests_total\{route="\/v1\/users\/:userId\/recommendations",method="GET",status="400"\} 1/);
    expect(text).toMatch(/rtrec_http_request_duration_seconds_bucket\{le="0\.005",route=/);
    expect(text).toMatch(/rtrec_store_read_duration_seconds_count\{operation="user-recs",outcome="ok"\} 1/);
    expect(text).toMatch(/^rtrec_active_model_version 2$/m);
    expect(text).toMatch(/^rtrec_store_up 1$/m);
    await fx.close();
  });

  it('logs JSON lines with request ids and never the API key', async () => {
    const sink = lineSink();
    const fx = await serveFixture(models.slice(0, 1), {
      config: { apiKeys: [KEY_A] },
      logger: { level: 'debug', stream: sink.stream, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    });
    await fx.app.inject({ method: 'GET', url: '/v1/admin/versions', headers: { 'x-api-key': KEY_A, 'x-request-id': 'req-42' } });
    await fx.app.inject({ method: 'GET', url: '/v1/admin/versions', headers: { authorization: 'Bearer wrong-key-value' } });
    await fx.close();
    expect(sink.records().some((r) => r.reqId === 'req-42' && r.msg === 'request completed')).toBe(true);
    expect(sink.text()).not.toContain(KEY_A);
    expect(sink.text()).not.toContain('wrong-key-value');
  });

  it('at level info, logs rejected requests but not successful ones (the full access log is debug)', async () => {
    const sink = lineSink();
    const fx = await serveFixture(models.slice(0, 1), {
      config: { apiKeys: [KEY_A] },
      logger: { level: 'info', stream: sink.stream, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    });
    await fx.app.inject({ method: 'GET', url: '/v1/users/u1/recommendations', headers: { 'x-request-id': 'ok-1' } });
    await fx.app.inject({ method: 'GET', url: '/v1/users/u1/recommendations?k=0', headers: { 'x-request-id': 'bad-k' } });
    await fx.app.inject({ method: 'GET', url: '/v1/admin/versions', headers: { 'x-request-id': 'no-key' } });
    await fx.close();
    const access = sink.records().filter((r) => r.msg === 'request completed' || r.msg === 'request errored');
    expect(access.map((r) => [r.reqId, r.statusCode])).toEqual([['bad-k', 400], ['no-key', 401]]);
  });
});
