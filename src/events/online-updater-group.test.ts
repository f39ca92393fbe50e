import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnEachStore } from '../../test/support/each-store.js';
import { createRng } from '../core/rng.js';
import { publishModel } from '../jobs/publish.js';
import type { AppendOptions, NewEvent } from '../store/event-log.js';
import type { CursorList, OnlineStore } from '../store/online-store.js';
import { openStore } from '../store/open-store.js';
import { loadEventConfig } from './event-config.js';
import { LivePopularity } from './live-popularity.js';
import { fixedModelSource } from './model-source.js';
import { updateTargetOf } from './test-support/update-target.js';
import { OnlineUpdater, type UpdateTarget } from './online-updater.js';
import { explicitAlsModel, type ExplicitAls } from './test-support/explicit-als.js';

const K = 10;
const config = loadEventConfig('');

/** The store with its appendEvents and putUserRecsIfCurrent calls recorded. */
function recorded(store: OnlineStore): { store: OnlineStore; appends: AppendOptions[]; listBatches: number[] } {
  const appends: AppendOptions[] = [];
  const listBatches: number[] = [];
  const proxy = new Proxy(store, {
    get(target, prop) {
      if (prop === 'appendEvents') {
        return (events: readonly NewEvent[], options?: AppendOptions) => {
          appends.push(options ?? {});
          return target.appendEvents(events, options);
        };
      }
      if (prop === 'putUserRecsIfCurrent') {
        return (version: number, lists: readonly CursorList[]) => {
          listBatches.push(lists.length);
          return target.putUserRecsIfCurrent(version, lists);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: proxy, appends, listBatches };
}

function updaterSuite(freshUrl: () => Promise<string>): void {
  let als: ExplicitAls;
  let store: OnlineStore;
  let target: UpdateTarget;
  let seq = 0;
  const event = (userId: string, itemId: string, type: string, value?: number): NewEvent => ({ eventId: `g${++seq}`, userId, itemId, type, ts: 1_000 + seq, ...(value === undefined ? {} : { value }) });

  beforeAll(async () => {
    als = await explicitAlsModel(40, 60, 6);
    store = await openStore(await freshUrl());
    const { version } = await publishModel(als.model, store, { topK: K, similarK: 5, progress: false });
    target = await updateTargetOf(store, version);
  });
  afterAll(async () => {
    await store.close();
  });

  /** Each user's stored list equals what an updater with nothing remembered computes from the whole log. */
  async function expectRecomputable(users: readonly string[]): Promise<void> {
    const stored = await Promise.all(users.map((u) => store.getUserRecs(target.version, u)));
    await new OnlineUpdater(store, config, fixedModelSource(als.model)).updateUsers(target, users);
    for (const [j, u] of users.entries()) {
      const fresh = await store.getUserRecs(target.version, u);
      expect([u, stored[j] && [...stored[j].items]]).toEqual([u, fresh && [...fresh.items]]);
      fresh?.scores.forEach((s, i) => expect(stored[j]!.scores[i]).toBeCloseTo(s, 4));
    }
  }

  it('logs the calls of one event-loop turn in one append, with per-call results, idempotency and counts once', async () => {
    const rec = recorded(store);
    const popularity = new LivePopularity(rec.store, { halfLifeHours: 1, now: () => 10_000 });
    const updater = new OnlineUpdater(rec.store, config, fixedModelSource(als.model), popularity);
    const retried: NewEvent = { eventId: 'same-id', userId: 'u3', itemId: 'i3', type: 'purchase', ts: 5_000 };
    const [r1, r2, r3] = await Promise.all([
      updater.ingest(target, [event('u1', 'i1', 'rating', 5), event('u2', 'i2', 'view')]),
      updater.ingest(target, [retried]),
      updater.ingest(target, [{ ...retried, itemId: 'i4' }, event('u1', 'i5', 'rating', 1)]),
    ]);
    expect(rec.appends).toHaveLength(1);
    expect(rec.appends[0].sync).toBe('commit');
    expect(r1.results.map((r) => [r.event.userId, r.event.itemId, r.duplicate])).toEqual([['u1', 'i1', false], ['u2', 'i2', false]]);
    expect(r2.results.map((r) => r.duplicate)).toEqual([false]);
    expect(r3.results[0]).toEqual({ event: r2.results[0].event, duplicate: true });
    expect(r3.results[1]).toMatchObject({ duplicate: false, event: { userId: 'u1', itemId: 'i5', value: 1 } });
    expect([r1.updatedUsers, r2.updatedUsers, r3.updatedUsers]).toEqual([2, 1, 2]);
    expect([r1.version, r2.version, r3.version]).toEqual([target.version, target.version, target.version]);
    // The retried purchase counts once (5, decayed by 5 s of a 1 h half-life); i4 of the duplicate never.
    const live = await popularity.top(10);
    expect(live.find((c) => c.itemId === 'i3')?.count).toBeCloseTo(5 * 2 ** (-5_000 / 3_600_000), 6);
    expect(live.find((c) => c.itemId === 'i4')).toBeUndefined();
    await expectRecomputable(['u1', 'u2', 'u3']);
  });

  it('keeps every list equal to a recomputation from the log over many small updates from two instances', async () => {
    const a = new OnlineUpdater(store, config, fixedModelSource(als.model));
    const b = new OnlineUpdater(store, config, fixedModelSource(als.model));
    const rng = createRng(23);
    const users = ['u4', 'u5', 'u6', 'fresh-1', 'fresh-2'];
    const types = ['view', 'view', 'click', 'purchase', 'dislike', 'rating', 'rating'];
    for (let round = 0; round < 30; round++) {
      // One instance per round: instances racing on one user may leave it stale until its next event.
      const updater = rng.next() < 0.6 ? a : b;
      const calls = Array.from({ length: 1 + rng.int(4) }, () => {
        const events = Array.from({ length: 1 + rng.int(3) }, () => {
          const type = types[rng.int(types.length)];
          return event(users[rng.int(users.length)], `i${rng.int(als.model.numItems)}`, type, type === 'rating' ? 1 + rng.int(5) : undefined);
        });
        return updater.ingest(target, events);
      });
      const outcomes = await Promise.all(calls);
      for (const o of outcomes) expect(o.notApplied).toBeUndefined();
    }
    await expectRecomputable(users);
  });

  it('a view of an item outside a rating model\u2019s list leaves the list as it was', async () => {
    const rec = recorded(store);
    const updater = new OnlineUpdater(rec.store, config, fixedModelSource(als.model));
    await updater.ingest(target, [event('u7', 'i1', 'rating', 4)]);
    const before = (await store.getUserRecs(target.version, 'u7'))!;
    const outside = [...Array(als.model.numItems).keys()].find((i) => !before.items.includes(i) && !als.model.hasSeen(7, i) && i !== 1)!;
    const out = await updater.ingest(target, [event('u7', `i${outside}`, 'view')]);
    expect(out.updatedUsers).toBe(1);
    expect(await store.getUserRecs(target.version, 'u7')).toEqual(before);
    // Where lists are not written with the append, the unchanged list is not written again either.
    if (!store.writesListsWithEvents) expect(rec.listBatches.at(-1)).toBe(0);
    const inside = before.items[0];
    await updater.ingest(target, [event('u7', `i${inside}`, 'purchase')]);
    expect([...(await store.getUserRecs(target.version, 'u7'))!.items]).not.toContain(inside);
    await expectRecomputable(['u7']);
  });

  it('waits for the flush to disk in strict mode', async () => {
    const rec = recorded(store);
    const updater = new OnlineUpdater(rec.store, config, fixedModelSource(als.model), undefined, { sync: 'fsync' });
    const out = await updater.ingest(target, [event('u8', 'i2', 'rating', 5)]);
    expect(out.results[0].duplicate).toBe(false);
    expect(rec.appends.map((o) => o.sync)).toEqual(['fsync']);
    expect((await store.userEvents('u8')).map((e) => e.itemId)).toEqual(['i2']);
    await expectRecomputable(['u8']);
  });
}

describeOnEachStore('OnlineUpdater group commit and incremental folds', updaterSuite);
