/** @module Tests of the train/test splitters: per-group counts, determinism, no leakage, time order, errors. */
import { describe, expect, it } from 'vitest';
import { RecError } from '../core/errors.js';
import { InteractionsBuilder, type Interactions } from './interactions.js';
import { carveValidation, splitInteractions, type Split, type SplitOptions } from './split.js';

interface Row {
  user: string;
  item: string;
  ts?: number;
}

/** Builds interactions whose rating is the 0-based row index, so a row can be traced through a split. */
function build(rows: readonly Row[], withTime = true): Interactions {
  const b = new InteractionsBuilder({ hasRating: true, hasTimestamp: withTime });
  rows.forEach((r, i) => b.add(r.user, r.item, i, r.ts ?? 0));
  return b.build();
}

/** `counts` interactions for users u0, u1, ... (user k has counts[k] rows on distinct items, timestamps given by `ts`). */
function usersWithCounts(counts: readonly number[], ts: (user: number, j: number) => number = (_, j) => j): Interactions {
  const rows: Row[] = [];
  counts.forEach((c, u) => {
    for (let j = 0; j < c; j++) rows.push({ user: `u${u}`, item: `i${j}`, ts: ts(u, j) });
  });
  return build(rows);
}

function rowIds(x: Interactions): number[] {
  return Array.from(x.rating!);
}

function perUserCounts(x: Interactions): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < x.length; i++) {
    const id = x.users.idOf(x.user[i]);
    m.set(id, (m.get(id) ?? 0) + 1);
  }
  return m;
}

function expectPartition(x: Interactions, split: Split, expectedRows: readonly number[] = rowIds(x)): void {
  const train = rowIds(split.train);
  const test = rowIds(split.test);
  const trainSet = new Set(train);
  expect(test.filter((r) => trainSet.has(r))).toEqual([]);
  expect([...train, ...test].sort((a, b) => a - b)).toEqual([...expectedRows].sort((a, b) => a - b));
  // Input order is kept within each side.
  expect(train).toEqual([...train].sort((a, b) => a - b));
  expect(test).toEqual([...test].sort((a, b) => a - b));
  // Each row keeps its user and item.
  for (const side of [split.train, split.test]) {
    for (let j = 0; j < side.length; j++) {
      const i = side.rating![j];
      expect(side.user[j]).toBe(x.user[i]);
      expect(side.item[j]).toBe(x.item[i]);
      expect(side.timestamp![j]).toBe(x.timestamp![i]);
    }
  }
}

