import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../core/rng.js';
import { NormOrderedRanker } from './norm-ordered-topk.js';
import { RowScorer } from './row-scorer.js';
import { topK } from './topk.js';

/** What the ranker must equal: every row scored by the full-pass kernel, exclusions at -Infinity, topK. */
function fullPass(factors: Float32Array, rows: number, rank: number, vec: Float32Array, k: number, exclude: readonly ArrayLike<number>[]) {
  const scores = new Float32Array(rows);
  new RowScorer(factors, rows, rank).score(vec, 0, scores);
  for (const list of exclude) for (const r of Array.from(list)) if (r >= 0 && r < rows) scores[r] = -Infinity;
  const { items, scores: top } = topK(scores, k);
  return { items: Array.from(items), scores: Array.from(top) };
}

/** Rows whose norms spread over decades, like item factors trained on Zipf-popular data. */
function skewedFactors(rng: Rng, rows: number, rank: number): Float32Array {
  const f = new Float32Array(rows * rank);
  for (let r = 0; r < rows; r++) {
    const scale = 5 / (1 + r) ** 0.9;
    for (let a = 0; a < rank; a++) f[r * rank + a] = rng.normal() * scale;
  }
  return f;
}

function check(factors: Float32Array, rows: number, rank: number, vec: Float32Array, k: number, exclude: readonly ArrayLike<number>[] = []) {
  const ranker = new NormOrderedRanker(factors, rows, rank);
  const got = ranker.topK(vec, 0, k, exclude);
  expect({ items: Array.from(got.items), scores: Array.from(got.scores) }).toEqual(fullPass(factors, rows, rank, vec, k, exclude));
  return ranker;
}

describe('NormOrderedRanker', () => {
  it('equals the full pass on skewed norms, for many vectors, k and exclusions, and skips most rows', () => {
    const rng = createRng(7);
    const rows = 5_000, rank = 32;
    const factors = skewedFactors(rng, rows, rank);
    const ranker = new NormOrderedRanker(factors, rows, rank);
    let scored = 0, calls = 0;
    for (let t = 0; t < 60; t++) {
      const vec = Float32Array.from({ length: rank }, () => rng.normal());
      const k = [1, 10, 110, 500][t % 4];
      const exclude = [Int32Array.from({ length: 30 }, () => rng.int(60)), Int32Array.from({ length: 5 }, () => rng.int(rows))];
      const got = ranker.topK(vec, 0, k, exclude);
      expect({ items: Array.from(got.items), scores: Array.from(got.scores) }).toEqual(fullPass(factors, rows, rank, vec, k, exclude));
      if (k > 110) continue;
      scored += ranker.lastScored;
      calls++;
    }
    // The point of it: the bound stops the scan early on such factors (for k up to the 110 of a
    // served list with spares).
    expect(scored / calls).toBeLessThan(rows / 4);
  });

  it('equals the full pass on factors of equal norms, where it scores every row', () => {
    const rng = createRng(8);
    const rows = 2_003, rank = 16;
    const factors = Float32Array.from({ length: rows * rank }, () => rng.normal());
    for (let t = 0; t < 10; t++) {
      const vec = Float32Array.from({ length: rank }, () => rng.normal());
      check(factors, rows, rank, vec, 1 + rng.int(200), [Int32Array.from({ length: 50 }, () => rng.int(rows))]);
    }
  });

  it('reads the vector at an offset and works for ranks that are not a multiple of four', () => {
    const rng = createRng(9);
    const rows = 777, rank = 7;
    const factors = skewedFactors(rng, rows, rank);
    const vecs = Float32Array.from({ length: 3 * rank }, () => rng.normal());
    const ranker = new NormOrderedRanker(factors, rows, rank);
    const got = ranker.topK(vecs, 2 * rank, 20, []);
    expect(Array.from(got.items)).toEqual(fullPass(factors, rows, rank, vecs.slice(2 * rank), 20, []).items);
  });

  it('breaks ties towards the lower row, whatever the norm order puts first', () => {
    // Rows 0..5 score 1 for v = e0, row 6 scores 2; equal rows share a norm, zero rows score 0.
    const rank = 4, rows = 12;
    const factors = new Float32Array(rows * rank);
    for (const r of [5, 3, 0, 4, 1, 2]) factors[r * rank] = 1;
    factors[6 * rank] = 2;
    factors[7 * rank + 1] = 9; // large norm, scores 0
    const vec = Float32Array.of(1, 0, 0, 0);
    for (const k of [1, 2, 4, 7, 12, 20]) check(factors, rows, rank, vec, k);
    check(factors, rows, rank, vec, 3, [Int32Array.of(0, 6, 99, -1)]);
  });

  it('keeps scanning past a k-th score that overflowed to +Infinity (a later row may tie)', () => {
    // Rows 1..300 and row 0 all score +Infinity in float32; row 0 has the smallest norm of them,
    // so it comes after the first block, and wins the tie by its index.
    const rows = 302;
    const factors = new Float32Array(rows).fill(3e38);
    factors[0] = 2.9e38;
    factors[301] = 1;
    const ranker = check(factors, rows, 1, Float32Array.of(2), 1);
    expect(Array.from(ranker.topK(Float32Array.of(2), 0, 1, []).items)).toEqual([0]);
  });

  it('keeps scanning while every score is negative (the bound proves nothing below zero)', () => {
    const rng = createRng(10);
    const rows = 1_000, rank = 8;
    const factors = skewedFactors(rng, rows, rank);
    for (let r = 0; r < rows; r++) factors[r * rank] = Math.abs(factors[r * rank]) + 0.01;
    const vec = Float32Array.of(-1, 0, 0, 0, 0, 0, 0, 0);
    const ranker = check(factors, rows, rank, vec, 10);
    expect(ranker.lastScored).toBe(rows);
  });

  it('returns fewer than k when exclusions leave fewer rows, and nothing for k = 0 or no rows', () => {
    const factors = Float32Array.of(1, 0, 0, 1, 1, 1);
    const ranker = new NormOrderedRanker(factors, 3, 2);
    const got = ranker.topK(Float32Array.of(1, 2), 0, 5, [Int32Array.of(2)]);
    expect(Array.from(got.items)).toEqual([1, 0]);
    expect(Array.from(got.scores)).toEqual([2, 1]);
    // Exclusions do not leak into the next call.
    expect(Array.from(ranker.topK(Float32Array.of(1, 2), 0, 5, []).items)).toEqual([2, 1, 0]);
    expect(ranker.topK(Float32Array.of(1, 2), 0, 0, []).items.length).toBe(0);
    expect(new NormOrderedRanker(new Float32Array(0), 0, 2).topK(Float32Array.of(1, 2), 0, 3, []).items.length).toBe(0);
  });

  it('refuses a matrix shorter than rows × rank', () => {
    expect(() => new NormOrderedRanker(new Float32Array(5), 2, 3)).toThrow(RangeError);
  });
});
