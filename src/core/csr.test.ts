import { describe, expect, it } from 'vitest';
import { csrFromCoo, hasEntry, rowNnz, transpose } from './csr.js';

describe('csrFromCoo', () => {
  const rows = Int32Array.from([2, 0, 0, 2, 0]);
  const cols = Int32Array.from([1, 2, 0, 1, 2]);
  const vals = Float32Array.from([5, 1, 2, 3, 4]);

  it('sorts columns within each row and keeps the last duplicate by default', () => {
    const m = csrFromCoo(3, 3, rows, cols, vals);
    expect(Array.from(m.indptr)).toEqual([0, 2, 2, 3]);
    expect(Array.from(m.indices)).toEqual([0, 2, 1]);
    // (0,2) appears with 1 then 4: last wins; (2,1) appears with 5 then 3.
    expect(Array.from(m.data)).toEqual([2, 4, 3]);
  });

  it('sums or takes the max of duplicates when asked', () => {
    expect(Array.from(csrFromCoo(3, 3, rows, cols, vals, 'sum').data)).toEqual([2, 5, 8]);
    expect(Array.from(csrFromCoo(3, 3, rows, cols, vals, 'max').data)).toEqual([2, 4, 5]);
  });

  it('uses 1 for every entry when there are no values', () => {
    const m = csrFromCoo(3, 3, rows, cols, null, 'sum');
    expect(Array.from(m.data)).toEqual([1, 2, 2]);
  });

  it('answers membership and row sizes', () => {
    const m = csrFromCoo(3, 3, rows, cols, vals);
    expect(hasEntry(m, 0, 2)).toBe(true);
    expect(hasEntry(m, 0, 1)).toBe(false);
    expect(hasEntry(m, 1, 0)).toBe(false);
    expect(rowNnz(m, 0)).toBe(2);
    expect(rowNnz(m, 1)).toBe(0);
  });
});

describe('transpose', () => {
  it('swaps rows and columns and twice gives the original', () => {
    const m = csrFromCoo(2, 3, Int32Array.from([0, 0, 1]), Int32Array.from([0, 2, 2]), Float32Array.from([1, 2, 3]));
    const t = transpose(m);
    expect(t.rows).toBe(3);
    expect(Array.from(t.indptr)).toEqual([0, 1, 1, 3]);
    expect(Array.from(t.indices)).toEqual([0, 0, 1]);
    expect(Array.from(t.data)).toEqual([1, 2, 3]);
    const back = transpose(t);
    expect(Array.from(back.indptr)).toEqual(Array.from(m.indptr));
    expect(Array.from(back.indices)).toEqual(Array.from(m.indices));
    expect(Array.from(back.data)).toEqual(Array.from(m.data));
  });
});
