import { describe, expect, it } from 'vitest';
import { averagePrecision, idealDcg, mapAtK, METRICS, mrrAtK, ndcgAtK, precisionAtK, recallAtK } from './metrics.js';

const ln = Math.log;
const list = (...items: number[]) => Int32Array.from(items);

describe('per-user ranking metrics (hand-computed)', () => {
  // relevant {1,3,5,7}; ranked [3,2,1,9,7]; k = 5 → hits at ranks 1 (item 3), 3 (item 1), 5 (item 7).
  const relevant = new Set([1, 3, 5, 7]);
  const ranked = list(3, 2, 1, 9, 7);

  it('precision@5 = 3 hits / 5', () => {
    expect(precisionAtK(relevant, ranked, 5)).toBeCloseTo(3 / 5, 12);
  });

  it('recall@5 = 3 hits / 4 relevant', () => {
    expect(recallAtK(relevant, ranked, 5)).toBeCloseTo(3 / 4, 12);
  });

  it('nDCG@5 = (1/ln2 + 1/ln4 + 1/ln6) / (1/ln2 + 1/ln3 + 1/ln4 + 1/ln5)', () => {
    // IDCG runs over min(4 relevant, k=5) = 4 positions.
    const dcg = 1 / ln(2) + 1 / ln(4) + 1 / ln(6);
    const idcg = 1 / ln(2) + 1 / ln(3) + 1 / ln(4) + 1 / ln(5);
    expect(ndcgAtK(relevant, ranked, 5)).toBeCloseTo(dcg / idcg, 12); // ≈ 2.7222 / 3.6956 ≈ 0.7366
  });

  it('average precision = (1/1 + 2/3 + 3/5) / 4 relevant', () => {
    expect(averagePrecision(relevant, ranked, 5)).toBeCloseTo((1 + 2 / 3 + 3 / 5) / 4, 12); // ≈ 0.5667
  });

  it('MAP@k divides by min(relevant, k): at k=3 the top 3 [3,2,1] hit at ranks 1 and 3', () => {
    // sum = 1/1 + 2/3 = 5/3; MAP@3 = (5/3)/min(4,3) = 5/9; AP(k=3) = (5/3)/4 = 5/12.
    expect(mapAtK(relevant, ranked, 3)).toBeCloseTo(5 / 9, 12);
    expect(averagePrecision(relevant, ranked, 3)).toBeCloseTo(5 / 12, 12);
    // At k=5, min(4,5) = 4, so MAP@5 equals AP.
    expect(mapAtK(relevant, ranked, 5)).toBeCloseTo((1 + 2 / 3 + 3 / 5) / 4, 12);
  });

  it('MRR = 1 / rank of the first hit', () => {
    expect(mrrAtK(relevant, ranked, 5)).toBe(1);
    expect(mrrAtK(relevant, list(2, 9, 5), 5)).toBeCloseTo(1 / 3, 12);
    expect(mrrAtK(relevant, list(2, 9, 5), 2)).toBe(0);
  });

  it('k larger than the list: precision still divides by k', () => {
    // relevant {1}; ranked [9, 1]; k = 10: one hit at rank 2.
    const rel = new Set([1]);
    const r = list(9, 1);
    expect(precisionAtK(rel, r, 10)).toBeCloseTo(1 / 10, 12);
    expect(recallAtK(rel, r, 10)).toBe(1);
    expect(ndcgAtK(rel, r, 10)).toBeCloseTo(1 / ln(3) / (1 / ln(2)), 12); // ln2/ln3 ≈ 0.6309
    expect(averagePrecision(rel, r, 10)).toBeCloseTo(1 / 2, 12);
    expect(mapAtK(rel, r, 10)).toBeCloseTo(1 / 2, 12);
  });

  it('only the first k entries count', () => {
    // relevant {1,2}; ranked [9, 8, 1, 2]; k = 2 → no hit.
    const rel = new Set([1, 2]);
    for (const metric of Object.values(METRICS)) expect(metric(rel, list(9, 8, 1, 2), 2)).toBe(0);
  });

  it('a repeated item hits once; a negative entry ends the list', () => {
    const rel = new Set([1, 2]);
    // [1, 1, 2]: hits at ranks 1 and 3 only.
    expect(precisionAtK(rel, list(1, 1, 2), 3)).toBeCloseTo(2 / 3, 12);
    expect(averagePrecision(rel, list(1, 1, 2), 3)).toBeCloseTo((1 + 2 / 3) / 2, 12);
    // [1, -1, 2]: the list is [1].
    expect(precisionAtK(rel, list(1, -1, 2), 3)).toBeCloseTo(1 / 3, 12);
  });

  it('a perfect list scores 1 on every metric but precision when fewer relevant than k', () => {
    const rel = new Set([4, 5]);
    const r = list(5, 4, 0);
    expect(recallAtK(rel, r, 3)).toBe(1);
    expect(ndcgAtK(rel, r, 3)).toBeCloseTo(1, 12);
    expect(averagePrecision(rel, r, 3)).toBeCloseTo(1, 12);
    expect(mapAtK(rel, r, 3)).toBeCloseTo(1, 12);
    expect(precisionAtK(rel, r, 3)).toBeCloseTo(2 / 3, 12);
  });

  it('no relevant items gives 0, not NaN', () => {
    for (const metric of Object.values(METRICS)) expect(metric(new Set(), list(1, 2), 2)).toBe(0);
  });

  it('rejects k < 1 or fractional k', () => {
    expect(() => precisionAtK(new Set([1]), list(1), 0)).toThrow(RangeError);
    expect(() => ndcgAtK(new Set([1]), list(1), 1.5)).toThrow(RangeError);
  });

  it('idealDcg sums 1/ln(1+i) over min(n, k) positions', () => {
    expect(idealDcg(5, 2)).toBeCloseTo(1 / ln(2) + 1 / ln(3), 12);
    expect(idealDcg(1, 10)).toBeCloseTo(1 / ln(2), 12);
    expect(idealDcg(0, 10)).toBe(0);
  });

  it('the registry names the functions under their report keys', () => {
    expect(METRICS.precision).toBe(precisionAtK);
    expect(METRICS.map).toBe(averagePrecision);
    expect(METRICS.mapAtK).toBe(mapAtK);
    expect(Object.keys(METRICS).sort()).toEqual(['map', 'mapAtK', 'mrr', 'ndcg', 'precision', 'recall']);
  });
});
