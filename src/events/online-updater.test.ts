import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InteractionsBuilder } from '../data/interactions.js';
import { publishModel } from '../jobs/publish.js';
import { trainModel } from '../jobs/train.js';
import { TrainedModel } from '../models/trained-model.js';
import type { NewEvent } from '../store/event-log.js';
import type { OnlineStore } from '../store/online-store.js';
import { openStore } from '../store/open-store.js';
import { loadEventConfig } from './event-config.js';
import { fixedModelSource } from './model-source.js';
import { updateTargetOf } from './test-support/update-target.js';
import { OnlineUpdater, type UpdateTarget } from './online-updater.js';
import { explicitAlsModel, referenceFoldIn, type ExplicitAls } from './test-support/explicit-als.js';

const K = 10;
let dir: string;
let store: OnlineStore;
let als: ExplicitAls;
let target: UpdateTarget;
let seq = 0;

const rating = (userId: string, itemId: string, value: number): NewEvent => ({ eventId: `r${++seq}`, userId, itemId, type: 'rating', value, ts: seq });
const other = (userId: string, itemId: string, type: string): NewEvent => ({ eventId: `o${++seq}`, userId, itemId, type, ts: seq });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtrec-updater-'));
  store = await openStore(`lmdb://${dir}`);
  als = await explicitAlsModel();
  const { version } = await publishModel(als.model, store, { topK: K, similarK: 5, progress: false });
  target = await updateTargetOf(store, version);
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** The user's training ratings, item index → rating. */
function trainingRow(u: number): Map<number, number> {
  const { indptr, indices, data } = als.model.seen;
  const row = new Map<number, number>();
  for (let p = indptr[u]; p < indptr[u + 1]; p++) row.set(indices[p], data[p]);
  return row;
}

function expectList(actual: { items: Int32Array; scores: Float32Array } | undefined, expected: { items: number[]; scores: number[] }): void {
  expect(actual).toBeDefined();
  expect([...actual!.items]).toEqual(expected.items);
  actual!.scores.forEach((s, j) => expect(s).toBeCloseTo(expected.scores[j], 3));
}

