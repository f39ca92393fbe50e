import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.js';
import { RowScorer } from './row-scorer.js';

function reference(factors: Float32Array, rows: number, rank: number, vec: Float32Array, offset: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let a = 0; a < rank; a++) s += factors[r * rank + a] * vec[offset + a];
    out.push(s);
  }
  return out;
}

describe('RowScorer', () => {
  for (const [rows, rank] of [[1, 1], [5, 3], [8, 4], [101, 10], [257, 32], [30, 33]] as const) {
    it(`matches a plain loop for ${rows} rows of rank ${rank}, at any vector offset`, () => {
      const rng = createRng(rows * 100 + rank);
      const factors = Float32Array.from({ length: rows * rank }, () => rng.normal());
      const vecs = Float32Array.from({ length: 3 * rank }, () => rng.normal());
      const scorer = new RowScorer(factors, rows, rank);
      const out = new Float32Array(rows + 2).fill(99);
      for (const offset of [0, rank, 2 * rank]) {
        scorer.score(vecs, offset, out);
        const want = reference(factors, rows, rank, vecs, offset);
        for (let r = 0; r < rows; r++) expect(out[r]).toBeCloseTo(want[r], 4);
        // Entries past the rows are left alone.
        expect(out[rows]).toBe(99);
      }
    });
  }

  it('copies the rows in a given order and scores a range of them with the same bits as a full pass', () => {
    const rng = createRng(5);
    const rows = 103, rank = 9;
    const factors = Float32Array.from({ length: rows * rank }, () => rng.normal());
    const vec = Float32Array.from({ length: rank }, () => rng.normal());
    const order = Int32Array.from({ length: rows }, (_, r) => (r * 37) % rows);
    const full = new Float32Array(rows);
    new RowScorer(factors, rows, rank).score(vec, 0, full);
    const permuted = new RowScorer(factors, rows, rank, order);
    permuted.setVector(vec, 0);
    for (const [first, count] of [[0, 1], [4, 10], [100, 3], [8, 95]]) {
      const out = permuted.scoreRange(first, count);
      for (let p = first; p < first + count; p++) expect(out[p]).toBe(full[order[p]]);
    }
    expect(() => permuted.scoreRange(2, 4)).toThrow(RangeError);
    expect(() => permuted.scoreRange(100, 4)).toThrow(RangeError);
    expect(() => new RowScorer(factors, rows, rank, order.subarray(1))).toThrow(RangeError);
  });

  it('keeps its own copy of the rows', () => {
    const factors = Float32Array.of(1, 2, 3, 4);
    const scorer = new RowScorer(factors, 2, 2);
    factors.fill(0);
    const out = new Float32Array(2);
    scorer.score(Float32Array.of(1, 1), 0, out);
    expect([...out]).toEqual([3, 7]);
  });

  it('refuses a matrix shorter than rows × rank and a short output', () => {
    expect(() => new RowScorer(new Float32Array(5), 2, 3)).toThrow(RangeError);
    const scorer = new RowScorer(new Float32Array(6), 2, 3);
    expect(() => scorer.score(new Float32Array(3), 0, new Float32Array(1))).toThrow(RangeError);
  });
});
