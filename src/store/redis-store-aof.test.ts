import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { commandCalls, describeRedis, freePort, rawCommand } from '../../test/support/redis-server.js';
import { isRecError } from '../core/errors.js';
import type { CatalogEntry, OnlineStore, SubjectList } from './online-store.js';
import { openStore } from './open-store.js';

/** A redis-server persisting like production (append-only file, fsync every second). */
async function startAofRedis(): Promise<{ port: number; url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'rtrec-redis-aof-'));
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dir, '--protected-mode', 'no'], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  for (let t = 0; ; t++) {
    if (await rawCommand(port, 'PING').then((r) => r.startsWith('+PONG'), () => false)) break;
    if (t > 400) throw new Error(`redis-server with AOF did not start on ${port}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    async stop() {
      child.kill('SIGKILL');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Keeps this thread busy, like `publish` scoring lists inline (models under 20k users) between writes. */
function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

/** Catalogue batch b of a made-up 50k-item model: item ids, titles and genres, as publish writes them. */
function catalogBatch(b: number, size = 1_000): CatalogEntry[] {
  return Array.from({ length: size }, (_, j) => {
    const idx = b * size + j;
    return { idx, itemId: `item-${idx}`, metadata: { title: `Made-up title number ${idx}`, genres: ['Drama', idx % 2 === 0 ? 'Comedy' : 'Horror'] } };
  });
}

function userList(u: number, length: number): SubjectList {
  const items = Int32Array.from({ length }, (_, j) => (u * 7 + j) % 50_000);
  const scores = Float32Array.from({ length }, (_, j) => 1 / (j + 1));
  return { subjectId: `user-${u}`, ranked: { items, scores } };
}

async function keysOf(port: number, pattern: string): Promise<string> {
  return rawCommand(port, `KEYS ${pattern}`);
}

let prefixes = 0;

describeRedis('Redis store with AOF everysec: big publishes and a busy publisher', () => {
  let redis: Awaited<ReturnType<typeof startAofRedis>>;
  const stores: OnlineStore[] = [];
  const open = async (options: { writeTimeoutMs?: number } = {}) => {
    const prefix = `aof${process.pid}-${++prefixes}`;
    const store = await openStore(`${redis.url}?prefix=${prefix}`, options);
    stores.push(store);
    return { store, prefix };
  };
  beforeAll(async () => {
    redis = await startAofRedis();
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    await redis.stop();
  });

  it('completes a 50k-item-shaped write even when the publisher blocks its thread for 6 s right after handing it over', async () => {
    // Before the fix every HSET queued here failed after 5 s ("HSET failed: TimeoutError" from node-redis's
    // default command timeout), because the blocked thread never wrote them to the socket.
    const { store } = await open();
    const w = await store.beginVersion({ expected: { u: 0, s: 0, p: 0, c: 50_000 } });
    const handedOver = w.putCatalog(catalogBatch(0));
    handedOver.catch(() => undefined);
    blockEventLoop(6_000);
    await handedOver;
    for (let b = 1; b < 4; b++) await w.putCatalog(catalogBatch(b));
    const record = await w.commit();
    expect(record.counts?.c).toBe(4_000);
    expect(await store.activeVersion()).toBe(record.version);
    const catalog = await store.readCatalog(record.version);
    expect(catalog.ids).toEqual(Array.from({ length: 4_000 }, (_, i) => `item-${i}`));
    expect(catalog.metadata[1_234]).toEqual({ title: 'Made-up title number 1234', genres: ['Drama', 'Comedy'] });
  });

  it('rides out a Redis stall longer than the write deadline by sending the HSETs again', async () => {
    const { store } = await open({ writeTimeoutMs: 600 });
    const w = await store.beginVersion({ expected: { c: 50_000 } });
    const before = await commandCalls(redis.port, 'hset');
    // Redis holds every write for 1 s (as when it waits on a slow disk): the first sends time out at
    // 600 ms, the second ones are answered when the pause ends.
    await rawCommand(redis.port, 'CLIENT PAUSE 1000 WRITE');
    await w.putCatalog(catalogBatch(0));
    const record = await w.commit();
    // 1000 entries over 64 shards make 64 HSETs, plus the version record written at commit (1);
    // more means some were sent again.
    expect((await commandCalls(redis.port, 'hset')) - before).toBeGreaterThan(64 + 1);
    expect((await store.readCatalog(record.version)).ids).toEqual(Array.from({ length: 1_000 }, (_, i) => `item-${i}`));
  });

  it('splits a batch of long lists into HSETs of bounded size and reads every list back', async () => {
    const { store } = await open();
    const before = await commandCalls(redis.port, 'hset');
    // 1000 lists of 1000 items (8001 bytes each, ~8 MB) into a single hash (few users expected).
    const w = await store.beginVersion({ expected: { u: 1_000 } });
    await w.putUserRecs(Array.from({ length: 1_000 }, (_, u) => userList(u, 1_000)));
    const record = await w.commit();
    // At most 256 KiB per HSET: ~8 MB needs at least 31 of them (a single HSET before).
    expect((await commandCalls(redis.port, 'hset')) - before).toBeGreaterThanOrEqual(31);
    for (const u of [0, 1, 499, 999]) {
      const got = await store.getUserRecs(record.version, `user-${u}`);
      expect(got?.items).toEqual(userList(u, 1_000).ranked.items);
    }
  });

  it('fails with RTREC_ERR_STORE_UNAVAILABLE when Redis stops answering writes, keeps the old version serving and leaves no partial data', async () => {
    const { store, prefix } = await open({ writeTimeoutMs: 300 });
    const v1 = await store.beginVersion({ expected: { u: 10 } });
    await v1.putUserRecs([userList(1, 5)]);
    const old = await v1.commit();

    const v2 = await store.beginVersion({ expected: { u: 10, c: 50_000 } });
    await v2.putUserRecs([userList(1, 7)]);
    // Writes (and scripts) wait while paused; reads go on.
    await rawCommand(redis.port, 'CLIENT PAUSE 2500 WRITE');
    const err = await v2.putCatalog(catalogBatch(0)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isRecError(err) && err.code).toBe('RTREC_ERR_STORE_UNAVAILABLE');
    expect((err as Error).message).toMatch(/HSET of \d+ entries \(\d+ bytes\) to \S+:v2:c:\d+ got no reply within 300 ms, 3 times/);
    // What publish does on failure; completes once Redis answers again.
    await v2.abort((err as Error).message);

    expect(await store.activeVersion()).toBe(old.version);
    expect((await store.listVersions()).map((r) => r.version)).toEqual([old.version]);
    expect((await store.getUserRecs(old.version, 'user-1'))?.items).toEqual(userList(1, 5).ranked.items);
    // The timed-out HSETs ran when the pause ended, before the cleanup on the same connection.
    expect(await keysOf(redis.port, `${prefix}:v${v2.version}:*`)).toBe('*0\r\n');
  });
});
