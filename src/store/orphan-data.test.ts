/**
 * @module Writes that reach a version after it was deleted (a server lagging more than prune's grace
 * behind a switch still holds the version's place; a publish declared abandoned goes on writing)
 * must leave nothing behind that no record points to: LMDB refuses them in the write transaction.
 * Runs against the real store, in a temporary folder. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isRecError } from '../core/errors.js';
import type { Ranked } from '../models/recommender.js';
import { NO_EVENTS_CURSOR } from './event-log.js';
import { LMDB_ENV_OPTIONS } from './lmdb-env-options.js';
import type { CursorList, OnlineStore, VersionWriter } from './online-store.js';
import { lmdbPath, openStore, type OpenStoreOptions } from './open-store.js';

interface SuiteSetup {
  freshUrl(): Promise<string>;
  /** Entries stored under version number `version`, seen from outside the store: whether a record points to them or not. */
  countUnder(url: string, version: number): Promise<number>;
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

  // Servers append on the LMDB append thread (elsewhere, the option is ignored).
  for (const [how, serverOptions] of [['', {}], [', appending on a thread', { appendThread: true }]] as const) {
    it(`leaves no data of a pruned version behind when a lagging server still writes its users lists${how}`, async () => {
      const url = await setup.freshUrl();
      const server = await openFresh(url, serverOptions);
      const admin = await openFresh(url);
      const v1 = await publish(admin, 1, setup.users);
      // The server serves v1 and holds its place (VersionedStore caches it).
      expect(await server.getUserRecs(v1, 'user-0')).toEqual(ranked(1));
      await publish(admin, 2, setup.users);
      expect(await admin.prune(1, { retiredGraceMs: 0 })).toMatchObject({ deleted: [v1] });
      expect(await setup.countUnder(url, v1)).toBe(0);

      // More than the grace later, the server has not switched yet and writes lists into v1.
      const late: CursorList[] = Array.from({ length: 60 }, (_, u) => ({ subjectId: `late-${u}`, ranked: ranked(u), cursor: NO_EVENTS_CURSOR }));
      const ifCurrent = await codeOf(server.putUserRecsIfCurrent(v1, late));
      const batch = await codeOf(server.putUserRecsBatch(v1, late.slice(0, 5)));
      const cursor = (await server.userEventsAfter('late-x')).cursor;
      const appended = await server.appendEvents([{ eventId: 'late-e1', userId: 'late-x', itemId: 'item-1', type: 'view', ts: 1_000 }], {
        lists: { version: v1, users: new Map([['late-x', { cursor, ranked: ranked(7) }]]) },
      });
      // The event is logged whatever becomes of the list.
      expect(appended[0].duplicate).toBe(false);
      expect((await admin.userEvents('late-x')).map((e) => e.eventId)).toEqual(['late-e1']);

      expect([ifCurrent, batch]).toEqual(['RTREC_ERR_STORE_VERSION_NOT_FOUND', 'RTREC_ERR_STORE_VERSION_NOT_FOUND']);
      expect(appended[0].listWritten).toBeUndefined();
      expect(await setup.countUnder(url, v1)).toBe(0);
      await admin.prune(1, { retiredGraceMs: 0 });
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
    expect(await admin.cleanup()).toEqual([writer.version]);
    expect(await setup.countUnder(url, writer.version)).toBe(0);

    const late = await codeOf(writer.putSimilarItems([{ subjectId: 'item-0', ranked: ranked(0) }]));
    expect(late).toBe('RTREC_ERR_STORE_VERSION_NOT_READY');
    expect(await setup.countUnder(url, writer.version)).toBe(0);
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
    users: 20,
    countUnder: (url, version) => withData(url, (data) => data.getKeysCount({ start: [version], end: [version + 1] })),
  });
});
