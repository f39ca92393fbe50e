/**
 * @module Opens an online store from its URL: `lmdb:///abs/path` (or `lmdb://relative/path`,
 * resolved against the working directory), `redis://host:port/db`, `rediss://…`, and
 * `redis+cluster://host1:port1,host2:port2`. Backends are imported on demand, so the embedded store
 * never loads the Redis client and the reverse.
 */
import { isAbsolute, resolve } from 'node:path';
import { RecError } from '../core/errors.js';
import { redactUrl } from '../core/redact-url.js';
import type { OnlineStore } from './online-store.js';
import type { LmdbStoreOptions } from './lmdb-store.js';
import type { RedisStoreOptions } from './redis-store.js';

/** Where the CLI publishes and serves from when no --store / RTREC_STORE is given. */
export const DEFAULT_STORE_URL = 'lmdb://.rtrec/store';

/** Options of either backend; each takes its own and ignores the other's. */
export type OpenStoreOptions = RedisStoreOptions & LmdbStoreOptions;

const SCHEMES = ['lmdb', 'redis', 'rediss', 'redis+cluster'] as const;

/** @throws RTREC_ERR_CONFIG_INVALID for an unknown scheme or malformed URL, RTREC_ERR_STORE_UNAVAILABLE when it cannot be reached */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<OnlineStore> {
  const scheme = /^([a-z+]+):\/\//.exec(url)?.[1];
  switch (scheme) {
    case 'lmdb': {
      const { openLmdbStore } = await import('./lmdb-store.js');
      return openLmdbStore(lmdbPath(url), options);
    }
    case 'redis':
    case 'rediss':
    case 'redis+cluster': {
      const { openRedisStore } = await import('./redis-store.js');
      return openRedisStore(url, options);
    }
    default:
      throw new RecError('RTREC_ERR_CONFIG_INVALID', `unsupported store URL ${JSON.stringify(redactUrl(url))}: expected one of ${SCHEMES.map((s) => `${s}://`).join(', ')}`);
  }
}

/** The store URL to use: the flag, else $RTREC_STORE, else DEFAULT_STORE_URL. */
export function resolveStoreUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? (env.RTREC_STORE || DEFAULT_STORE_URL);
}

/** The folder of an `lmdb://` URL, absolute. */
export function lmdbPath(url: string): string {
  let path: string;
  try {
    path = decodeURIComponent(url.slice('lmdb://'.length));
  } catch {
    throw new RecError('RTREC_ERR_CONFIG_INVALID', `lmdb:// URL ${JSON.stringify(url)} has a malformed %-escape (write % as %25)`);
  }
  if (path === '') throw new RecError('RTREC_ERR_CONFIG_INVALID', 'lmdb:// URL names no folder; use lmdb:///absolute/path or lmdb://relative/path');
  return isAbsolute(path) ? path : resolve(path);
}
