/**
 * @module Who may call what, and how often. Each route declares its access in `config.access`:
 * `public` (health, metrics, docs), `read` (recommendations; an API key is required only when
 * RTREC_REQUIRE_KEY_FOR_READS is on), `write` (behaviour events; always a key) or `admin` (version
 * switches; always a key). Keys come in
 * `x-api-key` or `Authorization: Bearer`, and are compared in constant time against sha256 digests
 * of the configured keys. Rate limits apply per client: the API key when a valid one is given,
 * else the client address (an IPv6 client by its /64, see client-network.ts).
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RecError } from '../../core/errors.js';
import { clientNetwork } from './client-network.js';
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

/** sha256 of `s` (the one-shot hash: about a third cheaper than createHash, on every keyed request). */
function digest(s: string): Buffer {
  return hash('sha256', s, 'buffer');
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

/** What a request is refused for, if anything: a missing or wrong key, or its client's rate limit. */
export type AccessCheck = (req: FastifyRequest, reply: FastifyReply) => RecError | undefined;

/**
 * The access check of every request, to run in an onRequest hook (app.ts runs it in its one
 * onRequest hook: each hook costs a little on the hot read path). Sets the rate-limit headers.
 */
export function createAccessCheck(options: AccessOptions): AccessCheck {
  const isKey = createKeyChecker(options.apiKeys);
  const buckets = options.rateLimitRps > 0 ? new TokenBuckets(options.rateLimitRps, options.rateLimitBurst) : undefined;

  return (req, reply) => {
    const access: Access = req.routeOptions.config.access ?? 'read';
    if (access === 'public') return undefined;
    const key = presentedKey(req);
    const valid = key !== undefined && options.apiKeys.length > 0 && isKey(key);
    if (buckets) {
      const client = valid ? `key:${digest(key).toString('hex', 0, 8)}` : `ip:${clientNetwork(req.ip)}`;
      const res = buckets.take(client);
      void reply.header('x-ratelimit-limit', options.rateLimitBurst).header('x-ratelimit-remaining', res.remaining);
      if (!res.ok) {
        void reply.header('retry-after', res.retryAfterSeconds);
        return new RecError('RTREC_ERR_HTTP_RATE_LIMITED', `rate limit of ${options.rateLimitRps} requests/s (burst ${options.rateLimitBurst}) exceeded; retry in ${res.retryAfterSeconds} s`);
      }
    }
    const needsKey = access !== 'read' || options.requireKeyForReads;
    if (needsKey && !valid) {
      if (options.apiKeys.length === 0) return new RecError('RTREC_ERR_HTTP_UNAUTHORIZED', 'this route needs an API key, and the server has none configured (set RTREC_API_KEYS)');
      return new RecError('RTREC_ERR_HTTP_UNAUTHORIZED', key === undefined ? 'this route needs an API key (x-api-key header or Authorization: Bearer)' : 'the API key is not valid');
    }
    return undefined;
  };
}
