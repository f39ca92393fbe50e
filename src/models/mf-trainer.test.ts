import { describe, it, expect } from 'vitest';
import { initialFactors, splitRows } from './mf-trainer.js';

describe('splitRows', () => {
  it('covers every row exactly once with contiguous ranges of similar work', () => {
    // Row costs 11, 1, 1, 11, 11, 1, 11 (entries + 1): total 47, target 11.75 per chunk; a chunk
    // closes at the first row where its running cost reaches the target.
    const indptr = Int32Array.from([0, 10, 10, 10, 20, 30, 30, 40]);
    const chunks = splitRows(indptr, 7, 1, 4);
    expect(chunks[0][0]).toBe(0);
    expect(chunks[chunks.length - 1][1]).toBe(7);
    for (let c = 1; c < chunks.length; c++) expect(chunks[c][0]).toBe(chunks[c - 1][1]);
    expect(chunks).toEqual([[0, 2], [2, 4], [4, 6], [6, 7]]);
  });

  it('gives one chunk when asked for one, and none for no rows', () => {
    expect(splitRows(Int32Array.from([0, 5, 9]), 2, 1, 1)).toEqual([[0, 2]]);
    expect(splitRows(Int32Array.from([0]), 0, 1, 4)).toEqual([]);
  });
});

describe('initialFactors', () => {
  it('draws unit-length rows for explicit ALS (Spark) and small entries for implicit ALS, leaving padding zero', () => {
    const rank = 5, stride = 8, rows = 50;
    const als = new Float32Array(rows * stride);
    initialFactors('als', rows, rank, stride, 42, 0, als);
    for (let r = 0; r < rows; r++) {
      let norm = 0;
      for (let a = 0; a < rank; a++) norm += als[r * stride + a] ** 2;
      expect(norm).toBeCloseTo(1, 5);
      for (let a = rank; a < stride; a++) expect(als[r * stride + a]).toBe(0);
    }
    const ials = new Float32Array(rows * stride);
    initialFactors('ials', rows, rank, stride, 42, 0, ials);
    let sq = 0;
    for (const v of ials) sq += v * v;
    expect(Math.sqrt(sq / (rows * rank))).toBeGreaterThan(0.007);
    expect(Math.sqrt(sq / (rows * rank))).toBeLessThan(0.013);
    const other = new Float32Array(rows * stride);
    initialFactors('ials', rows, rank, stride, 42, 1, other);
    expect(other).not.toEqual(ials);
  });
});