describe('OnlineUpdater with explicit ALS on a real LMDB store', () => {
  it('for a training user without events, writes the model\u2019s own recommendations (fold-in of the training row)', async () => {
    const updater = new OnlineUpdater(store, loadEventConfig(''), fixedModelSource(als.model));
    expect(await updater.updateUsers(target, ['u7'])).toBe(1);
    const own = als.model.recommend(7, { k: K });
    expectList(await store.getUserRecs(target.version, 'u7'), { items: [...own.items], scores: [...own.scores] });
    expectList(await store.getUserRecs(target.version, 'u7'), referenceFoldIn(als.itemFactors, als.model.numItems, trainingRow(7), K));
  });

  it('folds ratings into the user step: equal to an independent least-squares solve on training + event ratings', async () => {
    const updater = new OnlineUpdater(store, loadEventConfig(''), fixedModelSource(als.model));
    const row = trainingRow(3);
    const [firstRated] = row.keys();
    const unrated = [...Array(als.model.numItems).keys()].filter((i) => !row.has(i)).slice(0, 2);
    const out = await updater.ingest(target, [rating('u3', `i${firstRated}`, 0.5), rating('u3', `i${unrated[0]}`, 5), other('u3', `i${unrated[1]}`, 'dislike'), other('u3', 'not-an-item', 'view')]);
    expect(out).toMatchObject({ updatedUsers: 1, version: target.version });
    expect(out.notApplied).toBeUndefined();
    // The event rating replaces the training rating; the new rating joins; the disliked item is never recommended.
    const rated = new Map(row);
    rated.set(firstRated, 0.5);
    rated.set(unrated[0], 5);
    const expected = referenceFoldIn(als.itemFactors, als.model.numItems, rated, K, new Set([unrated[1]]));
    expectList(await store.getUserRecs(target.version, 'u3'), expected);
    expect(expected.items).not.toEqual([...als.model.recommend(3, { k: K }).items]);
  });

  it('gives a user unknown at training time a personalised list from their first ratings', async () => {
    const updater = new OnlineUpdater(store, loadEventConfig(''), fixedModelSource(als.model));
    expect(await store.getUserRecs(target.version, 'newcomer')).toBeUndefined();
    await updater.ingest(target, [rating('newcomer', 'i4', 5), rating('newcomer', 'i9', 1)]);
    expectList(await store.getUserRecs(target.version, 'newcomer'), referenceFoldIn(als.itemFactors, als.model.numItems, new Map([[4, 5], [9, 1]]), K));
  });

  it('applies a retried event once and recomputes from the log (idempotent)', async () => {
    const updater = new OnlineUpdater(store, loadEventConfig(''), fixedModelSource(als.model));
    const e = rating('retry-user', 'i2', 4);
    const first = await updater.ingest(target, [e]);
    const again = await updater.ingest(target, [{ ...e, value: 1 }]);
    expect(again.results[0]).toEqual({ event: first.results[0].event, duplicate: true });
    expect((await store.userEvents('retry-user')).map((x) => x.value)).toEqual([4]);
    expectList(await store.getUserRecs(target.version, 'retry-user'), referenceFoldIn(als.itemFactors, als.model.numItems, new Map([[2, 4]]), K));
  });

  it('gives a user whose events leave no positive interaction the popular list without what they disliked or saw', async () => {
    const updater = new OnlineUpdater(store, loadEventConfig(''), fixedModelSource(als.model));
    const popular = [...target.popular.items];
    const popularWithout = (gone: ReadonlySet<number>) => popular.filter((i) => !gone.has(i)).slice(0, K);
    const expectPopular = async (userId: string, gone: ReadonlySet<number>) => {
      const list = await store.getUserRecs(target.version, userId);
      expect(list?.fromPopular).toBe(true);
      expect([...list!.items]).toEqual(popularWithout(gone));
    };
    // An unknown user who only dislikes, or (under a rating model) only views, items.
    await updater.ingest(target, [other('only-dislikes', `i${popular[0]}`, 'dislike')]);
    await expectPopular('only-dislikes', new Set([popular[0]]));
    await updater.ingest(target, [other('only-views', `i${popular[1]}`, 'view'), other('only-views', `i${popular[3]}`, 'click')]);
    await expectPopular('only-views', new Set([popular[1], popular[3]]));
    // An unknown user who rated an item, then disliked it: the list made from the rating goes.
    await updater.ingest(target, [rating('changed-mind', `i${popular[2]}`, 5)]);
    expect((await store.getUserRecs(target.version, 'changed-mind'))?.fromPopular).toBeUndefined();
    await updater.ingest(target, [other('changed-mind', `i${popular[2]}`, 'dislike')]);
    await expectPopular('changed-mind', new Set([popular[2]]));
    // A training user who dislikes every training item: no vector is left to rank by.
    const trained = [...trainingRow(5).keys()];
    await updater.ingest(target, trained.map((i) => other('u5', `i${i}`, 'dislike')));
    await expectPopular('u5', new Set(trained));
    // Another exclusion is derived from the list kept: still the popular list, one item fewer.
    await updater.ingest(target, [other('only-dislikes', `i${popular[4]}`, 'dislike')]);
    await expectPopular('only-dislikes', new Set([popular[0], popular[4]]));
    // A rating brings the personalised list back.
    await updater.ingest(target, [rating('only-dislikes', 'i4', 5)]);
    expectList(await store.getUserRecs(target.version, 'only-dislikes'), referenceFoldIn(als.itemFactors, als.model.numItems, new Map([[4, 5]]), K, new Set([popular[0], popular[4]])));
    expect((await store.getUserRecs(target.version, 'only-dislikes'))?.fromPopular).toBeUndefined();
  });

  it('applies a group still in flight for the old version to a version whose rebuild began meanwhile', async () => {
    const updater = new OnlineUpdater(store, loadEventConfig(''), fixedModelSource(als.model));
    const { version } = await publishModel(als.model, store, { topK: K, similarK: 5, progress: false, activate: false });
    const next = await updateTargetOf(store, version);
    // The group is logged after the rebuild read the users with events: the rebuild cannot see it.
    const ingested = updater.ingest(target, [rating('mid-switch', 'i6', 5)]);
    const rebuilt = updater.rebuild(next);
    expect(await ingested).toMatchObject({ version: target.version, updatedUsers: 1 });
    await rebuilt;
    const expected = referenceFoldIn(als.itemFactors, als.model.numItems, new Map([[6, 5]]), K);
    expectList(await store.getUserRecs(target.version, 'mid-switch'), expected);
    expectList(await store.getUserRecs(next.version, 'mid-switch'), expected);
  });

  it('logs but does not rewrite lists for a popularity model or a model of another version', async () => {
    const pop = new TrainedModel({ ...als.model, info: { ...als.model.info, type: 'pop' } });
    const other = new TrainedModel({ ...als.model, info: { ...als.model.info, createdAt: '1999-01-01T00:00:00.000Z' } });
    for (const [model, why] of [[pop, /logged only/], [other, /not the model of version/]] as const) {
      const updater = new OnlineUpdater(store, loadEventConfig(''), fixedModelSource(model));
      const out = await updater.ingest(target, [rating('pop-user', 'i1', 5)]);
      expect(out.notApplied?.reason).toMatch(why);
      expect(out.updatedUsers).toBe(0);
    }
    expect(await store.getUserRecs(target.version, 'pop-user')).toBeUndefined();
    expect((await store.userEvents('pop-user')).length).toBe(2);
  });
});

