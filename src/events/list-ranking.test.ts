import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.js';
import { popularityFromSeen } from '../jobs/publish.js';
import type { Ranked } from '../models/recommender.js';
import { deriveList, rankInFull, spareEntries, type ListUpdate } from './list-ranking.js';
import { explicitAlsModel, type ExplicitAls } from './test-support/explicit-als.js';
import type { UserInteractions } from './user-interactions.js';

const K = 8;
let als: ExplicitAls;
let scratch: Float32Array;
let popular: Ranked;

beforeAll(async () => {
  als = await explicitAlsModel(30, 40, 3);
  scratch = new Float32Array(als.model.numItems);
  popular = popularityFromSeen(als.model.seen, 30);
});

const sorted = (xs: Iterable<number>) => Int32Array.from(new Set(xs)).sort();
const withExclude = (mine: UserInteractions, extra: readonly number[]): UserInteractions => ({ ...mine, exclude: sorted([...mine.exclude, ...extra]) });

function expectSameList(actual: ListUpdate | undefined, expected: ListUpdate | undefined): void {
  expect(actual).toBeDefined();
  expect([...actual!.ranked.items]).toEqual([...expected!.ranked.items]);
  expect([...actual!.ranked.scores]).toEqual([...expected!.ranked.scores]);
}

describe('deriveList', () => {
  it('equals a full recomputation when events only exclude items, for random exclusions', () => {
    const rng = createRng(4);
    const mine: UserInteractions = { items: Int32Array.of(1, 5, 9), values: Float32Array.of(5, 3, 4), exclude: Int32Array.of(2) };
    for (let trial = 0; trial < 100; trial++) {
      let before = mine;
      let prev = rankInFull(als.model, 'newcomer', before, K, popular, scratch)!;
      expect(prev.extended.items.length).toBe(K + spareEntries(K));
      for (let step = 0; step < 6; step++) {
        // Exclude an item of the current list half of the time, else any item.
        const pick = rng.next() < 0.5 ? prev.extended.items[rng.int(prev.extended.items.length)] : rng.int(als.model.numItems);
        const after = withExclude(before, [pick]);
        const derived = deriveList(before, prev, after, K);
        const full = rankInFull(als.model, 'newcomer', after, K, popular, scratch)!;
        if (!derived) break; // too few spare entries left: the caller recomputes in full
        expectSameList(derived, full);
        expect(derived.unchanged).toBe([...prev.ranked.items].every((i) => i !== pick) || before.exclude.includes(pick));
        before = after;
        prev = derived;
      }
    }
  });

  it('returns the same list without copying when nothing in it is excluded', () => {
    const mine: UserInteractions = { items: Int32Array.of(0, 3), values: Float32Array.of(4, 2), exclude: new Int32Array(0) };
    const prev = rankInFull(als.model, 'u', mine, K, popular, scratch)!;
    const outside = [...Array(als.model.numItems).keys()].find((i) => !prev.extended.items.includes(i) && !mine.items.includes(i))!;
    const same = deriveList(mine, prev, withExclude(mine, [outside]), K)!;
    expect(same.unchanged).toBe(true);
    expect(same.extended).toBe(prev.extended);
    expect(deriveList(mine, prev, mine, K)).toMatchObject({ unchanged: true, extended: prev.extended });
  });

  it('refuses when the interactions changed, an exclusion was lifted, K differs or too few entries remain', () => {
    const mine: UserInteractions = { items: Int32Array.of(0, 3), values: Float32Array.of(4, 2), exclude: Int32Array.of(7) };
    const prev = rankInFull(als.model, 'u', mine, K, popular, scratch)!;
    expect(deriveList(mine, prev, { ...mine, values: Float32Array.of(4, 2) }, K)).toBeUndefined();
    expect(deriveList(mine, prev, { ...mine, exclude: new Int32Array(0) }, K)).toBeUndefined();
    expect(deriveList(mine, prev, mine, K + 1)).toBeUndefined();
    const spare = spareEntries(K);
    expect(deriveList(mine, prev, withExclude(mine, [...prev.extended.items.slice(0, spare)]), K)).toBeDefined();
    expect(deriveList(mine, prev, withExclude(mine, [...prev.extended.items.slice(0, spare + 1)]), K)).toBeUndefined();
  });

  it('keeps deriving from an exhaustive list (every item that qualifies is in it)', () => {
    const all = [...Array(als.model.numItems).keys()];
    // Leave five items recommendable: the list is shorter than K + spare, hence exhaustive.
    const mine: UserInteractions = { items: Int32Array.of(0, 1), values: Float32Array.of(5, 1), exclude: sorted(all.slice(7)) };
    const prev = rankInFull(als.model, 'u', mine, K, popular, scratch)!;
    expect(prev.exhaustive).toBe(true);
    expect(prev.extended.items.length).toBe(5);
    const after = withExclude(mine, [prev.extended.items[0]]);
    expectSameList(deriveList(mine, prev, after, K), rankInFull(als.model, 'u', after, K, popular, scratch));
  });
});

describe('rankInFull', () => {
  it('gives a training user without interactions the model\u2019s own list, and an unknown one nothing', () => {
    const none: UserInteractions = { items: new Int32Array(0), values: new Float32Array(0), exclude: new Int32Array(0) };
    const own = als.model.recommend(3, { k: K + spareEntries(K) });
    expect([...rankInFull(als.model, 'u3', none, K, popular, scratch)!.extended.items]).toEqual([...own.items]);
    expect(rankInFull(als.model, 'stranger', none, K, popular, scratch)).toBeUndefined();
  });

  it('gives a user with exclusions but no interactions the popular list without them, marked fromPopular', () => {
    const gone = [popular.items[0], popular.items[2], popular.items[5]];
    const mine: UserInteractions = { items: new Int32Array(0), values: new Float32Array(0), exclude: sorted(gone) };
    const kept = [...popular.items].filter((i) => !gone.includes(i));
    for (const userId of ['u3', 'stranger']) {
      const list = rankInFull(als.model, userId, mine, K, popular, scratch)!;
      expect(list.ranked.fromPopular).toBe(true);
      expect(list.extended.fromPopular).toBe(true);
      expect([...list.ranked.items]).toEqual(kept.slice(0, K));
      expect([...list.ranked.scores]).toEqual(kept.slice(0, K).map((i) => popular.scores[[...popular.items].indexOf(i)]));
      expect([...list.extended.items]).toEqual(kept.slice(0, K + spareEntries(K)));
    }
  });

  it('derives from a popular-based list what a full recomputation gives, mark included, for random exclusions', () => {
    const rng = createRng(9);
    const empty: UserInteractions = { items: new Int32Array(0), values: new Float32Array(0), exclude: Int32Array.of(popular.items[1]) };
    for (let trial = 0; trial < 50; trial++) {
      let before = empty;
      let prev = rankInFull(als.model, 'stranger', before, K, popular, scratch)!;
      for (let step = 0; step < 8; step++) {
        const pick = rng.next() < 0.5 ? prev.extended.items[rng.int(prev.extended.items.length)] : rng.int(als.model.numItems);
        const after = withExclude(before, [pick]);
        const derived = deriveList(before, prev, after, K);
        if (!derived) break;
        const full = rankInFull(als.model, 'stranger', after, K, popular, scratch)!;
        expectSameList(derived, full);
        expect(derived.ranked.fromPopular).toBe(true);
        before = after;
        prev = derived;
      }
    }
  });
});
