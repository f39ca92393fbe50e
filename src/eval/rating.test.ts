import { describe, expect, it } from 'vitest';
import { RecError } from '../core/errors.js';
import { InteractionsBuilder } from '../data/interactions.js';
import { ratingMetrics, ratingMetricsOf, type ScoredPairs } from './rating.js';

function pairs(rows: readonly [number, number, number][]): ScoredPairs {
  return {
    length: rows.length,
    user: Int32Array.from(rows, (r) => r[0]),
    item: Int32Array.from(rows, (r) => r[1]),
    value: Float64Array.from(rows, (r) => r[2]),
  };
}

describe('ratingMetrics (hand-computed)', () => {
  // truth (user, item, rating): (0,0,4) (0,1,3) (1,0,5) (1,2,2)
  // preds: (0,0,3.5) (0,1,3) (1,0,4) plus (2,0,1) and (1,3,2) that match no truth row.
  // Inner join → y = [4,3,5], ŷ = [3.5,3,4], y − ŷ = [0.5,0,1].
  const truth = pairs([[0, 0, 4], [0, 1, 3], [1, 0, 5], [1, 2, 2]]);
  const preds = pairs([[2, 0, 1], [1, 0, 4], [0, 1, 3], [1, 3, 2], [0, 0, 3.5]]);

  it('joins on (user, item) and computes RMSE, MAE, R², explained variance', () => {
    const m = ratingMetrics(truth, preds);
    expect(m.pairs).toBe(3);
    expect(m.users).toBe(2);
    expect(m.rmse).toBeCloseTo(Math.sqrt((0.25 + 0 + 1) / 3), 12); // ≈ 0.6455
    expect(m.mae).toBeCloseTo((0.5 + 0 + 1) / 3, 12); // 0.5
    // ȳ = 4, SS_tot = 0 + 1 + 1 = 2, SS_res = 1.25 → R² = 1 − 1.25/2 = 0.375.
    expect(m.r2).toBeCloseTo(0.375, 12);
    // mean(y − ŷ) = 0.5, Var(y − ŷ) = (0 + 0.25 + 0.25)/3, Var(y) = 2/3 → EV = 1 − 0.5/2 = 0.75.
    expect(m.explainedVariance).toBeCloseTo(0.75, 12);
  });

  it('takes Interactions with ratings as truth', () => {
    const b = new InteractionsBuilder({ hasRating: true, hasTimestamp: false });
    for (const [u, i, r] of [[0, 0, 4], [0, 1, 3], [1, 0, 5], [1, 2, 2]]) b.addIndexed(u, i, r);
    expect(ratingMetrics(b.build(), preds)).toEqual(ratingMetrics(truth, preds));
  });

  it('refuses Interactions without ratings', () => {
    const b = new InteractionsBuilder({ hasRating: false, hasTimestamp: false });
    b.addIndexed(0, 0);
    expect(() => ratingMetrics(b.build(), preds)).toThrow(RecError);
    try {
      ratingMetrics(b.build(), preds);
    } catch (err) {
      expect((err as RecError).code).toBe('RTREC_ERR_EVAL_INPUT');
    }
  });

  it('a truth pair listed twice joins twice, as pandas.merge does', () => {
    // y = [4,4], ŷ = [2,2] → RMSE 2, MAE 2.
    const m = ratingMetrics(pairs([[0, 0, 4], [0, 0, 4]]), pairs([[0, 0, 2]]));
    expect(m.pairs).toBe(2);
    expect(m.rmse).toBeCloseTo(2, 12);
    expect(m.users).toBe(1);
  });

  it('follows scikit-learn when the truth is constant (force_finite) or has one row', () => {
    // Var(y) = 0 and perfect predictions → 1; imperfect → 0.
    expect(ratingMetricsOf([3, 3], [3, 3])).toMatchObject({ r2: 1, explainedVariance: 1, rmse: 0 });
    expect(ratingMetricsOf([3, 3], [2, 4])).toMatchObject({ r2: 0, explainedVariance: 0 });
    // y − ŷ = [1, 1]: constant error → Var(y − ŷ) = 0 → EV = 1 though R² = 1 − 2/2 = 0.
    const shifted = ratingMetricsOf([1, 3], [0, 2]);
    expect(shifted.explainedVariance).toBe(1);
    expect(shifted.r2).toBeCloseTo(0, 12);
    // One sample: R² is NaN in scikit-learn; EV has 0/0 → 1.
    const one = ratingMetricsOf([4], [3]);
    expect(one.r2).toBeNaN();
    expect(one.explainedVariance).toBe(1);
    expect(one.mae).toBe(1);
  });

  it('no joined rows gives NaN, and mismatched lengths throw', () => {
    const m = ratingMetrics(truth, pairs([[5, 5, 1]]));
    expect(m.pairs).toBe(0);
    expect(m.rmse).toBeNaN();
    expect(m.r2).toBeNaN();
    expect(() => ratingMetricsOf([1, 2], [1])).toThrow(RangeError);
  });
});
