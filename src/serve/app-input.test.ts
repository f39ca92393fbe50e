import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureModel } from './test-support/fixture-model.js';
import { serveFixture, type ServeFixture } from './test-support/serve-fixture.js';

let fx: ServeFixture;
const KEY = 'admin-key-0123456789';

beforeAll(async () => {
  fx = await serveFixture([fixtureModel({ users: 8, items: 12 })], { config: { apiKeys: [KEY], bodyLimitBytes: 4096 } });
});
afterAll(async () => {
  await fx.close();
});

interface Case {
  readonly name: string;
  readonly method?: 'GET' | 'POST';
  readonly url: string;
  readonly body?: string;
  readonly contentType?: string;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly code: string;
}

const long = 'x'.repeat(257);
/** 200 characters but 400 bytes: within maxLength, over the byte limit. */
const wide = 'é'.repeat(200);
const batch = (payload: unknown) => JSON.stringify(payload);

const CASES: readonly Case[] = [
  { name: 'user id over 256 bytes (ASCII)', url: `/v1/users/${long}/recommendations`, status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'user id over 256 bytes (multi-byte, 200 characters)', url: `/v1/users/${encodeURIComponent(wide)}/recommendations`, status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'user id with a newline', url: '/v1/users/a%0Ab/recommendations', status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'user id with NUL', url: '/v1/users/a%00b/recommendations', status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'user id with DEL', url: '/v1/users/a%7Fb/recommendations', status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'item id with a tab', url: '/v1/items/a%09b/similar', status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'item id over 256 bytes', url: `/v1/items/${long}`, status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'broken percent-encoding', url: '/v1/users/%zz/recommendations', status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'k = 0', url: '/v1/users/u1/recommendations?k=0', status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'k = 101', url: '/v1/users/u1/recommendations?k=101', status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'k = -3', url: '/v1/popular?k=-3', status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'k not a number', url: '/v1/items/i1/similar?k=ten', status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'k fractional', url: '/v1/users/u1/recommendations?k=2.5', status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'k given twice', url: '/v1/users/u1/recommendations?k=2&k=3', status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'unknown query parameter', url: '/v1/users/u1/recommendations?limit=5', status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'unknown query parameter on /v1/items/:id', url: '/v1/items/i1?verbose=1', status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'exclude with a control character', url: '/v1/users/u1/recommendations?exclude=i1,a%01b', status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'exclude listing 101 ids', url: `/v1/users/u1/recommendations?exclude=${Array.from({ length: 101 }, (_, j) => `i${j}`).join(',')}`, status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'genre with a control character', url: '/v1/popular?genre=%1B', status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'malformed JSON body', method: 'POST', url: '/v1/recommendations:batch', body: '{"userIds": [', status: 400, code: 'RTREC_ERR_HTTP_MALFORMED_BODY' },
  { name: 'empty JSON body', method: 'POST', url: '/v1/recommendations:batch', body: '', status: 400, code: 'RTREC_ERR_HTTP_MALFORMED_BODY' },
  { name: 'body that is not an object', method: 'POST', url: '/v1/recommendations:batch', body: '[1,2]', status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'body without userIds', method: 'POST', url: '/v1/recommendations:batch', body: batch({ k: 3 }), status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'empty userIds', method: 'POST', url: '/v1/recommendations:batch', body: batch({ userIds: [] }), status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'userIds not strings', method: 'POST', url: '/v1/recommendations:batch', body: batch({ userIds: [1, { a: 1 }] }), status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'unknown body field', method: 'POST', url: '/v1/recommendations:batch', body: batch({ userIds: ['u1'], debug: true }), status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'batch k out of range', method: 'POST', url: '/v1/recommendations:batch', body: batch({ userIds: ['u1'], k: 1000 }), status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'batch id with control character', method: 'POST', url: '/v1/recommendations:batch', body: batch({ userIds: ['ok', 'a\u0007b'] }), status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'batch id with a lone surrogate', method: 'POST', url: '/v1/recommendations:batch', body: batch({ userIds: ['ok', '\ud800'] }), status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'batch exclude id with a lone surrogate', method: 'POST', url: '/v1/recommendations:batch', body: batch({ userIds: ['ok'], exclude: ['x\udc00'] }), status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'batch id over 256 bytes', method: 'POST', url: '/v1/recommendations:batch', body: batch({ userIds: [wide] }), status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'oversize body', method: 'POST', url: '/v1/recommendations:batch', body: batch({ userIds: Array.from({ length: 600 }, (_, j) => `user-${j}`) }), status: 413, code: 'RTREC_ERR_HTTP_PAYLOAD_TOO_LARGE' },
  { name: 'wrong content type', method: 'POST', url: '/v1/recommendations:batch', body: 'userIds=u1', contentType: 'text/plain', status: 415, code: 'RTREC_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE' },
  { name: 'form content type', method: 'POST', url: '/v1/recommendations:batch', body: 'userIds=u1', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'RTREC_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE' },
  { name: 'unknown route', url: '/v2/everything', status: 404, code: 'RTREC_ERR_HTTP_NOT_FOUND' },
  { name: 'wrong method', method: 'POST', url: '/v1/popular', body: '{}', status: 404, code: 'RTREC_ERR_HTTP_NOT_FOUND' },
  { name: 'version not a number (admin)', method: 'POST', url: '/v1/admin/versions/latest/activate', headers: { 'x-api-key': KEY }, status: 400, code: 'RTREC_ERR_HTTP_VALIDATION' },
  { name: 'version that does not exist (admin)', method: 'POST', url: '/v1/admin/versions/42/activate', headers: { 'x-api-key': KEY }, status: 404, code: 'RTREC_ERR_STORE_VERSION_NOT_FOUND' },
];

describe('bad input never gives a 5xx', () => {
  for (const c of CASES) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const res = await fx.app.inject({
        method: c.method ?? 'GET',
        url: c.url,
        headers: { ...(c.body !== undefined ? { 'content-type': c.contentType ?? 'application/json' } : {}), ...c.headers },
        ...(c.body !== undefined ? { payload: c.body } : {}),
      });
      expect(res.statusCode).toBe(c.status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const body = res.json<{ code: string; message: string }>();
      expect(body.code).toBe(c.code);
      expect(typeof body.message).toBe('string');
      expect(body.message.length).toBeGreaterThan(0);
    });
  }

  it('still serves normally afterwards', async () => {
    const res = await fx.app.inject({ method: 'GET', url: '/v1/users/u1/recommendations?k=2' });
    expect(res.statusCode).toBe(200);
  });
});
