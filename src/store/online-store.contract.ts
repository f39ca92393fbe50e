/**
 * @module The behaviour every OnlineStore backend must show, as one suite each backend's test calls
 * with a factory for fresh, empty store URLs (a new LMDB folder, a new Redis key prefix). Runs
 * against the real engine; only the data written is made up here.
 */
import { afterEach, expect, it } from 'vitest';
import { isRecError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import type { Ranked } from '../models/recommender.js';
import { NO_EVENTS_CURSOR } from './event-log.js';
import type { OnlineStore, SubjectList, VersionWriter } from './online-store.js';
import { openStore, type OpenStoreOptions } from './open-store.js';

export interface ContractSetup {
  /** A URL of a fresh, empty store namespace each call. */
  freshUrl(): Promise<string>;
}

function ranked(items: number[], scores: number[]): Ranked {
  return { items: Int32Array.from(items), scores: Float32Array.from(scores) };
}

/** Lists of a small made-up version; `tag` shifts the scores so versions differ. */
function versionData(tag: number, users: number): { users: SubjectList[]; similar: SubjectList[]; popular: Ranked } {
  return {
    users: Array.from({ length: users }, (_, u) => ({ subjectId: `user-${u}`, ranked: ranked([u % 5, (u + 1) % 5], [tag + 0.5, tag + 0.25]) })),
    similar: Array.from({ length: 5 }, (_, i) => ({ subjectId: `item-${i}`, ranked: ranked([(i + 1) % 5], [tag / 3]) })),
    popular: ranked([4, 3, 2], [30 + tag, 20, 10]),
  };
}

async function writeVersion(store: OnlineStore, tag: number, users = 12): Promise<VersionWriter> {
  const data = versionData(tag, users);
  const w = await store.beginVersion({ expected: { u: users, s: 5, p: 1, c: 5 }, meta: { tag } });
  await w.putCatalog(Array.from({ length: 5 }, (_, i) => ({ idx: i, itemId: `item-${i}`, metadata: i === 2 ? null : { title: `Title ${i}`, genres: ['A', 'B'] } })));
  await w.putUserRecs(data.users.slice(0, 7));
  await w.putUserRecs(data.users.slice(7));
  await w.putSimilarItems(data.similar);
  await w.putPopular(data.popular);
  return w;
}

async function publish(store: OnlineStore, tag: number): Promise<number> {
  const w = await writeVersion(store, tag);
  return (await w.commit()).version;
}

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isRecError(err) ? err.code : err).toBe(code);
}