function expectSplitError(x: Interactions, options: SplitOptions, pattern: RegExp): void {
  let caught: unknown;
  try {
    splitInteractions(x, options);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(RecError);
  expect((caught as RecError).code).toBe('RTREC_ERR_SPLIT_INVALID');
  expect((caught as RecError).message).toMatch(pattern);
}

const many = usersWithCounts(Array.from({ length: 40 }, (_, u) => 3 + (u % 9)));

describe('random split', () => {
  it('puts exactly round(ratio · n) rows in train', () => {
    const x10 = usersWithCounts([10]);
    const s = splitInteractions(x10, { strategy: 'random', ratio: 0.75 });
    expect(s.train.length).toBe(8); // round(7.5)
    expect(s.test.length).toBe(2);
    const x7 = usersWithCounts([7]);
    expect(splitInteractions(x7, { strategy: 'random', ratio: 0.5 }).train.length).toBe(4); // round(3.5)
    expect(splitInteractions(x7, { strategy: 'random', ratio: 0.2 }).train.length).toBe(1); // round(1.4)
  });

  it('partitions the input and shares the id maps', () => {
    const s = splitInteractions(many, { strategy: 'random', ratio: 0.6, seed: 7 });
    expectPartition(many, s);
    expect(s.train.users).toBe(many.users);
    expect(s.test.items).toBe(many.items);
  });

  it('is deterministic per seed and changes with the seed', () => {
    const a = splitInteractions(many, { strategy: 'random', seed: 1 });
    const b = splitInteractions(many, { strategy: 'random', seed: 1 });
    const c = splitInteractions(many, { strategy: 'random', seed: 2 });
    expect(rowIds(a.train)).toEqual(rowIds(b.train));
    expect(rowIds(a.train)).not.toEqual(rowIds(c.train));
    // Default seed is 42.
    expect(rowIds(splitInteractions(many, { strategy: 'random' }).test)).toEqual(rowIds(splitInteractions(many, { strategy: 'random', seed: 42 }).test));
  });

  it('gives every row the same chance of training', () => {
    const x = usersWithCounts([5]);
    const trained = new Array<number>(5).fill(0);
    for (let seed = 0; seed < 500; seed++) for (const r of splitInteractions(x, { strategy: 'random', ratio: 0.4, seed }).train.rating!) trained[r]++;
    for (const t of trained) expect(t).toBeGreaterThan(140); // expected 500 · 2/5 = 200 each
  });

  it('does not mutate the input', () => {
    const before = rowIds(many);
    const users = Array.from(many.user);
    splitInteractions(many, { strategy: 'random' });
    expect(rowIds(many)).toEqual(before);
    expect(Array.from(many.user)).toEqual(users);
  });
});

describe('stratified split (Recommenders rank rule)', () => {
  it('trains the largest r with r / c <= ratio in each user group', () => {
    // c → train count at 0.75: 1→0 (1/1 > .75), 2→1, 3→2, 4→3, 5→3 (3.75), 10→7 (7.5).
    const x = usersWithCounts([1, 2, 3, 4, 5, 10]);
    const s = splitInteractions(x, { strategy: 'stratified', ratio: 0.75 });
    expectPartition(x, s);
    const train = perUserCounts(s.train);
    const test = perUserCounts(s.test);
    expect([0, 1, 2, 3, 4, 5].map((u) => train.get(`u${u}`) ?? 0)).toEqual([0, 1, 2, 3, 3, 7]);
    expect([0, 1, 2, 3, 4, 5].map((u) => test.get(`u${u}`) ?? 0)).toEqual([1, 1, 1, 1, 2, 3]);
  });

  it('includes the boundary r / c == ratio in train', () => {
    // 4/5 == 0.8 and 7/10 == 0.7 exactly as float64 divisions, so they train.
    const x = usersWithCounts([5, 10]);
    expect(perUserCounts(splitInteractions(x, { strategy: 'stratified', ratio: 0.8 }).train).get('u0')).toBe(4);
    expect(perUserCounts(splitInteractions(x, { strategy: 'stratified', ratio: 0.7 }).train).get('u1')).toBe(7);
  });

  it('groups by item when asked', () => {
    // Items get 4 and 2 interactions from distinct users.
    const rows: Row[] = [
      { user: 'a', item: 'x' }, { user: 'b', item: 'x' }, { user: 'c', item: 'x' }, { user: 'd', item: 'x' },
      { user: 'a', item: 'y' }, { user: 'b', item: 'y' },
    ];
    const x = build(rows);
    const s = splitInteractions(x, { strategy: 'stratified', by: 'item', ratio: 0.75 });
    expectPartition(x, s);
    const trainItems = Array.from(s.train.item, (i) => x.items.idOf(i)).sort();
    expect(trainItems).toEqual(['x', 'x', 'x', 'y']);
  });

  it('drops groups below minRating from both sides', () => {
    const x = usersWithCounts([1, 2, 3, 4]);
    const s = splitInteractions(x, { strategy: 'stratified', minRating: 3 });
    const kept = rowIds(x).filter((i) => x.users.idOf(x.user[i]) === 'u2' || x.users.idOf(x.user[i]) === 'u3');
    expectPartition(x, s, kept);
    expect(perUserCounts(s.train)).toEqual(new Map([['u2', 2], ['u3', 3]]));
  });

  it('is deterministic per seed, and the seed changes which rows are held out', () => {
    const a = splitInteractions(many, { strategy: 'stratified', seed: 5 });
    const b = splitInteractions(many, { strategy: 'stratified', seed: 5 });
    const c = splitInteractions(many, { strategy: 'stratified', seed: 6 });
    expect(rowIds(a.test)).toEqual(rowIds(b.test));
    expect(rowIds(a.test)).not.toEqual(rowIds(c.test));
    // Counts per user depend only on the rule, not the seed.
    expect(perUserCounts(a.test)).toEqual(perUserCounts(c.test));
  });

  it('picks every row of a group with roughly equal chance over seeds', () => {
    const x = usersWithCounts([4]);
    const heldOut = new Array<number>(4).fill(0);
    for (let seed = 0; seed < 400; seed++) heldOut[splitInteractions(x, { strategy: 'stratified', seed }).test.rating![0]]++;
    for (const h of heldOut) expect(h).toBeGreaterThan(60); // expected 100 each
  });
});

describe('chronological split', () => {
  // Timestamps deliberately out of row order: user u's j-th row has time (j * 7) % c.
  const x = usersWithCounts([3, 4, 5, 8, 1], (u, j) => ((j * 7) % (u + 3)) * 100 + u);

  it('puts each user\'s earliest fraction in train by the rank rule', () => {
    const s = splitInteractions(x, { strategy: 'chronological', ratio: 0.75 });
    expectPartition(x, s);
    const train = perUserCounts(s.train);
    expect(['u0', 'u1', 'u2', 'u3', 'u4'].map((u) => train.get(u) ?? 0)).toEqual([2, 3, 3, 6, 0]);
  });

  it('never has a test interaction earlier than a train interaction of the same user', () => {
    const s = splitInteractions(x, { strategy: 'chronological', ratio: 0.5 });
    for (let u = 0; u < x.users.size; u++) {
      const trainTimes = Array.from(s.train.timestamp!).filter((_, j) => s.train.user[j] === u);
      const testTimes = Array.from(s.test.timestamp!).filter((_, j) => s.test.user[j] === u);
      if (trainTimes.length && testTimes.length) expect(Math.min(...testTimes)).toBeGreaterThanOrEqual(Math.max(...trainTimes));
    }
  });

  it('breaks timestamp ties by row order', () => {
    const tied = build([{ user: 'a', item: 'p', ts: 5 }, { user: 'a', item: 'q', ts: 5 }, { user: 'a', item: 'r', ts: 1 }, { user: 'a', item: 's', ts: 5 }]);
    const s = splitInteractions(tied, { strategy: 'chronological', ratio: 0.5 });
    expect(rowIds(s.train)).toEqual([0, 2]);
    expect(rowIds(s.test)).toEqual([1, 3]);
  });

  it('requires timestamps', () => {
    const noTime = build([{ user: 'a', item: 'p' }, { user: 'a', item: 'q' }], false);
    expectSplitError(noTime, { strategy: 'chronological' }, /no timestamp column/);
    expectSplitError(noTime, { strategy: 'leave-last-n-out' }, /no timestamp column/);
  });
});

describe('leave-last-n-out split', () => {
  const rows: Row[] = [
    { user: 'a', item: 'p', ts: 30 }, // 0
    { user: 'b', item: 'p', ts: 10 }, // 1
    { user: 'a', item: 'q', ts: 10 }, // 2
    { user: 'a', item: 'r', ts: 40 }, // 3
    { user: 'c', item: 'q', ts: 5 }, //  4
    { user: 'a', item: 's', ts: 20 }, // 5
    { user: 'b', item: 'r', ts: 50 }, // 6
  ];
  const x = build(rows);

  it('holds out exactly each user\'s n latest interactions', () => {
    const s1 = splitInteractions(x, { strategy: 'leave-last-n-out' });
    expect(rowIds(s1.test)).toEqual([3, 6]); // a's ts 40, b's ts 50; c has 1 ≤ n so stays in train
    expect(rowIds(s1.train)).toEqual([0, 1, 2, 4, 5]);
    const s2 = splitInteractions(x, { strategy: 'leave-last-n-out', n: 2 });
    expect(rowIds(s2.test)).toEqual([0, 3]); // a's ts 30 and 40; b has 2 ≤ n
    expectPartition(x, s2);
  });

  it('keeps users with n or fewer interactions wholly in train', () => {
    const s = splitInteractions(x, { strategy: 'leave-last-n-out', n: 4 });
    expect(s.test.length).toBe(0);
    expect(s.train.length).toBe(x.length);
  });
});

describe('split errors and validation helper', () => {
  it('rejects impossible parameters with RTREC_ERR_SPLIT_INVALID', () => {
    for (const ratio of [0, 1, 1.5, -0.2, Number.NaN]) expectSplitError(many, { strategy: 'random', ratio }, /strictly between 0 and 1/);
    expectSplitError(many, { strategy: 'stratified', ratio: 1 }, /strictly between 0 and 1/);
    expectSplitError(many, { strategy: 'leave-last-n-out', n: 0 }, /n must be a whole number >= 1/);
    expectSplitError(many, { strategy: 'leave-last-n-out', n: 1.5 }, /n must be a whole number/);
    expectSplitError(many, { strategy: 'stratified', minRating: 0 }, /minRating/);
    expectSplitError(many, { strategy: 'stratified', minRating: 1000 }, /nothing is left/);
    expectSplitError(many, { strategy: 'stratified', by: 'session' as never }, /by must be one of/);
    expectSplitError(many, { strategy: 'kfold' as never }, /unknown split strategy/);
    expectSplitError(build([]), { strategy: 'random' }, /empty/);
  });

  it('carves validation from train with the same rule', () => {
    const { train } = splitInteractions(many, { strategy: 'stratified', seed: 3 });
    const v = carveValidation(train, { strategy: 'stratified', seed: 9 });
    const direct = splitInteractions(train, { strategy: 'stratified', seed: 9 });
    expect(rowIds(v.train)).toEqual(rowIds(direct.train));
    expect(rowIds(v.validation)).toEqual(rowIds(direct.test));
    // Ratings are row indices of `many`, so check the partition against it, restricted to train's rows.
    expectPartition(many, { train: v.train, test: v.validation }, rowIds(train));
  });
});
