import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.js';
import { deriveList, rankInFull, spareEntries, type ListUpdate } from './list-ranking.js';
import { explicitAlsModel, type ExplicitAls } from './test-support/explicit-als.js';
import type { UserInteractions } from './user-interactions.js';

const K = 8;
let als: ExplicitAls;
let scratch: Float32Array;

beforeAll(async () => {
  als = await explicitAlsModel(30, 40, 3);
  scratch = new Float32Array(als.model.numItems);
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
      let prev = rankInFull(als.model, 'newcomer', before, K, scratch)!;
      expect(prev.extended.items.length).toBe(K + spareEntries(K));
      for (let step = 0; step < 6; step++) {
        // Exclude an item of the current list half of the time, else any item.
        const pick = rng.next() < 0.5 ? prev.extended.items[rng.int(prev.extended.items.length)] : rng.int(als.model.numItems);
        const after = withExclude(before, [pick]);
        const derived = deriveList(before, prev, after, K);
        const full = rankInFull(als.model, 'newcomer', after, K, scratch)!;
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
    const prev = rankInFull(als.model, 'u', mine, K, scratch)!;
    const outside = [...Array(als.model.numItems).keys()].find((i) => !prev.extended.items.includes(i) && !mine.items.includes(i))!;
    const same = deriveList(mine, prev, withExclude(mine, [outside]), K)!;
    expect(same.unchanged).toBe(true);
    expect(same.extended).toBe(prev.extended);
    expect(deriveList(mine, prev, mine, K)).toMatchObject({ unchanged: true, extended: prev.extended });
  });

  it('refuses when the interactions changed, an exclusion was lifted, K differs or too few entries remain', () => {
    const mine: UserInteractions = { items: Int32Array.of(0, 3), values: Float32Array.of(4, 2), exclude: Int32Array.of(7) };
    const prev = rankInFull(als.model, 'u', mine, K, scratch)!;
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
    const prev = rankInFull(als.model, 'u', mine, K, scratch)!;
    expect(prev.exhaustive).toBe(true);
    expect(prev.extended.items.length).toBe(5);
    const after = withExclude(mine, [prev.extended.items[0]]);
    expectSameList(deriveList(mine, prev, after, K), rankInFull(als.model, 'u', after, K, scratch));
  });
});

describe('rankInFull', () => {
  it('gives a training user without interactions the model\u2019s own list, and an unknown one nothing', () => {
    const none: UserInteractions = { items: new Int32Array(0), values: new Float32Array(0), exclude: new Int32Array(0) };
    const own = als.model.recommend(3, { k: K + spareEntries(K) });
    expect([...rankInFull(als.model, 'u3', none, K, scratch)!.extended.items]).toEqual([...own.items]);
    expect(rankInFull(als.model, 'stranger', none, K, scratch)).toBeUndefined();
  });
});
