/**
 * @module Rating-prediction metrics as Microsoft Recommenders' python_evaluation computes them:
 * truth and predictions are inner-joined on (user, item) like pandas.merge (every matching pair of rows,
 * so a repeated pair appears once per match), then RMSE, MAE and scikit-learn's r2_score and
 * explained_variance_score are taken over the joined rows. Sums run in float64, variances two-pass.
 */
import { RecError } from '../core/errors.js';
import type { Interactions } from '../data/interactions.js';

/** Parallel columns of (user, item, value) rows in dense indices. */
export interface ScoredPairs {
  readonly length: number;
  readonly user: Int32Array;
  readonly item: Int32Array;
  readonly value: Float32Array | Float64Array;
}

/** Rating metrics; NaN when no prediction joins the truth (and r2 when fewer than 2 rows join). */
export interface RatingMetrics {
  /** √(mean (y − ŷ)²), in rating units. */
  rmse: number;
  /** mean |y − ŷ|, in rating units. */
  mae: number;
  /** 1 − Σ(y − ŷ)² / Σ(y − ȳ)² (scikit-learn r2_score, force_finite); ≤ 1. */
  r2: number;
  /** 1 − Var(y − ŷ) / Var(y) (scikit-learn explained_variance_score, force_finite); ≤ 1. */
  explainedVariance: number;
  /** Joined rows the metrics are over. */
  pairs: number;
  /** Distinct users among the joined rows. */
  users: number;
}

/**
 * Joins predictions onto the truth on (user, item) and computes the rating metrics.
 * @param truth rated rows; an Interactions log must carry ratings.
 * @param predictions predicted ratings per (user, item).
 * @throws RTREC_ERR_EVAL_INPUT when the truth has no ratings.
 */
export function ratingMetrics(truth: Interactions | ScoredPairs, predictions: ScoredPairs): RatingMetrics {
  const truthPairs = toPairs(truth);
  const { yTrue, yPred, users } = joinOnPairs(truthPairs, predictions);
  return { ...ratingMetricsOf(yTrue, yPred), pairs: yTrue.length, users };
}

/**
 * RMSE, MAE, R² and explained variance of already-aligned arrays (same length).
 * scikit-learn's force_finite rule: when Var(y) = 0 the score is 1 if the numerator is also 0, else 0.
 */
export function ratingMetricsOf(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): Omit<RatingMetrics, 'pairs' | 'users'> {
  const n = yTrue.length;
  if (yPred.length !== n) throw new RangeError(`yTrue has ${n} values but yPred has ${yPred.length}`);
  if (n === 0) return { rmse: NaN, mae: NaN, r2: NaN, explainedVariance: NaN };
  let sumTrue = 0, sumDiff = 0, sumSq = 0, sumAbs = 0;
  for (let i = 0; i < n; i++) {
    const d = yTrue[i] - yPred[i];
    sumTrue += yTrue[i];
    sumDiff += d;
    sumSq += d * d;
    sumAbs += Math.abs(d);
  }
  const meanTrue = sumTrue / n, meanDiff = sumDiff / n;
  let ssTot = 0, ssDiff = 0;
  for (let i = 0; i < n; i++) {
    const t = yTrue[i] - meanTrue;
    const d = yTrue[i] - yPred[i] - meanDiff;
    ssTot += t * t;
    ssDiff += d * d;
  }
  return {
    rmse: Math.sqrt(sumSq / n),
    mae: sumAbs / n,
    // scikit-learn returns NaN (with a warning) for R² of fewer than two samples.
    r2: n < 2 ? NaN : finiteScore(sumSq, ssTot),
    explainedVariance: finiteScore(ssDiff, ssTot),
  };
}

function finiteScore(numerator: number, denominator: number): number {
  if (denominator === 0) return numerator === 0 ? 1 : 0;
  return 1 - numerator / denominator;
}

function toPairs(truth: Interactions | ScoredPairs): ScoredPairs {
  if ('value' in truth) return truth;
  if (!truth.rating) throw new RecError('RTREC_ERR_EVAL_INPUT', 'rating metrics need truth ratings, but the truth has no rating column');
  return { length: truth.length, user: truth.user, item: truth.item, value: truth.rating };
}

/** pandas.merge(truth, predictions, on=[user, item]) reduced to the two value columns. */
function joinOnPairs(truth: ScoredPairs, predictions: ScoredPairs): { yTrue: Float64Array; yPred: Float64Array; users: number } {
  let numItems = 0;
  for (let i = 0; i < predictions.length; i++) if (predictions.item[i] >= numItems) numItems = predictions.item[i] + 1;
  const key = (u: number, i: number) => u * numItems + i;
  // Chain prediction rows sharing a key: head maps key → first row, next[row] → following row or -1.
  const head = new Map<number, number>();
  const next = new Int32Array(predictions.length).fill(-1);
  const tail = new Map<number, number>();
  for (let r = 0; r < predictions.length; r++) {
    const kk = key(predictions.user[r], predictions.item[r]);
    const last = tail.get(kk);
    if (last === undefined) head.set(kk, r);
    else next[last] = r;
    tail.set(kk, r);
  }
  const yTrue: number[] = [];
  const yPred: number[] = [];
  const users = new Set<number>();
  for (let t = 0; t < truth.length; t++) {
    const item = truth.item[t];
    if (item >= numItems) continue;
    for (let r = head.get(key(truth.user[t], item)) ?? -1; r >= 0; r = next[r]) {
      yTrue.push(truth.value[t]);
      yPred.push(predictions.value[r]);
      users.add(truth.user[t]);
    }
  }
  return { yTrue: Float64Array.from(yTrue), yPred: Float64Array.from(yPred), users: users.size };
}
