/**
 * @module Runs one test suite against each online store kind: LMDB in a fresh temp folder per call,
 * and a real redis-server (started once for the suite; each call gets its own key prefix). Redis is
 * skipped, loudly, only where describeRedis allows it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { describeRedis, startRedis, type RedisServer } from './redis-server.js';

/** Gives a new, empty store URL each time it is called. */
export type StoreUrlFactory = () => Promise<string>;

/** `suite` registered as `<title> on LMDB` and `<title> on Redis`. */
export function describeOnEachStore(title: string, suite: (newStoreUrl: StoreUrlFactory) => void): void {
  describe(`${title} on LMDB`, () => {
    const dirs: string[] = [];
    afterAll(async () => {
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    });
    suite(async () => {
      const dir = await mkdtemp(join(tmpdir(), 'rtrec-store-'));
      dirs.push(dir);
      return `lmdb://${dir}`;
    });
  });

  describeRedis(`${title} on Redis`, () => {
    let server: RedisServer;
    let n = 0;
    beforeAll(async () => {
      server = await startRedis();
    });
    afterAll(async () => {
      await server.destroy();
    });
    suite(() => Promise.resolve(`${server.url}?prefix=suite${++n}`));
  });
}
