/**
 * @module Writes that reach a version after it was deleted (a server lagging more than prune's grace
 * behind a switch still holds the version's place; a publish declared abandoned goes on writing)
 * must leave nothing behind that no record points to: LMDB refuses them in the write transaction; on
 * Redis, where no script can see both a data hash and the version records (different cluster
 * slots), the orphan sweep of cleanup() removes them, and never data a record points to or a
 * publish may be creating. Everything runs against real stores: LMDB in a temporary folder, a
 * redis-server, a 3-master Redis Cluster.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isRecError } from '../core/errors.js';
import type { Ranked } from '../models/recommender.js';
import { describeRedis, rawCommand, startRedis, startRedisCluster, type RedisCluster, type RedisServer } from '../../test/support/redis-server.js';
import { NO_EVENTS_CURSOR } from './event-log.js';
import { LMDB_ENV_OPTIONS } from './lmdb-env-options.js';
import type { CursorList, OnlineStore, VersionWriter } from './online-store.js';
import { lmdbPath, openStore, type OpenStoreOptions } from './open-store.js';
import { parseRedisUrl } from './redis-conn.js';
import { versionOfKey } from './redis-version-keys.js';

/** How a test sees a backend from outside the store. */
interface RawView {
  /** Keys (Redis) or entries (LMDB) stored under version number `version`, whether a record points to them or not. */
  countUnder(url: string, version: number): Promise<number>;
  /** Stores one user list under version number `version` behind the store's back (data no record points to). */
  plant(url: string, version: number): Promise<void>;
}

interface SuiteSetup extends RawView {
  freshUrl(): Promise<string>;
  /** True when the store refuses late writes itself (nothing to sweep afterwards). */
  readonly refusesLateWrites: boolean;
  /** Users per published version: enough for several hashes (so several cluster nodes) on Redis Cluster. */
  readonly users: number;
}

const ranked = (tag: number): Ranked => ({ items: Int32Array.of(tag % 5, (tag + 1) % 5), scores: Float32Array.of(2, 1) });

async function beginWithData(store: OnlineStore, tag: number, users: number): Promise<VersionWriter> {
  const w = await store.beginVersion({ expected: { u: users, p: 1, c: 5 } });
  await w.putCatalog(Array.from({ length: 5 }, (_, i) => ({ idx: i, itemId: `item-${i}`, metadata: null })));
  await w.putUserRecs(Array.from({ length: users }, (_, u) => ({ subjectId: `user-${u}`, ranked: ranked(tag + u) })));
  await w.putPopular(ranked(tag));
  return w;
}

async function publish(store: OnlineStore, tag: number, users: number): Promise<number> {
  return (await (await beginWithData(store, tag, users)).commit()).version;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err === undefined) return undefined;
  if (isRecError(err)) return err.code;
  throw err instanceof Error ? err : new Error(`not a RecError: ${JSON.stringify(err)}`);
}

