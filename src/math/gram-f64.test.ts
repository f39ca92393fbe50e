import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.js';
import { createFloat64Gram } from './gram-f64.js';

/** Σ_q g_q·g_qᵀ, lower triangle, plain loops. */
function referenceGram(columns: Float64Array, rank: number, stride: number, count: number): Float64Array {
  const a = new Float64Array(rank * rank);
  for (let i = 0; i < rank; i++) for (let j = 0; j <= i; j++) for (let q = 0; q < count; q++) a[i * rank + j] += columns[i * stride + q] * columns[j * stride + q];
  return a;
}

function strideFor(count: number): number {
  return Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(1, count))));
}

describe('Float64Gram (WebAssembly SIMD Gram sums)', () => {
  const gram = createFloat64Gram();

  it('is available on the Node versions rtrec supports', () => {
    expect(gram).not.toBeNull();
  });

  const cases: [number, number][] = [[1, 1], [2, 5], [7, 64], [32, 0], [32, 1], [32, 50], [33, 65], [16, 300]];
  for (const [rank, count] of cases) {
    it(`adds Σ g·gᵀ to the lower triangle at rank ${rank} over ${count} entries`, () => {
      const stride = strideFor(count);
      const rng = createRng(rank * 1000 + count);
      const g = gram!.reserve(rank, stride);
      // Junk past `count` in every column: it must not reach the sums.
      for (let x = 0; x < rank * stride; x++) g[x] = rng.normal();
      const copy = Float64Array.from(g);
      const a = Float64Array.from({ length: rank * rank }, (_, x) => x);
      gram!.addTo(a, rank, stride, count);
      const want = referenceGram(copy, rank, stride, count);
      for (let i = 0; i < rank; i++) {
        for (let j = 0; j < rank; j++) {
          const at = i * rank + j;
          // Added to what was there, on the lower triangle only.
          const expected = j <= i ? at + want[at] : at;
          expect(Math.abs(a[at] - expected)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(expected)));
        }
      }
    });
  }

  it('keeps working after its memory grows, and zeroes the padding column of an odd rank', () => {
    const g4 = gram!.reserve(4, 64);
    g4.fill(7);
    const rank = 3;
    const stride = 1 << 15;
    const rng = createRng(5);
    const g = gram!.reserve(rank, stride);
    for (let x = 0; x < rank * stride; x++) g[x] = rng.normal();
    const a = new Float64Array(rank * rank);
    gram!.addTo(a, rank, stride, stride);
    const want = referenceGram(Float64Array.from(g), rank, stride, stride);
    for (let i = 0; i < rank; i++) for (let j = 0; j <= i; j++) expect(a[i * rank + j]).toBeCloseTo(want[i * rank + j], 8);
  });

  it('refuses sums over a layout it was not given', () => {
    gram!.reserve(8, 64);
    expect(() => gram!.addTo(new Float64Array(64), 8, 128, 10)).toThrow(RangeError);
    expect(() => gram!.addTo(new Float64Array(100), 10, 64, 10)).toThrow(RangeError);
    expect(() => gram!.addTo(new Float64Array(64), 8, 64, 65)).toThrow(RangeError);
  });
});
