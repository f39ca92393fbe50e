import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRedis, rawCommand, startRedis, startRedisCluster, type RedisCluster, type RedisServer } from '../../test/support/redis-server.js';
import { runOnlineStoreContract } from './online-store.contract.js';
import { parseRedisUrl } from './redis-conn.js';
import { openStore } from './open-store.js';

let prefixes = 0;
const freshPrefix = () => `t${process.pid}-${++prefixes}`;

describeRedis('Redis online store, single server (contract)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server.destroy();
  });
  runOnlineStoreContract({ freshUrl: () => Promise.resolve(`${server.url}?prefix=${freshPrefix()}`) });

  it('keeps each list collection in one hash, so reads can share HMGETs, and the catalogue in small shards', async () => {
    const store = await openStore(`${server.url}?prefix=${freshPrefix()}`);
    try {
      const writer = await store.beginVersion({ expected: { u: 200_000, s: 50_000, p: 1, c: 50_000 } });
      const record = await store.getVersion(writer.version);
      await writer.abort('layout only');
      expect(record?.layout).toEqual({ u: 1, s: 1, p: 1, c: 64 });
    } finally {
      await store.close();
    }
  });

  it('keeps the cursors of lists written in real time beside their hash, and deletes them with the version', async () => {
    const prefix = freshPrefix();
    const store = await openStore(`${server.url}?prefix=${prefix}`);
    try {
      const writer = await store.beginVersion({ expected: { u: 1, c: 1 } });
      await writer.putCatalog([{ idx: 0, itemId: 'i0', metadata: null }]);
      await writer.putUserRecs([{ subjectId: 'a', ranked: { items: Int32Array.of(0), scores: Float32Array.of(1) } }]);
      await writer.putPopular({ items: Int32Array.of(0), scores: Float32Array.of(1) });
      const { version } = await writer.commit();
      await store.putUserRecsIfCurrent(version, [{ subjectId: 'a', ranked: { items: Int32Array.of(0), scores: Float32Array.of(2) }, cursor: '3' }]);
      const cursors = `{${prefix}:v${version}:u:0}:cursors`;
      expect(await rawCommand(server.port, `EXISTS ${cursors}`)).toBe(':1\r\n');
      await store.beginVersion({ expected: { u: 1, c: 1 } }).then(async (w) => {
        await w.putCatalog([{ idx: 0, itemId: 'i0', metadata: null }]);
        await w.putPopular({ items: Int32Array.of(0), scores: Float32Array.of(1) });
        await w.commit();
      });
      await store.prune(1, { retiredGraceMs: 0 });
      expect(await rawCommand(server.port, `EXISTS ${cursors}`)).toBe(':0\r\n');
    } finally {
      await store.close();
    }
  });

  it('never reuses a recorded version number, even when the version counter is lost', async () => {
    const prefix = freshPrefix();
    const store = await openStore(`${server.url}?prefix=${prefix}`);
    const publishOne = async (score: number): Promise<number> => {
      const w = await store.beginVersion({ expected: { u: 1, c: 1 } });
      await w.putCatalog([{ idx: 0, itemId: 'i0', metadata: null }]);
      await w.putUserRecs([{ subjectId: 'a', ranked: { items: Int32Array.of(0), scores: Float32Array.of(score) } }]);
      await w.putPopular({ items: Int32Array.of(0), scores: Float32Array.of(1) });
      return (await w.commit()).version;
    };
    try {
      const first = await publishOne(1);
      const second = await publishOne(2);
      // As an eviction or a restore of an older snapshot would leave it.
      expect(await rawCommand(server.port, `DEL {${prefix}}:seq`)).toBe(':1\r\n');
      const third = await publishOne(3);
      expect([first, second, third]).toEqual([first, first + 1, first + 2]);
      expect((await store.listVersions()).map((r) => r.version)).toEqual([first, second, third]);
      expect(Array.from((await store.getUserRecs(first, 'a'))!.scores)).toEqual([1]);
      expect(Array.from((await store.getUserRecs(third, 'a'))!.scores)).toEqual([3]);
    } finally {
      await store.close();
    }
  });

  it('fails fast with RTREC_ERR_STORE_UNAVAILABLE when nothing listens', async () => {
    const started = Date.now();
    await expect(openStore('redis://127.0.0.1:1/0', { connectTimeoutMs: 300 })).rejects.toMatchObject({ code: 'RTREC_ERR_STORE_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describeRedis('Redis online store, 3-master cluster (contract)', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  });
  afterAll(async () => {
    await cluster.destroy();
  });
  runOnlineStoreContract({ freshUrl: () => Promise.resolve(`${cluster.url}?prefix=${freshPrefix()}`) });

  it('spreads list collections over many hashes, so they spread over the nodes', async () => {
    const store = await openStore(`${cluster.url}?prefix=${freshPrefix()}`);
    try {
      const writer = await store.beginVersion({ expected: { u: 200_000, c: 50_000 } });
      const record = await store.getVersion(writer.version);
      await writer.abort('layout only');
      expect(record?.layout).toMatchObject({ u: 256, c: 64 });
    } finally {
      await store.close();
    }
  });
});

describe('Redis store URLs', () => {
  it('parses single-server and cluster URLs, hiding passwords', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379/2')).toEqual({ kind: 'single', urls: ['redis://127.0.0.1:6379/2'], prefix: 'rtrec', description: 'redis://127.0.0.1:6379/2' });
    const c = parseRedisUrl('redis+cluster://:s3cret@h1:7000,h2:7001?prefix=shop');
    expect(c.kind).toBe('cluster');
    expect(c.urls).toEqual(['redis://:s3cret@h1:7000', 'redis://:s3cret@h2:7001']);
    expect(c.prefix).toBe('shop');
    expect(c.description).not.toContain('s3cret');
  });

  it('rejects malformed URLs with RTREC_ERR_CONFIG_INVALID and without echoing passwords', () => {
    for (const bad of ['redis://', 'redis://h:1/0?db=2', 'redis://h:1?prefix=a{b}', 'redis+cluster://h1:1/3', 'redis://a:1,b:2']) {
      expect(() => parseRedisUrl(bad), bad).toThrow(expect.objectContaining({ code: 'RTREC_ERR_CONFIG_INVALID' }));
    }
    expect(() => parseRedisUrl('redis://user:hunter2@h:1?x=1')).toThrow(expect.not.stringContaining('hunter2'));
  });

  it('refuses what node-redis could not use, saying why and never showing the password', () => {
    const cases: [string, RegExp][] = [
      ['redis://localhost:99999', /port 99999 is not 1-65535/],
      ['redis+cluster://h1:7000,h2:0', /port 0 is not 1-65535/],
      ['redis://user:hun#ter2@h:1', /percent-encode/],
      ['redis://:hun?ter2@h:1', /percent-encode/],
      ['redis://:hun%zzter2@h:1', /malformed %-escape/],
      ['redis://user:hun/ter2@localhost:6379', /expected redis:\/\//],
      ['redis://user:hun@ter2@localhost:1', /percent-encode/],
    ];
    for (const [url, why] of cases) {
      let error: unknown;
      try {
        parseRedisUrl(url);
      } catch (err) {
        error = err;
      }
      expect(error, url).toMatchObject({ code: 'RTREC_ERR_CONFIG_INVALID' });
      expect((error as Error).message, url).toMatch(why);
      expect((error as Error).message, url).not.toMatch(/hun|ter2/);
    }
    // Encoded, the same characters are fine (node-redis decodes them).
    expect(parseRedisUrl('redis://user:hun%40ter%2F2@h:1').description).toBe('redis://user:***@h:1');
    expect(parseRedisUrl('redis://hunter2@h:1').description).toBe('redis://***@h:1');
  });
});