function orphanSuite(setup: SuiteSetup): void {
  const opened: OnlineStore[] = [];
  const openFresh = async (url: string, options: OpenStoreOptions = {}) => {
    const s = await openStore(url, options);
    opened.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  // In the second variant the appending server appends on the LMDB append thread (elsewhere, the option is ignored).
  for (const [how, appendThread] of [['', false], [', appending on a thread', true]] as const) {
    it(`leaves no data of a pruned version behind when a lagging server still writes its users lists${how}`, async () => {
      const url = await setup.freshUrl();
      const fallbacks: string[] = [];
      // One server per write path, each holding v1's place from before the prune (VersionedStore
      // caches it), so each write reaches the backend rather than stopping at a refusal seen before.
      const ifCurrentServer = await openFresh(url);
      const batchServer = await openFresh(url);
      const appendServer = await openFresh(url, { appendThread, onAppendFallback: (reason) => fallbacks.push(reason) });
      const servers = [ifCurrentServer, batchServer, appendServer];
      const admin = await openFresh(url);
      const v1 = await publish(admin, 1, setup.users);
      for (const server of servers) expect(await server.getUserRecs(v1, 'user-0')).toEqual(ranked(1));
      await publish(admin, 2, setup.users);
      expect(await admin.prune(1, { retiredGraceMs: 0 })).toMatchObject({ deleted: [v1] });
      expect(await setup.countUnder(url, v1)).toBe(0);

      // More than the grace later, the servers have not switched yet and write lists into v1.
      const late: CursorList[] = Array.from({ length: 60 }, (_, u) => ({ subjectId: `late-${u}`, ranked: ranked(u), cursor: NO_EVENTS_CURSOR }));
      const ifCurrent = await codeOf(ifCurrentServer.putUserRecsIfCurrent(v1, late));
      const afterIfCurrent = await setup.countUnder(url, v1);
      const batch = await codeOf(batchServer.putUserRecsBatch(v1, late.slice(0, 5)));
      const afterBatch = await setup.countUnder(url, v1);
      const cursor = (await appendServer.userEventsAfter('late-x')).cursor;
      const appended = await appendServer.appendEvents([{ eventId: 'late-e1', userId: 'late-x', itemId: 'item-1', type: 'view', ts: 1_000 }], {
        lists: { version: v1, users: new Map([['late-x', { cursor, ranked: ranked(7) }]]) },
      });
      const afterAppend = await setup.countUnder(url, v1);
      // The event is logged whatever becomes of the list.
      expect(appended[0].duplicate).toBe(false);
      expect((await admin.userEvents('late-x')).map((e) => e.eventId)).toEqual(['late-e1']);
      // The append ran where asked: on the thread in the second variant (built to dist/ by npm run build).
      expect(fallbacks).toEqual([]);

      if (setup.refusesLateWrites) {
        // Each write path refuses on its own (versionLive in its transaction), nothing lands under v1.
        expect([ifCurrent, batch]).toEqual(['RTREC_ERR_STORE_VERSION_NOT_FOUND', 'RTREC_ERR_STORE_VERSION_NOT_FOUND']);
        expect(appended[0].listWritten).toBeUndefined();
        expect([afterIfCurrent, afterBatch, afterAppend]).toEqual([0, 0, 0]);
      } else {
        // Redis cannot refuse them atomically: they land under v1, where no record points.
        expect([ifCurrent, batch]).toEqual([undefined, undefined]);
        expect(afterIfCurrent).toBeGreaterThan(0);
      }

      // The lagging servers still answer reads of v1, from what is left (nothing: callers fall back
      // to the popular list) rather than failing as if the store were down.
      for (const server of servers) {
        expect(await server.getUserRecs(v1, 'user-0')).toBeUndefined();
        expect(await server.getSimilarItems(v1, 'item-0')).toBeUndefined();
      }
      if (setup.refusesLateWrites) {
        // A server that saw a write refused stops trying: lists fail at once, events go without them.
        expect(await codeOf(ifCurrentServer.putUserRecsIfCurrent(v1, late.slice(0, 1)))).toBe('RTREC_ERR_STORE_VERSION_NOT_FOUND');
        const again = await ifCurrentServer.appendEvents([{ eventId: 'late-e2', userId: 'late-y', itemId: 'item-1', type: 'view', ts: 1_001 }], {
          lists: { version: v1, users: new Map([['late-y', { cursor: NO_EVENTS_CURSOR, ranked: ranked(8) }]]) },
        });
        expect(again[0].duplicate).toBe(false);
        expect(again[0].listWritten).toBeUndefined();
        expect(await setup.countUnder(url, v1)).toBe(0);
      }

      // The next prune sweeps what no record points to, and says so.
      const res = await admin.prune(1, { retiredGraceMs: 0 });
      expect(res.orphans).toEqual(setup.refusesLateWrites ? [] : [v1]);
      expect(await setup.countUnder(url, v1)).toBe(0);
      expect(await admin.getUserRecs(v1 + 1, 'user-0')).toEqual(ranked(2));
    });
  }

  it('leaves no data behind when a publish declared abandoned goes on writing', async () => {
    const url = await setup.freshUrl();
    const publisher = await openFresh(url);
    // Every version being written counts as abandoned here (its heartbeat is older than 0 ms).
    const admin = await openFresh(url, { staleWriterMs: 0 });
    await publish(publisher, 1, setup.users);
    const writer = await beginWithData(publisher, 2, setup.users);
    await new Promise((r) => setTimeout(r, 5));
    expect((await admin.cleanup()).deleted).toEqual([writer.version]);
    expect(await setup.countUnder(url, writer.version)).toBe(0);

    const late = await codeOf(writer.putSimilarItems([{ subjectId: 'item-0', ranked: ranked(0) }]));
    if (setup.refusesLateWrites) {
      expect(late).toBe('RTREC_ERR_STORE_VERSION_NOT_READY');
      expect(await setup.countUnder(url, writer.version)).toBe(0);
    } else {
      expect(late).toBeUndefined();
      expect(await setup.countUnder(url, writer.version)).toBeGreaterThan(0);
      // No record is above it: from the records alone it could be a publish starting, so it stays...
      expect((await admin.cleanup()).orphans).toEqual([]);
      expect(await setup.countUnder(url, writer.version)).toBeGreaterThan(0);
    }
    // ...until a newer version has a record.
    await publish(publisher, 3, setup.users);
    expect((await admin.cleanup()).orphans).toEqual(setup.refusesLateWrites ? [] : [writer.version]);
    expect(await setup.countUnder(url, writer.version)).toBe(0);
  });

  it('prune sweeps data under a deleted version number, whatever wrote it, and reports it; publish does not', async () => {
    const url = await setup.freshUrl();
    const admin = await openFresh(url);
    const v1 = await publish(admin, 1, setup.users);
    await publish(admin, 2, setup.users);
    await admin.prune(1, { retiredGraceMs: 0 });
    // e.g. left by a version of rtrec without the sweep
    await setup.plant(url, v1);
    expect(await setup.countUnder(url, v1)).toBeGreaterThan(0);
    // A publish leaves it (on Redis the sweep walks the whole keyspace; prune runs it)...
    const v3 = await publish(admin, 3, setup.users);
    expect(await setup.countUnder(url, v1)).toBeGreaterThan(0);
    // ...the next prune removes it.
    expect(await admin.prune(1, { retiredGraceMs: 0 })).toEqual({ deleted: [v3 - 1], kept: [v3], orphans: [v1] });
    expect(await setup.countUnder(url, v1)).toBe(0);
    expect(await admin.cleanup()).toEqual({ deleted: [], orphans: [] });
  });

  it('never sweeps the data of a version being written, nor of a number above every record (a publish may be creating it)', async () => {
    const url = await setup.freshUrl();
    const admin = await openFresh(url);
    const publisher = await openFresh(url);
    const v1 = await publish(admin, 1, setup.users);
    const writing = await beginWithData(publisher, 2, setup.users);
    const above = writing.version + 5;
    await setup.plant(url, above);
    const before = await setup.countUnder(url, writing.version);
    expect(before).toBeGreaterThan(0);
    expect(await admin.prune(1, { retiredGraceMs: 0 })).toEqual({ deleted: [], kept: [v1], orphans: [] });
    expect(await setup.countUnder(url, writing.version)).toBe(before);
    expect(await setup.countUnder(url, above)).toBeGreaterThan(0);
    // The publish still verifies (every entry it wrote is there) and becomes active.
    expect((await writing.commit()).status).toBe('ready');
    expect(await admin.activeVersion()).toBe(writing.version);
  });
}

describe('orphan data on LMDB', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  // A second handle on the store's file in this process (lmdb-js shares the environment).
  const withData = async <T>(url: string, fn: (data: ReturnType<ReturnType<typeof open>['openDB']>) => T | Promise<T>): Promise<T> => {
    const env = open({ path: join(lmdbPath(url), 'rtrec.mdb'), ...LMDB_ENV_OPTIONS });
    try {
      return await fn(env.openDB({ name: 'data', encoding: 'binary' }));
    } finally {
      await env.close();
    }
  };
  orphanSuite({
    freshUrl: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'rtrec-orphan-'));
      dirs.push(dir);
      return `lmdb://${dir}`;
    },
    refusesLateWrites: true,
    users: 20,
    countUnder: (url, version) => withData(url, (data) => data.getKeysCount({ start: [version], end: [version + 1] })),
    plant: (url, version) => withData(url, async (data) => void (await data.put([version, 'u', 'planted'], Buffer.from([1, 2, 3])))),
  });
});

