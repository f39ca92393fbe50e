/**
 * @module Who may call what, and how often. Each route declares its access in `config.access`:
 * `public` (health, metrics, docs), `read` (recommendations; an API key is required only when
 * RTREC_REQUIRE_KEY_FOR_READS is on), `write` (behaviour events; always a key) or `admin` (version
 * switches; always a key). Keys come in
 * `x-api-key` or `Authorization: Bearer`, and are compared in constant time against sha256 digests
 * of the configured keys. Rate limits apply per client: the API key when a valid one is given,
 * else the client address.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RecError } from '../../core/errors.js';
import { TokenBuckets } from './rate-limit.js';

export type Access = 'public' | 'read' | 'write' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
}

export interface AccessOptions {
  readonly apiKeys: readonly string[];
  readonly requireKeyForReads: boolean;
  /** Requests per second per client; 0 = unlimited. */
  readonly rateLimitRps: number;
  readonly rateLimitBurst: number;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Returns a checker answering whether a presented key is one of `keys`, in time independent of where they differ. */
export function createKeyChecker(keys: readonly string[]): (presented: string) => boolean {
  const digests = keys.map(digest);
  return (presented) => {
    const d = digest(presented);
    let match = false;
    // Equal-length digests; every key is compared, so timing reveals neither which key nor how close.
    for (const k of digests) match = timingSafeEqual(d, k) || match;
    return match;
  };
}

/** The API key a request carries, if any. */
export function presentedKey(req: FastifyRequest): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  return undefined;
}

export function registerAccessControl(app: FastifyInstance, options: AccessOptions): void {
  const isKey = createKeyChecker(options.apiKeys);
  const buckets = options.rateLimitRps > 0 ? new TokenBuckets(options.rateLimitRps, options.rateLimitBurst) : undefined;

  app.addHook('onRequest', async (req, reply) => {
    const access: Access = req.routeOptions.config.access ?? 'read';
    if (access === 'public') return;
    const key = presentedKey(req);
    const valid = key !== undefined && options.apiKeys.length > 0 && isKey(key);
    if (buckets) {
      const client = valid ? `key:${digest(key).toString('hex', 0, 8)}` : `ip:${req.ip}`;
      const res = buckets.take(client);
      void reply.header('x-ratelimit-limit', options.rateLimitBurst).header('x-ratelimit-remaining', res.remaining);
      if (!res.ok) {
        void reply.header('retry-after', res.retryAfterSeconds);
        throw new RecError('RTREC_ERR_HTTP_RATE_LIMITED', `rate limit of ${options.rateLimitRps} requests/s (burst ${options.rateLimitBurst}) exceeded; retry in ${res.retryAfterSeconds} s`);
      }
    }
    const needsKey = access !== 'read' || options.requireKeyForReads;
    if (needsKey && !valid) {
      if (options.apiKeys.length === 0) throw new RecError('RTREC_ERR_HTTP_UNAUTHORIZED', 'this route needs an API key, and the server has none configured (set RTREC_API_KEYS)');
      throw new RecError('RTREC_ERR_HTTP_UNAUTHORIZED', key === undefined ? 'this route needs an API key (x-api-key header or Authorization: Bearer)' : 'the API key is not valid');
    }
  });
}
