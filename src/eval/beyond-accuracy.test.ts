import { describe, expect, it } from 'vitest';
import { InteractionsBuilder, type Interactions } from '../data/interactions.js';
import { beyondAccuracyMetrics } from './beyond-accuracy.js';

function interactions(rows: readonly [number, number][]): Interactions {
  const b = new InteractionsBuilder({ hasRating: false, hasTimestamp: false });
  for (const [u, i] of rows) b.addIndexed(u, i);
  return b.build();
}

const list = (...items: number[]) => Int32Array.from(items);

describe('beyondAccuracyMetrics (hand-computed)', () => {
  // Train pairs (user: items): u0: 0,1,2   u1: 0,1   u2: 0,3   → N = 7 pairs, 4 distinct items.
  // Item users: n0 = 3, n1 = 2, n2 = 1, n3 = 1.
  // Co-occurrence: (0,1) = 2 [u0,u1], (0,2) = 1, (1,2) = 1, (0,3) = 1, (1,3) = 0, (2,3) = 0.
  const train = interactions([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [2, 0], [2, 3]]);
  // Top-k lists (k = 3): u3: [0,1,2], u4: [1,3], u5: [4] (item 4 is not in train).
  const recs = [undefined, undefined, undefined, list(0, 1, 2), list(1, 3), list(4)];

  it('catalog coverage = distinct recommended items / distinct train items', () => {
    // Recommended {0,1,2,3,4} = 5 items; train has 4 → 5/4 (items unseen in train still count, as in Recommenders).
    expect(beyondAccuracyMetrics(train, recs, 3).catalogCoverage).toBeCloseTo(5 / 4, 12);
  });

  it('distributional coverage = −Σ p log2 p over recommendation slots', () => {
    // 6 slots: item 1 twice (p = 2/6), items 0, 2, 3, 4 once (p = 1/6 each).
    const expected = -(2 / 6) * Math.log2(2 / 6) - 4 * (1 / 6) * Math.log2(1 / 6);
    expect(beyondAccuracyMetrics(train, recs, 3).distributionalCoverage).toBeCloseTo(expected, 12);
  });

  it('novelty = mean over slots of −log2(n_i / N); an item not in train adds 0 but its slot counts', () => {
    const nov = (n: number) => -Math.log2(n / 7);
    // slots: 0 (n=3), 1 (n=2), 2 (n=1), 1 (n=2), 3 (n=1), 4 (absent → 0); 6 slots.
    const expected = (nov(3) + nov(2) + nov(1) + nov(2) + nov(1) + 0) / 6;
    expect(beyondAccuracyMetrics(train, recs, 3).novelty).toBeCloseTo(expected, 12);
  });

  it('diversity = mean over users with ≥ 2 items of 1 − mean pairwise co-occurrence cosine', () => {
    // u3 pairs: sim(0,1) = 2/√(3·2), sim(0,2) = 1/√(3·1), sim(1,2) = 1/√(2·1).
    const u3 = 1 - (2 / Math.sqrt(6) + 1 / Math.sqrt(3) + 1 / Math.sqrt(2)) / 3;
    // u4 pair (1,3) never co-occurs → sim 0 → diversity 1. u5 has one item → left out.
    const u4 = 1;
    expect(beyondAccuracyMetrics(train, recs, 3).diversity).toBeCloseTo((u3 + u4) / 2, 12);
  });

  it('only the top k of each list counts', () => {
    // k = 1: slots are [0], [1], [4]; no user has 2 items → diversity NaN.
    const m = beyondAccuracyMetrics(train, recs, 1);
    expect(m.catalogCoverage).toBeCloseTo(3 / 4, 12);
    expect(m.distributionalCoverage).toBeCloseTo(Math.log2(3), 12);
    expect(m.novelty).toBeCloseTo((-Math.log2(3 / 7) - Math.log2(2 / 7) + 0) / 3, 12);
    expect(m.diversity).toBeNaN();
  });

  it('a repeated train pair counts once', () => {
    const withRepeat = interactions([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [2, 0], [2, 3], [0, 0], [2, 3]]);
    expect(beyondAccuracyMetrics(withRepeat, recs, 3)).toEqual(beyondAccuracyMetrics(train, recs, 3));
  });

  it('no recommendations gives NaN instead of dividing by zero', () => {
    const m = beyondAccuracyMetrics(train, [], 10);
    expect(m.catalogCoverage).toBe(0);
    expect(m.novelty).toBeNaN();
    expect(m.distributionalCoverage).toBeNaN();
    expect(m.diversity).toBeNaN();
  });
});