describe('OnlineUpdater with EASE (implicit strengths) on a real LMDB store', () => {
  it('folds in the user\u2019s item vector: summed weights, dislikes removed and never recommended', async () => {
    const b = new InteractionsBuilder({ hasRating: false, hasTimestamp: false });
    for (let u = 0; u < 30; u++) for (let t = 0; t < 4; t++) b.add(`e${u}`, `item${(u % 6) * 3 + ((t * 5 + u) % 7)}`);
    const ease = await trainModel({ interactions: b.build(), itemMetadata: null, source: 'test' }, { type: 'ease' });
    const easeDir = await mkdtemp(join(tmpdir(), 'rtrec-updater-ease-'));
    const easeStore = await openStore(`lmdb://${easeDir}`);
    try {
      const { version } = await publishModel(ease, easeStore, { topK: K, progress: false });
      const t = await updateTargetOf(easeStore, version);
      const updater = new OnlineUpdater(easeStore, loadEventConfig(''), fixedModelSource(ease));
      const ix = (id: string) => ease.items.indexOf(id);
      const out = await updater.ingest(t, [
        other('shopper', 'item3', 'view'),
        other('shopper', 'item3', 'click'),
        other('shopper', 'item4', 'purchase'),
        other('shopper', 'item5', 'view'),
        other('shopper', 'item5', 'dislike'),
        other('shopper', 'item9', 'dislike'),
      ]);
      expect(out.updatedUsers).toBe(1);
      // By hand: item3 = view 1 + click 2; item4 = purchase 5; item5 and item9 disliked.
      const pairs = [[ix('item3'), 3], [ix('item4'), 5]].sort((p, q) => p[0] - q[0]);
      const want = ease.recommendFromInteractions(Int32Array.from(pairs, (p) => p[0]), Float32Array.from(pairs, (p) => p[1]), { k: K, filter: { exclude: Int32Array.of(ix('item5'), ix('item9')) } });
      const got = await easeStore.getUserRecs(version, 'shopper');
      expect([...got!.items]).toEqual([...want.items]);
      expect([...got!.items]).not.toContain(ix('item5'));
      expect([...got!.items]).not.toContain(ix('item9'));
      expect([...got!.items]).not.toContain(ix('item3'));
    } finally {
      await easeStore.close();
      await rm(easeDir, { recursive: true, force: true });
    }
  });
});