let prefixes = 0;
const freshPrefix = () => `orph${process.pid}-${++prefixes}`;
const prefixOf = (url: string) => parseRedisUrl(url).prefix;

/** Keys under a version number on one node, data hashes and their cursor hashes alike (KEYS is fine in a test). */
async function keysUnder(port: number, prefix: string, version: number): Promise<number> {
  const script = "return #redis.call('KEYS', ARGV[1]) + #redis.call('KEYS', ARGV[2])";
  const reply = await rawCommand(port, `EVAL "${script}" 0 ${prefix}:v${version}:* {${prefix}:v${version}:*`);
  return Number(/^:(\d+)/.exec(reply)?.[1] ?? NaN);
}

describeRedis('orphan data on Redis, single server', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server.destroy();
  });
  orphanSuite({
    freshUrl: () => Promise.resolve(`${server.url}?prefix=${freshPrefix()}`),
    refusesLateWrites: false,
    users: 20,
    countUnder: (url, version) => keysUnder(server.port, prefixOf(url), version),
    plant: async (url, version) => void (await rawCommand(server.port, `HSET ${prefixOf(url)}:v${version}:u:0 planted x`)),
  });

  it('a failing sweep fails neither publish nor prune: prune reports it, and the next one sweeps', async () => {
    const prefix = freshPrefix();
    // A user allowed everything but SCAN: the sweep's walk is refused, nothing else is.
    await rawCommand(server.port, `ACL SETUSER ${prefix} on >secret-pw ~* &* +@all -scan`);
    const restricted = await openStore(`redis://${prefix}:secret-pw@127.0.0.1:${server.port}/0?prefix=${prefix}`);
    const admin = await openStore(`${server.url}?prefix=${prefix}`);
    try {
      const v1 = await publish(restricted, 1, 3);
      await publish(restricted, 2, 3);
      const res = await restricted.prune(1, { retiredGraceMs: 0 });
      expect(res).toMatchObject({ deleted: [v1], kept: [v1 + 1], orphans: [] });
      expect(res.sweepError).toMatch(/NOPERM.*scan/i);
      expect((await restricted.listVersions()).map((r) => r.version)).toEqual([v1 + 1]);
      // The deleted version's data went with it; what a late writer leaves is swept by a later prune.
      expect(await keysUnder(server.port, prefix, v1)).toBe(0);
      await rawCommand(server.port, `HSET ${prefix}:v${v1}:u:0 late x`);
      expect(await admin.prune(1, { retiredGraceMs: 0 })).toEqual({ deleted: [], kept: [v1 + 1], orphans: [v1] });
      expect(await keysUnder(server.port, prefix, v1)).toBe(0);
    } finally {
      await Promise.all([restricted.close(), admin.close()]);
    }
  });

  it('sweeps only its own keys: not those of another prefix, nor the event log of a user whose id looks like a data key', async () => {
    const prefix = freshPrefix();
    const store = await openStore(`${server.url}?prefix=${prefix}`);
    try {
      await publish(store, 1, 3);
      await publish(store, 2, 3);
      await store.prune(1, { retiredGraceMs: 0 });
      const lookalike = `${prefix}:v1:u:0`;
      await store.appendEvents([{ eventId: 'e1', userId: lookalike, itemId: 'item-1', type: 'view', ts: 1 }]);
      await rawCommand(server.port, `HSET x${prefix}:v1:u:0 a b`);
      await rawCommand(server.port, `HSET ${prefix}:v1:u:0 a b`);
      expect((await store.cleanup()).orphans).toEqual([1]);
      expect(await rawCommand(server.port, `EXISTS ${prefix}:v1:u:0`)).toBe(':0\r\n');
      expect(await rawCommand(server.port, `EXISTS x${prefix}:v1:u:0`)).toBe(':1\r\n');
      expect((await store.userEvents(lookalike)).map((e) => e.eventId)).toEqual(['e1']);
    } finally {
      await store.close();
    }
  });
});

