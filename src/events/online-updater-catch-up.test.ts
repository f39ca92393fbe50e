import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeOnEachStore } from '../../test/support/each-store.js';
import { publishModel } from '../jobs/publish.js';
import type { NewEvent } from '../store/event-log.js';
import type { CursorList, OnlineStore } from '../store/online-store.js';
import { openStore } from '../store/open-store.js';
import { loadEventConfig } from './event-config.js';
import { fixedModelSource, type ModelLookup, type ModelSource } from './model-source.js';
import { OnlineUpdater, type UpdateTarget } from './online-updater.js';
import { explicitAlsModel, type ExplicitAls } from './test-support/explicit-als.js';
import { updateTargetOf } from './test-support/update-target.js';

const K = 5;
const config = loadEventConfig('');

/** The store with the user-list writes numbered in `failures` (from 1) failing, as a store error would. */
function failingListWrites(store: OnlineStore, failures: readonly number[]): { store: OnlineStore; calls: number[] } {
  const calls: number[] = [];
  const proxy = new Proxy(store, {
    get(target, prop) {
      if (prop === 'putUserRecsBatch' || prop === 'putUserRecsIfCurrent') {
        return (version: number, lists: readonly CursorList[]) => {
          calls.push(lists.length);
          if (failures.includes(calls.length)) return Promise.reject(new Error('store went away'));
          return prop === 'putUserRecsBatch' ? target.putUserRecsBatch(version, lists) : target.putUserRecsIfCurrent(version, lists);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: proxy, calls };
}

/** The store with `before` run (once) just before its first user-list write goes ahead. */
function beforeFirstListWrite(store: OnlineStore, before: () => Promise<unknown>): OnlineStore {
  let pending: (() => Promise<unknown>) | undefined = before;
  const hooked = (name: 'putUserRecsBatch' | 'putUserRecsIfCurrent') =>
    async (...args: unknown[]) => {
      const run = pending;
      pending = undefined;
      await run?.();
      return (store[name] as (...a: unknown[]) => Promise<unknown>).apply(store, args);
    };
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'putUserRecsBatch' || prop === 'putUserRecsIfCurrent') return hooked(prop);
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A model source that has no model for the first `misses` lookups (a folder not deployed yet). */
function lateModel(model: ExplicitAls['model'], misses: number): ModelSource & { lookups: number } {
  const source = {
    lookups: 0,
    modelFor(served: Parameters<ModelSource['modelFor']>[0]): Promise<ModelLookup> {
      source.lookups++;
      if (source.lookups <= misses) return Promise.resolve({ reason: 'the model folder is not the model of this version yet' });
      return fixedModelSource(model).modelFor(served);
    },
  };
  return source;
}

function catchUpSuite(freshUrl: () => Promise<string>): void {
  let als: ExplicitAls;
  let url: string;
  let store: OnlineStore;
  let target: UpdateTarget;
  let n = 0;
  const rating = (userId: string): NewEvent => ({ eventId: `c${++n}`, userId, itemId: `i${n % 20}`, type: 'rating', value: 1 + (n % 5), ts: 1_000 + n });
  /** Logs one event for each of `users` without updating any list (as during a publish). */
  const logged = async (users: readonly string[]) => {
    await store.appendEvents(users.map(rating));
    return users;
  };
  const listed = async (users: readonly string[]) => (await Promise.all(users.map((u) => store.getUserRecs(target.version, u)))).filter((l) => l !== undefined).length;

  beforeAll(async () => {
    als = await explicitAlsModel(40, 30, 8);
  });
  // Each test gets its own store: a catch-up recomputes every user with events in it.
  beforeEach(async () => {
    url = await freshUrl();
    store = await openStore(url);
    const { version } = await publishModel(als.model, store, { topK: K, similarK: 3, progress: false });
    target = await updateTargetOf(store, version);
  });
  afterEach(async () => {
    await store.close();
  });

  it('a failed batch of a rebuild does not stop the later batches, and the rebuild says how many users were left out', async () => {
    // 300 users: batches of 256 and 44; the first write fails.
    const users = await logged(Array.from({ length: 300 }, (_, j) => `batch-${j}`));
    const failing = failingListWrites(store, [1]);
    const updater = new OnlineUpdater(failing.store, config, fixedModelSource(als.model));
    await expect(updater.rebuild(target)).rejects.toThrow(/^256 of 300 users were not updated: store went away$/);
    expect(failing.calls).toEqual([256, 44]);
    expect(await listed(users)).toBe(44);
  });

  it('catchUp retries the users of a failed batch until they are written', async () => {
    const users = await logged(Array.from({ length: 300 }, (_, j) => `batch-${j}`));
    const failing = failingListWrites(store, [1, 3]);
    const retries: { attempt: number; reason: string; users: number | undefined }[] = [];
    const updater = new OnlineUpdater(failing.store, config, fixedModelSource(als.model));
    const out = await updater.catchUp(target, { retryMs: [5], onRetry: ({ attempt, reason, users: left }) => retries.push({ attempt, reason, users: left }) });
    expect(out).toEqual({ state: 'done', users: 300, attempts: 3 });
    // First pass: the first batch fails; the retry fails again for those users only; then they are written.
    expect(failing.calls).toEqual([256, 44, 256, 256]);
    expect(retries).toEqual([
      { attempt: 1, reason: '256 of 300 users were not updated: store went away', users: 256 },
      { attempt: 2, reason: '256 of 256 users were not updated: store went away', users: 256 },
    ]);
    expect(await listed(users)).toBe(300);
  });

  it('catchUp waits for the version\u2019s model, reading the users with events again (events logged meanwhile too)', async () => {
    const early = await logged(['late-1', 'late-2']);
    const source = lateModel(als.model, 2);
    const updater = new OnlineUpdater(store, config, source);
    const reasons: string[] = [];
    const done = updater.catchUp(target, { retryMs: [20], onRetry: ({ reason, users }) => reasons.push(`${reason} (${users ?? 'all'})`) });
    // Logged while the model is missing: its ingest cannot write the list, the catch-up does.
    const later = await logged(['late-3']);
    expect(await done).toMatchObject({ state: 'done', attempts: 3 });
    expect(reasons).toEqual(Array(2).fill('the model folder is not the model of this version yet (all)'));
    expect(await listed([...early, ...later])).toBe(3);
    // Each list is what a fresh recomputation gives.
    const before = await store.getUserRecs(target.version, 'late-3');
    await new OnlineUpdater(store, config, fixedModelSource(als.model)).updateUsers(target, ['late-3']);
    expect(await store.getUserRecs(target.version, 'late-3')).toEqual(before);
  });

  it('a catch-up never overwrites the newer list another instance wrote between its read and its write', async () => {
    await logged(['mover']);
    // Another instance already serves the version: it wrote the user's list from the log.
    const other = new OnlineUpdater(store, config, fixedModelSource(als.model));
    await other.updateUsers(target, ['mover']);
    const top = (await store.getUserRecs(target.version, 'mover'))!.items[0];
    // This instance's catch-up reads the user's log; before it writes, the other instance logs a
    // dislike of the user's top item and writes the list without it (answering 202).
    const dislike: NewEvent = { eventId: 'mover-dislike', userId: 'mover', itemId: als.model.items.idOf(top), type: 'dislike', ts: 9_999 };
    const racing = beforeFirstListWrite(store, async () => {
      expect(await other.ingest(target, [dislike])).toMatchObject({ updatedUsers: 1 });
      expect([...(await store.getUserRecs(target.version, 'mover'))!.items]).not.toContain(top);
    });
    expect(await new OnlineUpdater(racing, config, fixedModelSource(als.model)).catchUp(target, { retryMs: [] })).toMatchObject({ state: 'done', users: 1 });
    // The catch-up's list from before the dislike was not written over it; it folded the dislike in.
    const after = (await store.getUserRecs(target.version, 'mover'))!;
    expect([...after.items]).not.toContain(top);
    await new OnlineUpdater(store, config, fixedModelSource(als.model)).updateUsers(target, ['mover']);
    expect(await store.getUserRecs(target.version, 'mover')).toEqual(after);
  });

  it('catchUp of a version pruned under it ends at once where the store refuses the writes (LMDB)', async () => {
    const users = await logged(['gone-1', 'gone-2']);
    const admin = await openStore(url);
    try {
      await publishModel((await explicitAlsModel(40, 30, 9)).model, admin, { topK: K, similarK: 3, progress: false });
      expect(await admin.prune(1, { retiredGraceMs: 0 })).toMatchObject({ deleted: [target.version] });
    } finally {
      await admin.close();
    }
    const retries: string[] = [];
    // The signal only bounds a catch-up that would retry forever (it then ends as stopped).
    const out = await new OnlineUpdater(store, config, fixedModelSource(als.model)).catchUp(target, { retryMs: [5], signal: AbortSignal.timeout(2_000), onRetry: ({ reason }) => retries.push(reason) });
    if (url.startsWith('lmdb:')) {
      // Deleted is final: no retry, and no warning per retry, forever.
      expect(out).toMatchObject({ state: 'not-applied', attempts: 1, reason: expect.stringMatching(/^2 of 2 users were not updated: version \d+ .*was deleted/) as unknown });
      expect(retries).toEqual([]);
    } else {
      // Redis cannot refuse: the lists land where no record points, and the next prune sweeps them.
      expect(out).toEqual({ state: 'done', users: users.length, attempts: 1 });
    }
  });

  it('catchUp stops when a later catch-up supersedes it, when stopped, and at once when waiting cannot help', async () => {
    const updater = new OnlineUpdater(store, config, lateModel(als.model, Infinity));
    const first = updater.catchUp(target, { retryMs: [10] });
    await new Promise((r) => setTimeout(r, 30));
    const next = await updateTargetOf(store, target.version);
    const controller = new AbortController();
    const second = updater.catchUp(next, { retryMs: [60_000], signal: controller.signal });
    expect(await first).toMatchObject({ state: 'superseded' });
    controller.abort();
    expect(await second).toEqual({ state: 'stopped', reason: 'the model folder is not the model of this version yet', attempts: 1 });
    const pop = new OnlineUpdater(store, config, { modelFor: () => Promise.resolve({ reason: 'no model folder', final: true }) });
    expect(await pop.catchUp(target, { retryMs: [60_000] })).toEqual({ state: 'not-applied', reason: 'no model folder', attempts: 1 });
  });
}

describeOnEachStore('OnlineUpdater catch-up of a version just served', catchUpSuite);
