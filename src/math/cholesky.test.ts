import { describe, it, expect } from 'vitest';
import { createRng } from '../core/rng.js';
import { choleskyFactor, choleskySolve } from './cholesky.js';
import { choleskyFactorReference, randomSpdMatrix, solveDense } from './reference.js';

function randomSpd(n: number, seed: number): Float64Array {
  return randomSpdMatrix(n, createRng(seed), 0.5);
}

describe('cholesky', () => {
  it('solves a hand-computed 2×2 system', () => {
    // [4 2; 2 3] x = [2; 1]  →  x = [0.5, 0]
    const a = new Float64Array([4, 2, 2, 3]);
    const b = new Float64Array([2, 1]);
    expect(choleskyFactor(a, 2)).toBe(true);
    choleskySolve(a, 2, b);
    expect(b[0]).toBeCloseTo(0.5, 12);
    expect(b[1]).toBeCloseTo(0, 12);
  });

  for (const n of [1, 3, 10, 37]) {
    it(`matches Gaussian elimination on a random SPD ${n}×${n} system`, () => {
      const a = randomSpd(n, n);
      const b = Float64Array.from({ length: n }, (_, i) => Math.sin(i + 1));
      const expected = solveDense(a, n, b);
      const l = a.slice();
      expect(choleskyFactor(l, n)).toBe(true);
      const x = b.slice();
      choleskySolve(l, n, x);
      for (let i = 0; i < n; i++) expect(x[i]).toBeCloseTo(expected[i], 8);
    });
  }

  it('factors bit for bit as the one-row-at-a-time loop, whatever n is modulo the four rows unrolled', () => {
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 32, 37, 64]) {
      const a = randomSpd(n, 100 + n);
      const fast = a.slice();
      const slow = a.slice();
      expect(choleskyFactor(fast, n)).toBe(true);
      expect(choleskyFactorReference(slow, n)).toBe(true);
      for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) expect(fast[i * n + j], `L[${i}][${j}] of ${n}×${n}`).toBe(slow[i * n + j]);
    }
  });

  it('reports a matrix that is not positive definite', () => {
    expect(choleskyFactor(new Float64Array([1, 2, 2, 1]), 2)).toBe(false);
    expect(choleskyFactor(new Float64Array([0, 0, 0, 1]), 2)).toBe(false);
  });
});