export function runOnlineStoreContract(setup: ContractSetup, openOptions: OpenStoreOptions = {}): void {
  const opened: OnlineStore[] = [];
  const open = async (url: string, options: OpenStoreOptions = {}) => {
    const s = await openStore(url, { ...openOptions, ...options });
    opened.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  it('starts empty: no active version, no versions, nothing to roll back', async () => {
    const store = await open(await setup.freshUrl());
    expect(await store.activeVersion()).toBeNull();
    expect(await store.listVersions()).toEqual([]);
    await expectCode(store.rollback(), 'RTREC_ERR_STORE_NO_ACTIVE_VERSION');
    await expectCode(store.getUserRecs(1, 'user-0'), 'RTREC_ERR_STORE_VERSION_NOT_FOUND');
  });

  it('keeps one identity per store: none until asked for, then the same from every connection, another for another store', async () => {
    const url = await setup.freshUrl();
    const a = await open(url);
    const b = await open(url);
    expect(await a.storeId()).toBeUndefined();
    const [first, second] = await Promise.all([a.storeId({ create: true }), b.storeId({ create: true })]);
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(second).toBe(first);
    expect(await b.storeId()).toBe(first);
    await publish(a, 1);
    expect(await (await open(url)).storeId()).toBe(first);
    expect(await (await open(await setup.freshUrl())).storeId({ create: true })).not.toBe(first);
  });

  it('reads back exactly what a committed version holds', async () => {
    const store = await open(await setup.freshUrl());
    const v = await publish(store, 1);
    expect(v).toBe(1);
    expect(await store.activeVersion()).toBe(1);
    const data = versionData(1, 12);
    for (const { subjectId, ranked: r } of data.users) expect(await store.getUserRecs(v, subjectId)).toEqual(r);
    for (const { subjectId, ranked: r } of data.similar) expect(await store.getSimilarItems(v, subjectId)).toEqual(r);
    expect(await store.getPopular(v)).toEqual(data.popular);
    expect(await store.getUserRecs(v, 'nobody')).toBeUndefined();
    expect(await store.getSimilarItems(v, 'user-0')).toBeUndefined();
    const catalog = await store.readCatalog(v);
    expect(catalog.ids).toEqual(['item-0', 'item-1', 'item-2', 'item-3', 'item-4']);
    expect(catalog.metadata[2]).toBeNull();
    expect(catalog.metadata[3]).toEqual({ title: 'Title 3', genres: ['A', 'B'] });
    const [record] = await store.listVersions();
    expect(record.status).toBe('ready');
    expect(record.counts).toEqual({ u: 12, s: 5, p: 1, c: 5 });
    expect(record.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(record.meta).toEqual({ tag: 1 });
  });

  it('keeps readers on the old version until the new one is committed, then flips once', async () => {
    const url = await setup.freshUrl();
    const store = await open(url);
    const reader = await open(url);
    await publish(store, 1);
    const w = await writeVersion(store, 2);
    expect(await reader.activeVersion()).toBe(1);
    expect(await reader.getUserRecs(1, 'user-3')).toEqual(versionData(1, 12).users[3].ranked);
    expect((await reader.getVersion(2))?.status).toBe('writing');
    await w.commit();
    expect(await reader.activeVersion()).toBe(2);
    expect(await reader.getUserRecs(2, 'user-3')).toEqual(versionData(2, 12).users[3].ranked);
    // The old version stays readable (and activatable) until pruned.
    expect(await reader.getUserRecs(1, 'user-3')).toEqual(versionData(1, 12).users[3].ranked);
  });

  it('commits without activating when asked, and activates only ready versions', async () => {
    const store = await open(await setup.freshUrl());
    await publish(store, 1);
    const w2 = await writeVersion(store, 2);
    const rec = await w2.commit({ activate: false });
    expect(rec.status).toBe('ready');
    expect(await store.activeVersion()).toBe(1);
    const w3 = await writeVersion(store, 3);
    await expectCode(store.activate(w3.version), 'RTREC_ERR_STORE_VERSION_NOT_READY');
    await expectCode(store.activate(99), 'RTREC_ERR_STORE_VERSION_NOT_FOUND');
    expect((await store.activate(2)).version).toBe(2);
    expect(await store.activeVersion()).toBe(2);
    await w3.abort('test');
  });

  it('discards an aborted version and its data, leaving the active one', async () => {
    const store = await open(await setup.freshUrl());
    await publish(store, 1);
    const w = await writeVersion(store, 2);
    await w.abort('simulated failure');
    expect(await store.activeVersion()).toBe(1);
    expect((await store.listVersions()).map((r) => r.version)).toEqual([1]);
    await expectCode(store.getUserRecs(2, 'user-0'), 'RTREC_ERR_STORE_VERSION_NOT_FOUND');
    await expectCode(w.putPopular(ranked([1], [1])), 'RTREC_ERR_STORE_VERSION_NOT_READY');
    // Numbers are never reused.
    expect(await publish(store, 3)).toBe(3);
  });

  it('refuses to commit a version whose stored counts differ from what was written', async () => {
    const store = await open(await setup.freshUrl());
    await publish(store, 1);
    const w = await writeVersion(store, 2);
    // The same user twice: the store keeps one entry, the writer counted two.
    await w.putUserRecs([{ subjectId: 'user-0', ranked: ranked([1], [9]) }]);
    await expectCode(w.commit(), 'RTREC_ERR_STORE_VERIFY_FAILED');
    expect(await store.activeVersion()).toBe(1);
    expect((await store.listVersions()).map((r) => r.version)).toEqual([1]);
  });

  it('removes an abandoned writing version at the next publish', async () => {
    const url = await setup.freshUrl();
    const crashed = await open(url);
    await publish(crashed, 1);
    const w = await writeVersion(crashed, 2);
    // Another publisher that considers writers silent for 1 ms as gone (as after a crash).
    await new Promise((r) => setTimeout(r, 5));
    const next = await open(url, { staleWriterMs: 1 });
    const w3 = await writeVersion(next, 3);
    expect((await next.listVersions()).map((r) => [r.version, r.status])).toEqual([[1, 'ready'], [3, 'writing']]);
    await expectCode(next.getUserRecs(2, 'user-0'), 'RTREC_ERR_STORE_VERSION_NOT_FOUND');
    await w3.commit();
    expect(await next.activeVersion()).toBe(3);
    // The crashed writer, should it wake up, cannot complete its version.
    await expect(w.commit()).rejects.toThrow();
    expect(await next.activeVersion()).toBe(3);
  });

  it('rolls back to the newest older ready version', async () => {
    const store = await open(await setup.freshUrl());
    await publish(store, 1);
    await publish(store, 2);
    await publish(store, 3);
    expect(await store.rollback()).toEqual({ from: 3, to: 2 });
    expect(await store.activeVersion()).toBe(2);
    expect(await store.rollback()).toEqual({ from: 2, to: 1 });
    await expectCode(store.rollback(), 'RTREC_ERR_STORE_VERSION_NOT_FOUND');
    expect(await store.activeVersion()).toBe(1);
  });

  it('rolls back to the version active before, not to one rolled back from', async () => {
    const store = await open(await setup.freshUrl());
    for (let t = 1; t <= 3; t++) await publish(store, t);
    expect(await store.rollback()).toEqual({ from: 3, to: 2 });
    await publish(store, 4);
    // 3 was rolled away from; 2 served until 4 came.
    expect(await store.rollback()).toEqual({ from: 4, to: 2 });
    expect(await store.rollback()).toEqual({ from: 2, to: 1 });
  });

  it('prunes all but the newest N ready versions, never the active one', async () => {
    const store = await open(await setup.freshUrl());
    for (let t = 1; t <= 4; t++) await publish(store, t);
    await store.activate(1);
    // Every version was active moments ago; the grace period has its own test.
    const res = await store.prune(2, { retiredGraceMs: 0 });
    expect(res.deleted).toEqual([2]);
    expect(res.kept).toEqual([1, 3, 4]);
    expect((await store.listVersions()).map((r) => r.version)).toEqual([1, 3, 4]);
    await expectCode(store.getUserRecs(2, 'user-0'), 'RTREC_ERR_STORE_VERSION_NOT_FOUND');
    expect(await store.getUserRecs(1, 'user-0')).toEqual(versionData(1, 12).users[0].ranked);
    const res1 = await store.prune(1, { retiredGraceMs: 0 });
    expect(res1.deleted).toEqual([3]);
    expect(res1.kept).toEqual([1, 4]);
    expect(await store.activeVersion()).toBe(1);
    for (const keep of [0, -1, 1.5]) await expectCode(store.prune(keep), 'RTREC_ERR_CONFIG_INVALID');
  });

  it('keeps a version that was active moments ago through prunes (servers may still write into it), for a grace period', async () => {
    const store = await open(await setup.freshUrl());
    for (let t = 1; t <= 3; t++) await publish(store, t);
    await store.activate(2);
    expect((await store.getVersion(3))?.retiredAt).toBeGreaterThan(Date.now() - 60_000);
    expect((await store.getVersion(1))?.retiredAt).toBeGreaterThan(Date.now() - 60_000);
    // 3 is the newest, 2 active; 1 stopped being active a moment ago: kept.
    expect(await store.prune(1)).toEqual({ deleted: [], kept: [1, 2, 3], orphans: [] });
    expect(await store.prune(1, { retiredGraceMs: 0 })).toEqual({ deleted: [1], kept: [2, 3], orphans: [] });
    await expectCode(store.prune(1, { retiredGraceMs: -1 }), 'RTREC_ERR_CONFIG_INVALID');
  });

  it('logs events once per eventId, durable across reopening and untouched by publishes and prunes', async () => {
    const url = await setup.freshUrl();
    const store = await open(url);
    const ev = (eventId: string, userId: string, itemId: string, type: string, ts: number, value?: number) => ({ eventId, userId, itemId, type, ts, ...(value === undefined ? {} : { value }) });
    const first = await store.appendEvents([ev('e1', 'alice', 'item-1', 'view', 1_000), ev('e2', 'bob', 'item-2', 'rating', 2_000, 4.5), ev('e3', 'alice', 'item-3', 'purchase', 3_000)]);
    expect(first.map((r) => r.duplicate)).toEqual([false, false, false]);
    expect(first[1].event).toMatchObject({ eventId: 'e2', userId: 'bob', itemId: 'item-2', type: 'rating', value: 4.5, ts: 2_000 });
    await publish(store, 1);
    // A retry of e2 (different payload) returns the original acceptance and appends nothing.
    const retry = await store.appendEvents([ev('e2', 'bob', 'item-4', 'click', 9_000), ev('e4', 'bob', 'item-1', 'dislike', 4_000)]);
    expect(retry[0]).toEqual({ event: first[1].event, duplicate: true });
    expect(retry[1].duplicate).toBe(false);
    await publish(store, 2);
    await store.prune(1);
    const reader = await open(url);
    expect((await reader.userEvents('alice')).map((e) => e.eventId)).toEqual(['e1', 'e3']);
    expect((await reader.userEvents('bob')).map((e) => [e.eventId, e.itemId, e.type])).toEqual([['e2', 'item-2', 'rating'], ['e4', 'item-1', 'dislike']]);
    expect(await reader.userEvents('carol')).toEqual([]);
    expect((await reader.eventUsers()).sort()).toEqual(['alice', 'bob']);
    const all: string[] = [];
    for await (const e of reader.scanEvents({ pageSize: 2 })) all.push(e.eventId);
    expect(all).toEqual(['e1', 'e2', 'e3', 'e4']);
    const recent: string[] = [];
    for await (const e of reader.scanEvents({ sinceTs: 2_500 })) recent.push(e.eventId);
    expect(recent).toEqual(['e3', 'e4']);
  });

  it('appends a batch of 250 events in order: a repeat 160 events later is a duplicate, cursors chain, counters add up', async () => {
    const store = await open(await setup.freshUrl());
    const n = 250;
    // Event j is for user u(j % 3); event 180 repeats event 20's eventId.
    const events = Array.from({ length: n }, (_, j) => ({ eventId: `big-${j === 180 ? 20 : j}`, userId: `u${j % 3}`, itemId: `item-${j % 7}`, type: 'view', ts: 10_000 + j }));
    const adds = events.map((e) => ({ bucket: 'big', itemId: e.itemId, amount: 1 }));
    const results = await store.appendEvents(events, { counters: { adds, keepMs: 60_000 } });
    expect(results.map((r, j) => (r.duplicate ? j : -1)).filter((j) => j >= 0)).toEqual([180]);
    expect(results[180].event).toEqual(results[20].event);
    for (let j = 3; j < n; j++) {
      if (j === 180 || j - 3 === 180) continue;
      // Each user's cursors chain across the whole batch.
      expect(results[j].userCursor?.before).toBe(results[j - 3].userCursor?.after);
    }
    const logged = await store.userEventsAfter('u2');
    expect(logged.events.map((e) => e.eventId)).toEqual(events.filter((_, j) => j % 3 === 2 && j !== 180).map((e) => e.eventId));
    const counts = new Map<string, number>();
    events.forEach((e, j) => j !== 180 && counts.set(e.itemId, (counts.get(e.itemId) ?? 0) + 1));
    expect(new Map((await store.topItemCounters('big', 10)).map((c) => [c.itemId, c.value]))).toEqual(counts);
    const scanned: string[] = [];
    for await (const e of store.scanEvents()) scanned.push(e.eventId);
    expect(scanned).toEqual(events.filter((_, j) => j !== 180).map((e) => e.eventId));
  });

  it('appends a batch as one step: counters only for newly logged events, user cursors that chain, lists written with it where supported', async () => {
    const url = await setup.freshUrl();
    const store = await open(url);
    const other = await open(url);
    const v = await publish(store, 1);
    const ev = (eventId: string, userId: string, itemId: string) => ({ eventId, userId, itemId, type: 'view', ts: 5_000 });
    const add = (itemId: string, amount: number) => ({ bucket: 'b1', itemId, amount });
    const first = await store.appendEvents([ev('a1', 'ann', 'item-1'), ev('a2', 'ann', 'item-2'), ev('b1', 'ben', 'item-1')], {
      counters: { adds: [add('item-1', 1), undefined, add('item-1', 2)], keepMs: 60_000 },
    });
    expect(first.map((r) => r.duplicate)).toEqual([false, false, false]);
    // A retry (a1) and a repeat within the batch (c1 twice) count once; c1's add applies, its repeat's does not.
    const second = await store.appendEvents([ev('a1', 'ann', 'item-1'), ev('c1', 'cat', 'item-3'), ev('c1', 'cat', 'item-3')], {
      counters: { adds: [add('item-1', 100), add('item-3', 4), add('item-3', 50)], keepMs: 60_000 },
      sync: 'fsync',
    });
    expect(second.map((r) => r.duplicate)).toEqual([true, false, true]);
    expect(second[0]).toEqual({ event: first[0].event, duplicate: true });
    expect(await other.topItemCounters('b1', 10)).toEqual([
      { itemId: 'item-3', value: 4 },
      { itemId: 'item-1', value: 3 },
    ]);

    // Cursors: a page ends where the next one starts, and an append's cursors chain per user.
    const all = await other.userEventsAfter('ann');
    expect(all.events.map((e) => e.eventId)).toEqual(['a1', 'a2']);
    expect((await other.userEventsAfter('ann', all.cursor)).events).toEqual([]);
    const [a1, a2] = first.map((r) => r.userCursor!);
    expect(a2.before).toBe(a1.after);
    expect(a2.after).toBe(all.cursor);
    expect((await store.userEventsAfter('ann', a1.before)).events.map((e) => e.eventId)).toEqual(['a1', 'a2']);
    expect((await store.userEventsAfter('ann', a1.after)).events.map((e) => e.eventId)).toEqual(['a2']);
    // A user's first event directly follows NO_EVENTS_CURSOR, the cursor of a user's empty page.
    expect(second[1].userCursor?.before).toBe(NO_EVENTS_CURSOR);
    expect(first[0].userCursor?.before).toBe(NO_EVENTS_CURSOR);
    expect((await store.userEventsAfter('nobody')).cursor).toBe(NO_EVENTS_CURSOR);
    await other.appendEvents([ev('a3', 'ann', 'item-4')]);
    const later = await store.userEventsAfter('ann', all.cursor);
    expect(later.events.map((e) => e.eventId)).toEqual(['a3']);
    expect((await store.userEventsAfter('nobody')).events).toEqual([]);

    // Lists with the append: written only when nothing else was logged for the user since its cursor.
    const fresh = ranked([4, 2], [0.9, 0.1]);
    const stale = ranked([0], [0.5]);
    const res = await store.appendEvents([ev('a4', 'ann', 'item-0'), ev('d1', 'dan', 'item-0')], {
      lists: { version: v, users: new Map([['ann', { cursor: all.cursor, ranked: stale }], ['dan', { cursor: (await store.userEventsAfter('dan')).cursor, ranked: fresh }]]) },
    });
    if (store.writesListsWithEvents) {
      expect(res.map((r) => r.listWritten === true)).toEqual([false, true]);
      expect(await other.getUserRecs(v, 'dan')).toEqual(fresh);
    } else {
      expect(res.some((r) => r.listWritten)).toBe(false);
      expect(await other.getUserRecs(v, 'dan')).toBeUndefined();
    }
    expect(await other.getUserRecs(v, 'ann')).toBeUndefined();
    expect((await other.userEvents('ann')).map((e) => e.eventId)).toEqual(['a1', 'a2', 'a3', 'a4']);
  });

  it('writes several user lists in one batch', async () => {
    const url = await setup.freshUrl();
    const store = await open(url);
    const v = await publish(store, 1);
    const lists = [{ subjectId: 'user-1', ranked: ranked([3], [1]) }, { subjectId: 'brand-new', ranked: ranked([0, 4], [2, 1]) }];
    await store.putUserRecsBatch(v, lists);
    await store.putUserRecsBatch(v, []);
    for (const l of lists) expect(await store.getUserRecs(v, l.subjectId)).toEqual(l.ranked);
    await expectCode(store.putUserRecsBatch(99, lists), 'RTREC_ERR_STORE_VERSION_NOT_FOUND');
  });

  it('writes a user list computed from the log only when current: never over one computed from a later cursor', async () => {
    const url = await setup.freshUrl();
    const store = await open(url);
    const other = await open(url);
    const v = await publish(store, 1);
    const [first, second] = await store.appendEvents([
      { eventId: 'c1', userId: 'cur', itemId: 'item-1', type: 'view', ts: 1 },
      { eventId: 'c2', userId: 'cur', itemId: 'item-2', type: 'view', ts: 2 },
    ]);
    const older = first.userCursor!.after;
    const newer = second.userCursor!.after;
    // Another instance writes the list of everything logged.
    expect(await other.putUserRecsIfCurrent(v, [{ subjectId: 'cur', ranked: ranked([3], [2]), cursor: newer }])).toEqual(new Set());
    // A list computed before the second event (e.g. by a catch-up) does not replace it; the other
    // list of the batch, of a user without events, is written.
    const refused = await store.putUserRecsIfCurrent(v, [
      { subjectId: 'cur', ranked: ranked([4], [1]), cursor: older },
      { subjectId: 'user-3', ranked: ranked([0], [5]), cursor: NO_EVENTS_CURSOR },
    ]);
    expect(refused).toEqual(new Set(['cur']));
    expect(await store.getUserRecs(v, 'cur')).toEqual(ranked([3], [2]));
    expect(await store.getUserRecs(v, 'user-3')).toEqual(ranked([0], [5]));
    // Computed from the same log position, a list is written again.
    expect(await store.putUserRecsIfCurrent(v, [{ subjectId: 'cur', ranked: ranked([1], [1]), cursor: newer }])).toEqual(new Set());
    expect(await other.getUserRecs(v, 'cur')).toEqual(ranked([1], [1]));
    await expectCode(store.putUserRecsIfCurrent(99, [{ subjectId: 'cur', ranked: ranked([1], [1]), cursor: newer }]), 'RTREC_ERR_STORE_VERSION_NOT_FOUND');
  });

  it('writes a batch of 100 user lists when current, refusing exactly the stale ones wherever they fall', async () => {
    const store = await open(await setup.freshUrl());
    const v = await publish(store, 1);
    const users = Array.from({ length: 100 }, (_, j) => `batch-${j}`);
    // Users with a list from a later log position, spread over the whole batch (stores may split it).
    const later = [0, 31, 32, 33, 63, 64, 97, 99].map((j) => users[j]);
    const appended = await store.appendEvents(later.map((userId, j) => ({ eventId: `later-${j}`, userId, itemId: 'item-1', type: 'view', ts: 1 })));
    const kept = ranked([2], [9]);
    expect(await store.putUserRecsIfCurrent(v, later.map((subjectId, j) => ({ subjectId, ranked: kept, cursor: appended[j].userCursor!.after })))).toEqual(new Set());
    const refused = await store.putUserRecsIfCurrent(
      v,
      users.map((subjectId, j) => ({ subjectId, ranked: ranked([j % 5], [j]), cursor: NO_EVENTS_CURSOR })),
    );
    expect(refused).toEqual(new Set(later));
    for (const [j, u] of users.entries()) expect(await store.getUserRecs(v, u)).toEqual(later.includes(u) ? kept : ranked([j % 5], [j]));
  });

  it('overwrites one user list of a ready version in place, visible to other readers, and only there', async () => {
    const url = await setup.freshUrl();
    const store = await open(url);
    const reader = await open(url);
    const v = await publish(store, 1);
    const fresh = ranked([3, 1, 0], [9, 8, 7]);
    await store.putUserRecs(v, 'user-2', fresh);
    await store.putUserRecs(v, 'newcomer', ranked([4], [1]));
    expect(await reader.getUserRecs(v, 'user-2')).toEqual(fresh);
    expect(await reader.getUserRecs(v, 'newcomer')).toEqual(ranked([4], [1]));
    expect(await reader.getUserRecs(v, 'user-3')).toEqual(versionData(1, 12).users[3].ranked);
    const w = await writeVersion(store, 2);
    await expectCode(store.putUserRecs(w.version, 'user-2', fresh), 'RTREC_ERR_STORE_VERSION_NOT_READY');
    await expectCode(store.putUserRecs(99, 'user-2', fresh), 'RTREC_ERR_STORE_VERSION_NOT_FOUND');
    await w.abort('test');
  });

  it('hands back the previous list itself while the stored one is unchanged, and a new one once it changes', async () => {
    const url = await setup.freshUrl();
    const store = await open(url);
    const v = await publish(store, 1);
    const first = await store.getUserRecs(v, 'user-2');
    expect(first).toBeDefined();
    expect(await store.getUserRecs(v, 'user-2', first)).toBe(first);
    const fresh = ranked([3, 1, 0], [9, 8, 7]);
    await store.putUserRecs(v, 'user-2', fresh);
    const after = await store.getUserRecs(v, 'user-2', first);
    expect(after).not.toBe(first);
    expect(after).toEqual(fresh);
    const similar = await store.getSimilarItems(v, versionData(1, 12).similar[0].subjectId);
    expect(await store.getSimilarItems(v, versionData(1, 12).similar[0].subjectId, similar)).toBe(similar);
  });

  it('adds item counters atomically per bucket, shared across readers, largest first', async () => {
    const url = await setup.freshUrl();
    const store = await open(url);
    const other = await open(url);
    await store.addItemCounters('x1', new Map([['a', 1], ['b', 2.5]]), 60_000);
    await Promise.all([other.addItemCounters('x1', new Map([['a', 5]]), 60_000), store.addItemCounters('x1', new Map([['c', 0.25]]), 60_000)]);
    await store.addItemCounters('x10', new Map([['b', 100]]), 60_000);
    expect(await other.topItemCounters('x1', 10)).toEqual([
      { itemId: 'a', value: 6 },
      { itemId: 'b', value: 2.5 },
      { itemId: 'c', value: 0.25 },
    ]);
    expect(await store.topItemCounters('x1', 1)).toEqual([{ itemId: 'a', value: 6 }]);
    expect(await store.topItemCounters('x10', 10)).toEqual([{ itemId: 'b', value: 100 }]);
    expect(await store.topItemCounters('none', 10)).toEqual([]);
  });

  it('reads the largest counters as a full sort would, ties by item id, after many adds', async () => {
    const url = await setup.freshUrl();
    const store = await open(url);
    const rng = createRng(21);
    const sums = new Map<string, number>();
    for (let round = 0; round < 20; round++) {
      const amounts = new Map<string, number>();
      for (let j = 0; j < 30; j++) {
        const itemId = `it-${rng.int(80)}`;
        // Whole and half amounts, so many counters tie.
        amounts.set(itemId, (amounts.get(itemId) ?? 0) + (1 + rng.int(4)) / 2);
      }
      for (const [itemId, amount] of amounts) sums.set(itemId, (sums.get(itemId) ?? 0) + amount);
      await store.addItemCounters('z1', amounts, 60_000);
    }
    const expected = [...sums].map(([itemId, value]) => ({ itemId, value })).sort((a, b) => b.value - a.value || (a.itemId < b.itemId ? -1 : 1));
    for (const limit of [1, 7, 25, 80, 200]) expect(await store.topItemCounters('z1', limit)).toEqual(expected.slice(0, limit));
  });
}
