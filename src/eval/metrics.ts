/**
 * @module Per-user ranking metrics at cut-off k, defined exactly as Microsoft Recommenders'
 * `recommenders/evaluation/python_evaluation.py` (relevancy_method 'top_k', score_type 'binary',
 * discfun_type 'loge'). Each takes one user's relevant items and ranked recommendations (dense item
 * indices, best first); `ranking.ts` averages them over users the way Recommenders does.
 *
 * Shared conventions: only the first k entries of `ranked` count; an item repeated in `ranked` counts
 * as a hit once (its first occurrence) and a negative entry ends the list (padding); a list shorter than
 * k still divides precision by k (Recommenders: "the maximum achievable precision may be < 1").
 */

/** Default cut-off, as Recommenders' DEFAULT_K. */
export const DEFAULT_K = 10;

/** One user's metric: relevant item indices, recommended item indices best first, cut-off k ≥ 1. */
export type PerUserMetric = (relevant: ReadonlySet<number>, ranked: Int32Array, k: number) => number;

/**
 * What one user's top-k list achieves, the sufficient statistics of every metric here.
 * `hits`: relevant items in the top k; `dcg`: Σ over hits of 1/ln(1 + rank);
 * `precisionSum`: Σ over hits of (hit number)/rank, the numerator of average precision;
 * `firstHitRank`: 1-based rank of the first hit, 0 when none.
 */
export interface HitStats {
  hits: number;
  dcg: number;
  precisionSum: number;
  firstHitRank: number;
}

/** Walks the top k of `ranked` once and collects the hit statistics. */
export function hitStats(relevant: ReadonlySet<number>, ranked: Int32Array, k: number): HitStats {
  checkK(k);
  const stats: HitStats = { hits: 0, dcg: 0, precisionSum: 0, firstHitRank: 0 };
  let counted: Set<number> | undefined;
  const n = Math.min(ranked.length, k);
  for (let r = 0; r < n; r++) {
    const item = ranked[r];
    if (item < 0) break;
    if (!relevant.has(item)) continue;
    counted ??= new Set();
    if (counted.has(item)) continue;
    counted.add(item);
    const rank = r + 1;
    stats.hits++;
    stats.dcg += 1 / Math.log(1 + rank);
    stats.precisionSum += stats.hits / rank;
    if (stats.firstHitRank === 0) stats.firstHitRank = rank;
  }
  return stats;
}

/**
 * Ideal DCG at k for a user with `numRelevant` relevant items: Σ_{i=1}^{min(numRelevant, k)} 1/ln(1 + i).
 * The natural log is Recommenders' default discount; the base cancels in DCG/IDCG anyway.
 */
export function idealDcg(numRelevant: number, k: number): number {
  let sum = 0;
  const m = Math.min(numRelevant, k);
  for (let i = 1; i <= m; i++) sum += 1 / Math.log(1 + i);
  return sum;
}

/** Precision@k = hits in top k / k. Range [0, 1]. */
export const precisionAtK: PerUserMetric = (relevant, ranked, k) => hitStats(relevant, ranked, k).hits / k;

/** Recall@k = hits in top k / |relevant|; 0 when nothing is relevant. Range [0, 1]. */
export const recallAtK: PerUserMetric = (relevant, ranked, k) =>
  relevant.size === 0 ? 0 : hitStats(relevant, ranked, k).hits / relevant.size;

/**
 * nDCG@k with binary gain: DCG = Σ over hits 1/ln(1 + rank), divided by {@link idealDcg}.
 * 0 when nothing is relevant. Range [0, 1]. https://en.wikipedia.org/wiki/Discounted_cumulative_gain
 */
export const ndcgAtK: PerUserMetric = (relevant, ranked, k) =>
  relevant.size === 0 ? 0 : hitStats(relevant, ranked, k).dcg / idealDcg(relevant.size, k);

/**
 * Average precision over the top k normalised by all relevant items (Recommenders' `map`, after Spark
 * MLlib's meanAveragePrecision): Σ over hits of (hit number / rank) / |relevant|. Range [0, 1].
 */
export const averagePrecision: PerUserMetric = (relevant, ranked, k) =>
  relevant.size === 0 ? 0 : hitStats(relevant, ranked, k).precisionSum / relevant.size;

/**
 * Average precision at k (Recommenders' `map_at_k`, Spark's meanAveragePrecisionAt(k)): the same sum
 * divided by min(|relevant|, k), so a perfect top k scores 1 even when more items are relevant.
 */
export const mapAtK: PerUserMetric = (relevant, ranked, k) =>
  relevant.size === 0 ? 0 : hitStats(relevant, ranked, k).precisionSum / Math.min(relevant.size, k);

/**
 * Reciprocal rank of the first hit in the top k, 0 when none. Not in Recommenders'
 * python_evaluation; the standard definition (Voorhees, TREC-8 QA track, 1999).
 */
export const mrrAtK: PerUserMetric = (relevant, ranked, k) => {
  const first = hitStats(relevant, ranked, k).firstHitRank;
  return first === 0 ? 0 : 1 / first;
};

/** Every per-user metric by the name `rtrec evaluate --json` reports its mean under. */
export const METRICS = {
  precision: precisionAtK,
  recall: recallAtK,
  ndcg: ndcgAtK,
  map: averagePrecision,
  mapAtK,
  mrr: mrrAtK,
} as const satisfies Readonly<Record<string, PerUserMetric>>;

export type MetricName = keyof typeof METRICS;

/** Throws a RangeError unless k is a whole number ≥ 1. */
export function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a whole number >= 1, got ${k}`);
}