describeRedis('orphan data on Redis, 3-master cluster', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  });
  afterAll(async () => {
    await cluster.destroy();
  });
  const countUnder = async (url: string, version: number) => {
    const perNode = await Promise.all(cluster.ports.map((p) => keysUnder(p, prefixOf(url), version)));
    return perNode.reduce((a, b) => a + b, 0);
  };
  orphanSuite({
    freshUrl: () => Promise.resolve(`${cluster.url}?prefix=${freshPrefix()}`),
    refusesLateWrites: false,
    // 8 hashes per list collection on a cluster (about 1,000 entries each): they spread over the masters.
    users: 5_000,
    countUnder,
    plant: async (url, version) => {
      // Run on every master the key could hash to; only the owner accepts it (the others answer MOVED).
      await Promise.all(cluster.ports.map((p) => rawCommand(p, `HSET ${prefixOf(url)}:v${version}:c:3 planted x`)));
    },
  });

  it('sweeps orphan keys from every master', async () => {
    const url = `${cluster.url}?prefix=${freshPrefix()}`;
    const server = await openStore(url);
    const admin = await openStore(url);
    try {
      const v1 = await publish(admin, 1, 5_000);
      expect(await server.getUserRecs(v1, 'user-0')).toEqual(ranked(1));
      await publish(admin, 2, 5_000);
      await admin.prune(1, { retiredGraceMs: 0 });
      const late = Array.from({ length: 300 }, (_, u) => ({ subjectId: `late-${u}`, ranked: ranked(u), cursor: NO_EVENTS_CURSOR }));
      await server.putUserRecsIfCurrent(v1, late);
      // 8 list hashes and their 8 cursor hashes, spread over the masters.
      const perNode = await Promise.all(cluster.ports.map((p) => keysUnder(p, prefixOf(url), v1)));
      expect(perNode.filter((n) => n > 0).length).toBeGreaterThan(1);
      expect((await admin.cleanup()).orphans).toEqual([v1]);
      expect(await countUnder(url, v1)).toBe(0);
    } finally {
      await Promise.all([server.close(), admin.close()]);
    }
  });
});

describe('Redis version data key names', () => {
  it('are told apart from every other key, whatever the prefix holds', () => {
    const parse = versionOfKey('a.b-c');
    expect(['a.b-c:v12:u:0', 'a.b-c:v3:c:63', '{a.b-c:v7:u:255}:cursors'].map(parse)).toEqual([12, 3, 7]);
    const others = ['axb-c:v1:u:0', 'xa.b-c:v1:u:0', '{a.b-c}:ue:a.b-c:v1:u:0', '{a.b-c}:versions', 'a.b-c:v1:u:0:x', 'a.b-c:v1:x:0', '{a.b-c:v1:c:0}:cursors', 'a.b-c:v0:u:0', 'a.b-c:v1:u:'];
    expect(others.map(parse)).toEqual(others.map(() => undefined));
  });
});
