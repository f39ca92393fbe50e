import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.js';
import { InteractionsBuilder } from '../data/interactions.js';
import type { FlatRecommendations } from './lists.js';
import { relevantIndex } from './lists.js';
import { METRICS } from './metrics.js';
import { rankingMetrics } from './ranking.js';

const ln = Math.log;
const list = (...items: number[]) => Int32Array.from(items);

// Truth: u0 → {0,1,2}, u1 → {3}, u2 → {4,5} (no recommendations), u3 → nothing (recommendations only).
const truthSets = [new Set([0, 1, 2]), new Set([3]), new Set([4, 5])];
// Recommendations: u0 → [1,9,0,2], u1 → [5,6], u2 → none, u3 → [0,1,2].
const recs = [list(1, 9, 0, 2), list(5, 6), undefined, list(0, 1, 2)];

describe('rankingMetrics (hand-computed, Recommenders averaging)', () => {
  it('k = 3: users in both sides are u0 and u1; nDCG averages over the 3 truth users', () => {
    // u0's top 3 [1,9,0] hits item 1 at rank 1 and item 0 at rank 3; u1's [5,6] hits nothing.
    const m = rankingMetrics(truthSets, recs, 3);
    expect(m.users).toBe(2);
    expect(m.truthUsers).toBe(3);
    expect(m.precision).toBeCloseTo((2 / 3 + 0) / 2, 12); // 1/3
    expect(m.recall).toBeCloseTo((2 / 3 + 0) / 2, 12); // u0: 2 of 3 relevant
    // u0: sum of precisions at hits = 1/1 + 2/3 = 5/3; map divides by 3 relevant, map@3 by min(3,3).
    expect(m.map).toBeCloseTo((5 / 3 / 3 + 0) / 2, 12); // 5/18
    expect(m.mapAtK).toBeCloseTo((5 / 3 / 3 + 0) / 2, 12);
    const ndcgU0 = (1 / ln(2) + 1 / ln(4)) / (1 / ln(2) + 1 / ln(3) + 1 / ln(4));
    expect(m.ndcg).toBeCloseTo((ndcgU0 + 0 + 0) / 3, 12); // u2 (truth, no recommendations) adds 0
    expect(m.k).toBe(3);
  });

  it('k = 2 separates map (÷ relevant) from mapAtK (÷ min(relevant, k))', () => {
    // u0's top 2 [1,9]: one hit at rank 1, precision sum = 1.
    const m = rankingMetrics(truthSets, recs, 2);
    expect(m.precision).toBeCloseTo((1 / 2) / 2, 12);
    expect(m.recall).toBeCloseTo((1 / 3) / 2, 12);
    expect(m.map).toBeCloseTo((1 / 3) / 2, 12);
    expect(m.mapAtK).toBeCloseTo((1 / 2) / 2, 12);
    expect(m.ndcg).toBeCloseTo((1 / ln(2)) / (1 / ln(2) + 1 / ln(3)) / 3, 12);
  });

  it('a user only in the recommendations does not count', () => {
    const without = rankingMetrics(truthSets, recs.slice(0, 3), 3);
    const withU3 = rankingMetrics(truthSets, recs, 3);
    expect(withU3).toEqual(without);
  });

  it('a user in the truth without recommendations is left out of all but nDCG', () => {
    // Drop u2 from the truth: precision etc. unchanged, nDCG now over 2 truth users.
    const m = rankingMetrics(truthSets.slice(0, 2), recs, 3);
    const full = rankingMetrics(truthSets, recs, 3);
    expect(m.precision).toBe(full.precision);
    expect(m.map).toBe(full.map);
    expect(m.truthUsers).toBe(2);
    expect(m.ndcg).toBeCloseTo((full.ndcg * 3) / 2, 12);
  });

  it('no hit anywhere gives 0 for every metric (Recommenders returns 0.0 early)', () => {
    const m = rankingMetrics([new Set([1])], [list(2, 3)], 10);
    expect(m).toMatchObject({ precision: 0, recall: 0, ndcg: 0, map: 0, mapAtK: 0, users: 1, truthUsers: 1 });
    const none = rankingMetrics([new Set([1])], [], 10);
    expect(none).toMatchObject({ precision: 0, ndcg: 0, users: 0 });
  });

  it('Interactions truth (with a repeated pair), Set truth and a flat batch agree', () => {
    const b = new InteractionsBuilder({ hasRating: false, hasTimestamp: false });
    for (const [u, items] of truthSets.entries()) for (const i of items) b.addIndexed(u, i);
    b.addIndexed(0, 1); // repeated pair counts once
    const fromInteractions = rankingMetrics(b.build(), recs, 3);
    const fromSets = rankingMetrics(truthSets, recs, 3);
    expect(fromInteractions).toEqual(fromSets);

    const flat: FlatRecommendations = { users: list(3, 1, 0), width: 4, items: list(0, 1, 2, -1, 5, 6, -1, -1, 1, 9, 0, 2) };
    expect(rankingMetrics(truthSets, flat, 3)).toEqual(fromSets);
    expect(rankingMetrics(relevantIndex(truthSets), recs, 3)).toEqual(fromSets);
  });

  it('rejects a flat batch with a repeated user or a wrong size, and k < 1', () => {
    expect(() => rankingMetrics(truthSets, { users: list(0, 0), width: 1, items: list(1, 2) }, 1)).toThrow(RangeError);
    expect(() => rankingMetrics(truthSets, { users: list(0), width: 2, items: list(1) }, 1)).toThrow(RangeError);
    expect(() => rankingMetrics(truthSets, recs, 0)).toThrow(RangeError);
  });

  it('equals the per-user METRICS averaged the Recommenders way on random data', () => {
    const rng = createRng(7);
    const numUsers = 200, numItems = 60;
    const truth: (Set<number> | undefined)[] = [];
    const lists: (Int32Array | undefined)[] = [];
    for (let u = 0; u < numUsers; u++) {
      if (rng.next() < 0.85) {
        const s = new Set<number>();
        const n = 1 + rng.int(15);
        while (s.size < n) s.add(rng.int(numItems));
        truth[u] = s;
      }
      if (rng.next() < 0.85) {
        const len = rng.int(14); // sometimes empty, sometimes shorter or longer than k
        const items = new Set<number>();
        while (items.size < len) items.add(rng.int(numItems));
        lists[u] = Int32Array.from(items);
      }
    }
    for (const k of [1, 5, 10, 20]) {
      const m = rankingMetrics(truth, lists, k);
      const both = [...Array(numUsers).keys()].filter((u) => truth[u] && lists[u] && lists[u].length > 0);
      const inTruth = [...Array(numUsers).keys()].filter((u) => truth[u]);
      const mean = (fn: (typeof METRICS)[keyof typeof METRICS], over: number[], n: number) =>
        over.reduce((s, u) => s + fn(truth[u]!, lists[u]!, k), 0) / n;
      expect(m.users).toBe(both.length);
      expect(m.truthUsers).toBe(inTruth.length);
      expect(m.precision).toBeCloseTo(mean(METRICS.precision, both, both.length), 12);
      expect(m.recall).toBeCloseTo(mean(METRICS.recall, both, both.length), 12);
      expect(m.map).toBeCloseTo(mean(METRICS.map, both, both.length), 12);
      expect(m.mapAtK).toBeCloseTo(mean(METRICS.mapAtK, both, both.length), 12);
      expect(m.ndcg).toBeCloseTo(mean(METRICS.ndcg, both, inTruth.length), 12);
    }
  });
});
